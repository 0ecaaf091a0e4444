package delivery_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hooksentry/hooksentry/pkg/delivery"
	"github.com/hooksentry/hooksentry/pkg/delivery/deliverytest"
	"github.com/hooksentry/hooksentry/pkg/destination"
	"github.com/hooksentry/hooksentry/pkg/event"
	"github.com/hooksentry/hooksentry/pkg/history"
	"github.com/hooksentry/hooksentry/pkg/testkit"
)

// newHistoryFixture is a worker fixture whose worker records history.
func newHistoryFixture(t *testing.T) (*workerFixture, *deliverytest.Recorder) {
	t.Helper()
	f := newWorkerFixture(t)
	rec := &deliverytest.Recorder{}
	f.w.History = rec
	return f, rec
}

// answers makes the receiver answer the n-th request with statuses[n-1]
// and a body naming it.
func answers(statuses ...int) func(w http.ResponseWriter, r *http.Request, n int) {
	return func(w http.ResponseWriter, _ *http.Request, n int) {
		w.WriteHeader(statuses[min(n, len(statuses))-1])
		fmt.Fprintf(w, "answer %d", n)
	}
}

// comparable makes the changes comparable: attempt durations are real
// time, so they are checked for being set and then cleared.
func comparable(t *testing.T, changes []history.Change) []history.Change {
	t.Helper()
	out := slices.Clone(changes)
	for i, c := range out {
		if c.Attempt == nil {
			continue
		}
		a := *c.Attempt
		if a.Duration <= 0 {
			t.Errorf("change %d (%s): attempt duration %v, want it measured", i, c.Event.EventID, a.Duration)
		}
		a.Duration = 0
		out[i].Attempt = &a
	}
	return out
}

// sentEvents are the event messages the worker put back on the queue
// (no drain or probe requests).
func (f *workerFixture) sentEvents() []event.Message {
	sent, _ := f.queue.messages()
	evs, _, _ := testkit.SplitMessages(sent)
	return evs
}

// TestHistoryRecordsEachBatchOnce: a delivered batch gives one Record
// call per destination with a Delivered change per event, attempt 1 and
// its status, and nothing else (the cost of the success path).
func TestHistoryRecordsEachBatchOnce(t *testing.T) {
	f, rec := newHistoryFixture(t)
	now := f.clock.Now()
	d1 := f.addDestination(destination.Active, 5, delivery.State{})
	d2 := f.addDestination(destination.Active, 5, delivery.State{})
	msgs := append(f.events(d1, 2), f.events(d2, 1)...)
	msgs[2].EventID = "e3"
	if failed := f.handle(t, batch(t, msgs...)); len(failed) != 0 {
		t.Fatalf("batch item failures: got %v, want none", failed)
	}
	delivered := func(m event.Message) history.Change {
		return history.Change{Event: m, Status: history.Delivered, DeliveredAt: now, Attempt: &history.Attempt{
			Number: 1, StartedAt: now, Trigger: history.Automatic, Delivered: true, StatusCode: http.StatusOK,
		}}
	}
	want := map[string][]history.Change{
		d1.ID: {delivered(msgs[0]), delivered(msgs[1])},
		d2.ID: {delivered(msgs[2])},
	}
	calls := rec.Calls()
	got := map[string][]history.Change{}
	for _, c := range calls {
		got[c.Changes[0].Event.DestinationID] = comparable(t, c.Changes)
	}
	if len(calls) != 2 || !reflect.DeepEqual(got, want) {
		t.Errorf("Record calls: got %d, %+v; want one per destination, %+v", len(calls), got, want)
	}
	c := f.store.Calls()
	sent, enqueued := f.queue.messages()
	if len(c.Holds)+len(c.Puts)+len(c.Suspends)+len(sent)+len(enqueued) != 0 || len(c.Releases) != 2 {
		t.Errorf("store and queue calls: got %+v, sent %v, enqueued %v; want two lease releases and nothing else", c, sent, enqueued)
	}
}

// TestHistoryAttemptsOfOneEvent follows one event through its attempts:
// each failure records Pending with its due time, the answer and the
// attempt number, each retry message says the record exists, and a
// replay numbers on from its prior attempts, Manual first.
func TestHistoryAttemptsOfOneEvent(t *testing.T) {
	type step struct {
		status   int
		want     history.Status
		next     time.Duration // from the attempt to the retry's due time; 0: none
		number   int
		trigger  history.Trigger
		recorded bool // the Change's event says the record exists
	}
	for _, tc := range []struct {
		name   string
		prior  int
		manual bool
		steps  []step
	}{
		{"500, 500, 200", 0, false, []step{
			{500, history.Pending, 500 * time.Millisecond, 1, history.Automatic, false},
			{500, history.Pending, time.Second, 2, history.Automatic, true},
			{200, history.Delivered, 0, 3, history.Automatic, true},
		}},
		{"replay after 3 attempts: 500, 200", 3, true, []step{
			{500, history.Pending, 500 * time.Millisecond, 4, history.Manual, true},
			{200, history.Delivered, 0, 5, history.Automatic, true},
		}},
		{"attempts spent: Failed", 0, false, []step{
			{500, history.Pending, 500 * time.Millisecond, 1, history.Automatic, false},
			{502, history.Pending, time.Second, 2, history.Automatic, true},
			{503, history.Pending, 2 * time.Second, 3, history.Automatic, true},
			{504, history.Pending, 4 * time.Second, 4, history.Automatic, true},
			{500, history.Failed, 0, 5, history.Automatic, true},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, rec := newHistoryFixture(t)
			f.w.Config.FailureThreshold = 100 // the breaker stays out of it
			var statuses []int
			for _, s := range tc.steps {
				statuses = append(statuses, s.status)
			}
			f.recv.SetRespond(answers(statuses...))
			d := f.addDestination(destination.Active, 5, delivery.State{})
			m := f.events(d, 1)[0]
			// A replay's message: the record exists, its attempts start over.
			m.Prior, m.Manual, m.Recorded = tc.prior, tc.manual, tc.manual
			for i, s := range tc.steps {
				before := len(f.sentEvents())
				at := f.clock.Now()
				if failed := f.handle(t, batch(t, m)); len(failed) != 0 {
					t.Fatalf("attempt %d: batch item failures %v", s.number, failed)
				}
				calls := rec.Calls()
				if len(calls) != i+1 || len(calls[i].Changes) != 1 {
					t.Fatalf("attempt %d: got Record calls %+v, want one more with one change", s.number, calls)
				}
				want := history.Change{Event: m, Status: s.want, Attempt: &history.Attempt{
					Number: s.number, StartedAt: at, Trigger: s.trigger, Delivered: s.status == 200, StatusCode: s.status,
				}}
				want.Event.Recorded = s.recorded
				switch {
				case s.status == 200:
					want.DeliveredAt = at
				default:
					want.Attempt.Error, want.Attempt.ResponseBody = history.ErrStatus, fmt.Appendf(nil, "answer %d", i+1)
				}
				if s.next > 0 {
					want.NextAttemptAt = at.Add(s.next)
				}
				if got := comparable(t, calls[i].Changes)[0]; !reflect.DeepEqual(got, want) {
					t.Errorf("attempt %d: got change %+v\n%+v; want %+v\n%+v", s.number, got, got.Attempt, want, want.Attempt)
				}
				// The destination sees the number the history shows, and
				// the same event id on every attempt.
				reqs := f.recv.Requests()
				if len(reqs) != i+1 {
					t.Fatalf("attempt %d: the destination saw %d requests, want %d", s.number, len(reqs), i+1)
				}
				for name, want := range map[string]string{"HookSentry-Attempt": strconv.Itoa(s.number), "HookSentry-Event-Id": m.EventID} {
					if got := reqs[i].Header.Values(name); !reflect.DeepEqual(got, []string{want}) {
						t.Errorf("attempt %d: %s got %q, want [%q]", s.number, name, got, want)
					}
				}
				sent := f.sentEvents()[before:]
				if s.next == 0 {
					if len(sent) != 0 {
						t.Errorf("attempt %d: re-sent %+v, want nothing", s.number, sent)
					}
					continue
				}
				if len(sent) != 1 {
					t.Fatalf("attempt %d: re-sent %+v, want the retry", s.number, sent)
				}
				if !sent[0].Recorded || sent[0].Manual || sent[0].Prior != tc.prior {
					t.Errorf("attempt %d: retry message Recorded %v, Manual %v, Prior %d; want true, false, %d", s.number, sent[0].Recorded, sent[0].Manual, sent[0].Prior, tc.prior)
				}
				m = sent[0]
				f.clock.Set(time.UnixMilli(m.NotBefore))
			}
			if tc.steps[len(tc.steps)-1].want == history.Failed {
				if puts := f.store.Calls().Puts; len(puts) != 1 || !puts[0].Msg.Recorded {
					t.Errorf("PutEvent: got %+v, want the Failed event, Recorded", puts)
				}
			}
		})
	}
}

// TestHistoryOfAStoredEvent: a reference's change carries the stored
// event in full; its retry is a reference again, Recorded.
func TestHistoryOfAStoredEvent(t *testing.T) {
	f, rec := newHistoryFixture(t)
	f.recv.SetRespond(answers(500))
	d := f.addDestination(destination.Active, 5, delivery.State{})
	full := f.events(d, 1)[0]
	if err := f.store.PutEvent(t.Context(), full, event.StatusPending, f.clock.Now().Add(5*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if failed := f.handle(t, batch(t, full.Reference())); len(failed) != 0 {
		t.Fatalf("batch item failures: %v", failed)
	}
	changes := rec.Changes()
	if len(changes) != 1 || !reflect.DeepEqual(changes[0].Event, full) || changes[0].Status != history.Pending {
		t.Errorf("changes: got %+v, want one Pending change of the full event %+v", changes, full)
	}
	sent := f.sentEvents()
	if len(sent) != 1 || !sent[0].Stored || sent[0].Body != nil || !sent[0].Recorded || sent[0].Attempts != 1 {
		t.Errorf("re-sent: got %+v, want the reference with Attempts 1, Recorded", sent)
	}
}

// TestAttemptHeaderOfAStoredEvent: a reference may carry fewer attempts
// than its stored copy (it was retried through another message); the
// event's count is the higher, in HookSentry-Attempt as in the history.
func TestAttemptHeaderOfAStoredEvent(t *testing.T) {
	f, rec := newHistoryFixture(t)
	d := f.addDestination(destination.Active, 5, delivery.State{})
	full := f.events(d, 1)[0]
	full.Attempts, full.Recorded = 2, true
	if err := f.store.PutEvent(t.Context(), full, event.StatusPending, f.clock.Now().Add(5*time.Minute)); err != nil {
		t.Fatal(err)
	}
	ref := full.Reference()
	ref.Attempts = 0
	if failed := f.handle(t, batch(t, ref)); len(failed) != 0 {
		t.Fatalf("batch item failures: %v", failed)
	}
	changes := rec.Changes()
	if len(changes) != 1 || changes[0].Attempt == nil || changes[0].Attempt.Number != 3 {
		t.Fatalf("changes: got %+v, want one with attempt 3", changes)
	}
	r := onlyRequest(t, f.recv)
	if got, want := r.Header.Values("HookSentry-Attempt"), []string{"3"}; !reflect.DeepEqual(got, want) {
		t.Errorf("HookSentry-Attempt: got %q, want %q", got, want)
	}
}

// TestHistoryOfHeldEvents: events held on arrival record Held without an
// attempt, and their holds say the record exists.
func TestHistoryOfHeldEvents(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status destination.Status
		state  func(now time.Time) delivery.State
	}{
		{"Inactive", destination.Inactive, func(time.Time) delivery.State { return delivery.State{} }},
		{"Suspended, cooling down", destination.Suspended, func(now time.Time) delivery.State {
			return delivery.State{OpenUntil: now.Add(30 * time.Second), Cooldown: cooldown, Failures: threshold}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, rec := newHistoryFixture(t)
			d := f.addDestination(tc.status, 5, tc.state(f.clock.Now()))
			msgs := f.events(d, 2)
			msgs[1].Recorded, msgs[1].Attempts = true, 2 // a retry
			if failed := f.handle(t, batch(t, msgs...)); len(failed) != 0 {
				t.Fatalf("batch item failures: %v", failed)
			}
			want := []history.Change{{Event: msgs[0], Status: history.Held}, {Event: msgs[1], Status: history.Held}}
			if calls := rec.Calls(); len(calls) != 1 || !reflect.DeepEqual(calls[0].Changes, want) {
				t.Errorf("Record calls: got %+v, want one with %+v", calls, want)
			}
			held := f.store.Held(d.ID)
			if len(held) != 2 {
				t.Fatalf("held: got %d, want 2", len(held))
			}
			for _, h := range held {
				if !h.Message.Recorded {
					t.Errorf("hold of %s: Recorded false, want true", h.Message.EventID)
				}
			}
		})
	}
}

// TestHistoryOfProbes: a probe is an Automatic attempt, even of a
// replayed event; a failed probe records Held (or Failed, when spent)
// with its attempt, a successful one Delivered, and the events it
// re-queues Pending.
func TestHistoryOfProbes(t *testing.T) {
	for _, tc := range []struct {
		name      string
		status    int
		attempts  int // of the probe event, before
		want      history.Status
		wantOther history.Status // of the second event
	}{
		{"probe fails", 500, 0, history.Held, history.Held},
		{"probe fails, attempts spent", 500, maxAttempts - 1, history.Failed, history.Held},
		{"probe succeeds", 200, 0, history.Delivered, history.Pending},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, rec := newHistoryFixture(t)
			f.recv.SetRespond(answers(tc.status))
			now := f.clock.Now()
			d := f.addDestination(destination.Suspended, 5, delivery.State{Failures: threshold, OpenUntil: now.Add(-time.Second), Cooldown: cooldown})
			msgs := f.events(d, 2)
			msgs[0].Attempts, msgs[0].Manual, msgs[0].Recorded = tc.attempts, true, true // a replay
			if failed := f.handle(t, batch(t, msgs...)); len(failed) != 0 {
				t.Fatalf("batch item failures: %v", failed)
			}
			calls := rec.Calls()
			if len(calls) != 1 || len(calls[0].Changes) != 2 {
				t.Fatalf("Record calls: got %+v, want one with two changes", calls)
			}
			probe, other := calls[0].Changes[0], calls[0].Changes[1]
			a := probe.Attempt
			if probe.Status != tc.want || a == nil || a.Number != tc.attempts+1 || a.Trigger != history.Automatic || a.StatusCode != tc.status || probe.Event.Attempts != tc.attempts {
				t.Errorf("probe change: got %+v, attempt %+v; want %s, attempt %d Automatic with %d", probe, a, tc.want, tc.attempts+1, tc.status)
			}
			if other.Status != tc.wantOther || other.Attempt != nil || other.Event.EventID != msgs[1].EventID {
				t.Errorf("other change: got %+v, want %s without an attempt", other, tc.wantOther)
			}
			for _, h := range f.store.Held(d.ID) {
				if !h.Message.Recorded || h.Message.Manual {
					t.Errorf("hold of %s: Recorded %v, Manual %v; want true, false", h.Message.EventID, h.Message.Recorded, h.Message.Manual)
				}
			}
			for _, m := range f.sentEvents() {
				if !m.Recorded {
					t.Errorf("re-queued %s: Recorded false, want true", m.EventID)
				}
			}
		})
	}
}

// TestHistoryOfAProbeOfAHeldEvent: a probe request's held event records
// its attempt; a held event the probe cannot attempt stays as it is and
// records nothing.
func TestHistoryOfAProbeOfAHeldEvent(t *testing.T) {
	for _, tc := range []struct {
		name      string
		sealer    bool // KMS unavailable: no attempt
		wantCalls int
	}{
		{"probe fails", false, 1},
		{"no attempt: the held event stays", true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, rec := newHistoryFixture(t)
			f.recv.SetRespond(answers(500))
			now := f.clock.Now()
			st := delivery.State{Failures: threshold, OpenUntil: now.Add(-time.Second), Cooldown: cooldown}
			d := f.addDestination(destination.Suspended, 5, st)
			if tc.sealer {
				f.w.Sealer = failingSealer{}
				d.AuthType, d.Sealed = destination.AuthBearerToken, &destination.Sealed{Ciphertext: []byte("c"), EncryptedKey: []byte("k")}
				f.store.AddDestination(d, st)
			}
			m := f.events(d, 1)[0]
			m.Recorded = true
			if _, err := f.store.Hold(t.Context(), m, now.Add(-time.Minute)); err != nil {
				t.Fatal(err)
			}
			if failed := f.handle(t, batch(t, event.ProbeRequest(d.ID, now))); len(failed) != 0 {
				t.Fatalf("batch item failures: %v", failed)
			}
			calls := rec.Calls()
			if len(calls) != tc.wantCalls {
				t.Fatalf("Record calls: got %+v, want %d", calls, tc.wantCalls)
			}
			if tc.wantCalls == 0 {
				return
			}
			if c := calls[0].Changes; len(c) != 1 || c[0].Status != history.Held || c[0].Attempt == nil || c[0].Attempt.Number != 1 {
				t.Errorf("changes: got %+v, want Held with attempt 1", c)
			}
		})
	}
}

// TestHistoryOfRequeuedEvents: an event re-queued without an attempt (no
// slot) records Pending once; re-queued again, nothing.
func TestHistoryOfRequeuedEvents(t *testing.T) {
	f, rec := newHistoryFixture(t)
	// A clock that moves a second per reading, so the wait for a slot ends.
	var mu sync.Mutex
	now := f.clock.Now()
	f.w.Now = func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(time.Second)
		return now
	}
	busy := delivery.State{Leases: map[string]delivery.Lease{"other-worker": {Slots: 1, Expires: now.Add(time.Hour)}}}
	d := f.addDestination(destination.Active, 1, busy)
	m := f.events(d, 1)[0]
	for round, wantCalls := range []int{1, 1} {
		if failed := f.handle(t, batch(t, m)); len(failed) != 0 {
			t.Fatalf("round %d: batch item failures %v", round+1, failed)
		}
		if got := len(rec.Calls()); got != wantCalls {
			t.Errorf("round %d: Record calls %d, want %d", round+1, got, wantCalls)
		}
		sent := f.sentEvents()
		if len(sent) != round+1 || !sent[round].Recorded || sent[round].Attempts != 0 {
			t.Fatalf("round %d: re-queued %+v, want the event unattempted, Recorded", round+1, sent)
		}
		m = sent[round]
	}
	if got, want := rec.Changes(), []history.Change{{Event: f.events(d, 1)[0], Status: history.Pending}}; !reflect.DeepEqual(got, want) {
		t.Errorf("changes: got %+v, want %+v", got, want)
	}
	if got := len(f.recv.Requests()); got != 0 {
		t.Errorf("deliveries: got %d, want 0", got)
	}
}

// TestHistoryRecorderFailure: history is observability; when it cannot
// be written the batch is settled as usual and the messages keep the
// Recorded flag they had.
func TestHistoryRecorderFailure(t *testing.T) {
	for _, tc := range []struct {
		name     string
		status   destination.Status
		answer   int
		recorded bool // as received
	}{
		{"delivered", destination.Active, 200, false},
		{"retried, no record yet", destination.Active, 500, false},
		{"retried, record exists", destination.Active, 500, true},
		{"held, no record yet", destination.Inactive, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, rec := newHistoryFixture(t)
			rec.Fail(errors.New("dynamodb unavailable"))
			f.recv.SetRespond(answers(max(tc.answer, 200)))
			d := f.addDestination(tc.status, 5, delivery.State{})
			m := f.events(d, 1)[0]
			m.Recorded = tc.recorded
			if failed := f.handle(t, batch(t, m)); len(failed) != 0 {
				t.Errorf("batch item failures: got %v, want none", failed)
			}
			if calls := rec.Calls(); len(calls) != 1 || calls[0].Err == nil {
				t.Errorf("Record calls: got %+v, want one, failed", calls)
			}
			var went []event.Message // the messages that go on
			for _, h := range f.store.Calls().Holds {
				went = append(went, h.Msg)
			}
			went = append(went, f.sentEvents()...)
			wantWent := map[int]int{200: 0, 500: 1, 0: 1}[tc.answer]
			if len(went) != wantWent {
				t.Fatalf("messages sent or held: got %+v, want %d", went, wantWent)
			}
			for _, g := range went {
				if g.Recorded != tc.recorded {
					t.Errorf("%s: Recorded %v, want %v as received", g.EventID, g.Recorded, tc.recorded)
				}
			}
			if tc.answer == 200 && len(f.recv.Requests()) != 1 {
				t.Errorf("deliveries: got %d, want 1", len(f.recv.Requests()))
			}
		})
	}
}

// TestHistoryNil: without a Recorder nothing is recorded, events are
// delivered and retried, and a replay's Manual flag still goes after its
// attempt.
func TestHistoryNil(t *testing.T) {
	f := newWorkerFixture(t)
	f.recv.SetRespond(answers(500, 200))
	d := f.addDestination(destination.Active, 5, delivery.State{})
	m := f.events(d, 1)[0]
	m.Manual, m.Prior = true, 2
	if failed := f.handle(t, batch(t, m)); len(failed) != 0 {
		t.Fatalf("batch item failures: %v", failed)
	}
	sent := f.sentEvents()
	if len(sent) != 1 || sent[0].Recorded || sent[0].Manual || sent[0].Attempts != 1 {
		t.Fatalf("re-sent: got %+v, want the retry with Attempts 1, not Recorded, not Manual", sent)
	}
	f.clock.Set(time.UnixMilli(sent[0].NotBefore))
	if failed := f.handle(t, batch(t, sent[0])); len(failed) != 0 {
		t.Fatalf("batch item failures: %v", failed)
	}
	if got := len(f.recv.Requests()); got != 2 {
		t.Errorf("deliveries: got %d, want 2", got)
	}
	if got := len(f.sentEvents()); got != 1 {
		t.Errorf("re-sent after the delivery: got %d messages in all, want the 1 retry", got)
	}
}

// TestHistoryRedactsTheAnswer: a destination that echoes its bearer token
// does not put it into history.
func TestHistoryRedactsTheAnswer(t *testing.T) {
	f, rec := newHistoryFixture(t)
	f.recv.SetRespond(echoHeaders(false, ""))
	d := f.addDestination(destination.Active, 5, delivery.State{})
	d.AuthType = destination.AuthBearerToken
	f.w.Sealer = staticSealer{creds: `{"token":"bt-history-secret"}`}
	d.Sealed = &destination.Sealed{Ciphertext: []byte("c"), EncryptedKey: []byte("k")}
	f.store.AddDestination(d, delivery.State{})
	if failed := f.handle(t, batch(t, f.events(d, 1)...)); len(failed) != 0 {
		t.Fatalf("batch item failures: %v", failed)
	}
	if got := onlyRequest(t, f.recv).Header.Get("Authorization"); got != "Bearer bt-history-secret" {
		t.Fatalf("Authorization: got %q, want the bearer token", got)
	}
	changes := rec.Changes()
	if len(changes) != 1 || changes[0].Attempt == nil {
		t.Fatalf("changes: got %+v, want one with an attempt", changes)
	}
	body := string(changes[0].Attempt.ResponseBody)
	if want := "Authorization: Bearer [redacted]\n"; !strings.Contains(body, want) || strings.Contains(body, "bt-history-secret") {
		t.Errorf("kept answer:\n%s\nwant %q and not the token", body, want)
	}
}

// staticSealer opens every destination's credentials to creds (JSON).
type staticSealer struct{ creds string }

func (staticSealer) Seal(context.Context, []byte, map[string]string) (destination.Sealed, error) {
	return destination.Sealed{}, errors.New("not used")
}

func (s staticSealer) Open(context.Context, destination.Sealed, map[string]string) ([]byte, error) {
	return []byte(s.creds), nil
}

// TestHistoryRecordsASlowBatchPendingAtOnce: an event whose attempt takes
// long (a slow destination, a wait for a slot) is readable as Pending
// before the attempt ends (CONTRACT §5: readable within 5 s), and its final
// change then updates that record.
func TestHistoryRecordsASlowBatchPendingAtOnce(t *testing.T) {
	f, rec := newHistoryFixture(t)
	f.w.Config.RecordPendingAfter = 10 * time.Millisecond
	release := make(chan struct{})
	f.recv.SetRespond(func(w http.ResponseWriter, _ *http.Request, _ int) {
		<-release // the attempt cannot end before the test has seen Pending
		w.WriteHeader(http.StatusOK)
	})
	d := f.addDestination(destination.Active, 5, delivery.State{})
	msgs := f.events(d, 2)
	done := make(chan []string)
	go func() { done <- f.handle(t, batch(t, msgs...)) }()

	testkit.WaitFor(t, 10*time.Second, "the Pending records", func() bool { return len(rec.Calls()) == 1 })
	first := rec.Calls()[0].Changes
	if len(first) != 2 {
		t.Fatalf("first Record call: got %+v, want a Pending change per event", first)
	}
	for _, c := range first {
		if c.Status != history.Pending || c.Attempt != nil || c.Event.Recorded || !c.NextAttemptAt.IsZero() {
			t.Errorf("first change: got %+v, want Pending without attempt, creating the record", c)
		}
	}
	close(release)
	if failed := <-done; len(failed) != 0 {
		t.Fatalf("batch item failures: got %v", failed)
	}
	calls := rec.Calls()
	if len(calls) != 2 {
		t.Fatalf("Record calls: got %d, want 2 (Pending, then the outcome)", len(calls))
	}
	for _, c := range calls[1].Changes {
		if c.Status != history.Delivered || c.Attempt == nil || !c.Event.Recorded {
			t.Errorf("final change: got %+v, want Delivered with its attempt, updating the record", c)
		}
	}
}

// TestHistoryFastBatchWritesOnce: a batch that settles before
// RecordPendingAfter writes no Pending record first.
func TestHistoryFastBatchWritesOnce(t *testing.T) {
	f, rec := newHistoryFixture(t)
	f.w.Config.RecordPendingAfter = time.Minute
	d := f.addDestination(destination.Active, 5, delivery.State{})
	if failed := f.handle(t, batch(t, f.events(d, 3)...)); len(failed) != 0 {
		t.Fatalf("batch item failures: got %v", failed)
	}
	if calls := rec.Calls(); len(calls) != 1 || len(calls[0].Changes) != 3 || calls[0].Changes[0].Status != history.Delivered {
		t.Errorf("Record calls: got %+v, want one with 3 Delivered changes", calls)
	}
}

// TestHistoryRedeliveredMessageMayFindItsRecord: a message SQS delivered
// before may find its record written already (the worker died after
// recording): its creation says so, and the store never overwrites.
func TestHistoryRedeliveredMessageMayFindItsRecord(t *testing.T) {
	f, rec := newHistoryFixture(t)
	d := f.addDestination(destination.Active, 5, delivery.State{})
	msgs := f.events(d, 2)
	ev := batch(t, msgs...)
	ev.Records[1].Attributes = map[string]string{"ApproximateReceiveCount": "2"}
	if failed := f.handle(t, ev); len(failed) != 0 {
		t.Fatalf("batch item failures: got %v", failed)
	}
	got := map[string]bool{}
	for _, c := range rec.Changes() {
		got[c.Event.EventID] = c.MayExist
	}
	if want := map[string]bool{msgs[0].EventID: false, msgs[1].EventID: true}; !reflect.DeepEqual(got, want) {
		t.Errorf("MayExist by event: got %v, want %v", got, want)
	}
}

// TestHistoryRecordsEventsSQSDeliversAgainPending: events of a batch that
// cannot be attempted (KMS unavailable) wait for SQS to deliver them again,
// minutes later: they are readable as Pending meanwhile, once.
func TestHistoryRecordsEventsSQSDeliversAgainPending(t *testing.T) {
	f, rec := newHistoryFixture(t)
	f.w.Sealer = failingSealer{}
	d := f.addDestination(destination.Active, 5, delivery.State{})
	d.AuthType, d.Sealed = destination.AuthBearerToken, &destination.Sealed{Ciphertext: []byte("c"), EncryptedKey: []byte("k")}
	f.store.AddDestination(d, delivery.State{})
	msgs := f.events(d, 2)
	msgs[1].Recorded = true // recorded before: nothing to write
	if failed := f.handle(t, batch(t, msgs...)); len(failed) != 2 {
		t.Fatalf("batch item failures: got %v, want both", failed)
	}
	changes := rec.Changes()
	if len(changes) != 1 || changes[0].Event.EventID != msgs[0].EventID || changes[0].Status != history.Pending || changes[0].Attempt != nil {
		t.Errorf("changes: got %+v, want one Pending without attempt, for the event without a record", changes)
	}
}

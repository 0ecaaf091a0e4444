package delivery_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/hooksentry/hooksentry/pkg/delivery"
	"github.com/hooksentry/hooksentry/pkg/delivery/deliverytest"
	"github.com/hooksentry/hooksentry/pkg/destination"
	"github.com/hooksentry/hooksentry/pkg/event"
	"github.com/hooksentry/hooksentry/pkg/testkit"
)

// workerFixture is a Worker over in-memory fakes, with an injected clock and
// an HTTPS receiver as the destination.
type workerFixture struct {
	w     *delivery.Worker
	store *deliverytest.Fake
	n     int
	queue *fakeQueue
	recv  *testkit.Receiver
	clock *fakeClock
}

const (
	maxAttempts = 5
	threshold   = 3
	cooldown    = time.Minute
)

func newWorkerFixture(t *testing.T) *workerFixture {
	t.Helper()
	ca := testkit.NewCA(t, t.TempDir())
	client := newClient(t, ca, true)
	clock := newClock(time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC))
	f := &workerFixture{store: deliverytest.NewFake(), queue: &fakeQueue{}, recv: testkit.NewReceiver(t, ca), clock: clock}
	f.w = &delivery.Worker{
		Store:   f.store,
		Queue:   f.queue,
		Sender:  &delivery.Sender{Client: client, Tokens: &delivery.TokenCache{Client: client, Now: clock.Now}, Timeout: 5 * time.Second, Now: clock.Now},
		Backoff: delivery.Backoff{Base: time.Second, Max: time.Minute, Rand: fixedRand(0)},
		Config: delivery.Config{
			MaxAttempts: maxAttempts, FailureThreshold: threshold,
			Cooldown: cooldown, MaxCooldown: time.Hour, MaxSlotWait: time.Second,
		},
		Now: clock.Now,
		Log: slog.New(slog.DiscardHandler),
	}
	return f
}

// addDestination stores a destination pointing at the receiver.
func (f *workerFixture) addDestination(status destination.Status, limit int, st delivery.State) destination.Destination {
	f.n++
	d := destination.Destination{
		ID: fmt.Sprintf("dest-%d", f.n), TenantID: "tenant-1", URL: f.recv.URL + "/hook",
		Status: status, ServerRateLimit: limit, Version: 1,
	}
	f.store.AddDestination(d, st)
	return d
}

// events returns n messages for d with ids e1..en, received in that order.
func (f *workerFixture) events(d destination.Destination, n int) []event.Message {
	var out []event.Message
	for i := 1; i <= n; i++ {
		out = append(out, event.Message{
			Version: 1, EventID: fmt.Sprintf("e%d", i), DestinationID: d.ID, TenantID: d.TenantID,
			ReceivedAt:  f.clock.Now().Add(time.Duration(i-60) * time.Second).UnixMilli(),
			ContentType: "application/json", Headers: [][2]string{{"X-Sig", "a,b"}},
			Body: []byte(fmt.Sprintf(`{"n":%d}`, i)),
		})
	}
	return out
}

// messageID is the SQS message id the batch gives m.
func messageID(m event.Message) string { return "msg-" + m.EventID }

func batch(t *testing.T, msgs ...event.Message) events.SQSEvent {
	t.Helper()
	var ev events.SQSEvent
	for _, m := range msgs {
		body, err := m.Encode()
		if err != nil {
			t.Fatal(err)
		}
		ev.Records = append(ev.Records, events.SQSMessage{MessageId: messageID(m), Body: body})
	}
	return ev
}

func (f *workerFixture) handle(t *testing.T, ev events.SQSEvent) []string {
	t.Helper()
	resp, err := f.w.Handle(context.Background(), ev)
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	var failed []string
	for _, it := range resp.BatchItemFailures {
		failed = append(failed, it.ItemIdentifier)
	}
	slices.Sort(failed)
	return failed
}

func eventIDs(msgs []event.Message) []string {
	var ids []string
	for _, m := range msgs {
		ids = append(ids, m.EventID)
	}
	slices.Sort(ids)
	return ids
}

func heldIDs(holds []deliverytest.HoldCall) []string {
	var ids []string
	for _, h := range holds {
		ids = append(ids, h.Msg.EventID)
	}
	slices.Sort(ids)
	return ids
}

// checkFlagged: after holding, the destination is in the sweeper's index.
func (f *workerFixture) checkFlagged(t *testing.T, d destination.Destination) {
	t.Helper()
	if !f.store.Flagged(d.ID) {
		t.Errorf("destination %s holds events but is not flagged for the sweeper", d.ID)
	}
}

func TestWorkerDeliversAndReleasesLease(t *testing.T) {
	f := newWorkerFixture(t)
	d := f.addDestination(destination.Active, 5, delivery.State{Failures: 2})
	msgs := f.events(d, 3)
	if failed := f.handle(t, batch(t, msgs...)); len(failed) != 0 {
		t.Errorf("batch item failures: got %v, want none", failed)
	}
	if got := len(f.recv.Requests()); got != 3 {
		t.Errorf("deliveries: got %d, want 3", got)
	}
	c := f.store.Calls()
	holds, puts, suspends, releases := c.Holds, c.Puts, c.Suspends, c.Releases
	sent, enqueued := f.queue.messages()
	if len(holds)+len(puts)+len(suspends)+len(sent)+len(enqueued) != 0 {
		t.Errorf("got holds %v, puts %v, suspends %v, sent %v, enqueued %v; want none", holds, puts, suspends, sent, enqueued)
	}
	if len(releases) != 1 || releases[0].Outcome != (delivery.Outcome{Succeeded: true}) {
		t.Errorf("ReleaseLease calls: got %+v, want one with a success and no trailing failures", releases)
	}
	st, _ := f.store.LoadState(context.Background(), d.ID)
	if len(st.Leases) != 0 || st.Failures != 0 {
		t.Errorf("state after the batch: got leases %v, failures %d; want none and 0", st.Leases, st.Failures)
	}
}

func TestWorkerDeliversStoredEventBody(t *testing.T) {
	f := newWorkerFixture(t)
	d := f.addDestination(destination.Active, 5, delivery.State{})
	full := f.events(d, 1)[0]
	full.Body = []byte("a body too large for a message, in spirit")
	if err := f.store.PutEvent(context.Background(), full, "Pending", f.clock.Now().Add(5*time.Minute)); err != nil {
		t.Fatal(err)
	}
	ref := full.Reference()
	if failed := f.handle(t, batch(t, ref)); len(failed) != 0 {
		t.Errorf("batch item failures: got %v, want none", failed)
	}
	got := onlyRequest(t, f.recv)
	if string(got.Body) != string(full.Body) || got.Header.Get("X-Sig") != "a,b" {
		t.Errorf("delivered body %q, X-Sig %q; want the stored %q and a,b", got.Body, got.Header.Get("X-Sig"), full.Body)
	}
	if _, _, found, _ := f.store.GetEvent(context.Background(), full.EventID); found {
		t.Errorf("stored event still present after delivery")
	}
}

func TestWorkerDropsEventsOfMissingDestination(t *testing.T) {
	f := newWorkerFixture(t)
	gone := destination.Destination{ID: "deleted-dest", TenantID: "tenant-1"}
	msgs := f.events(gone, 2)
	stored := msgs[1]
	stored.Body, stored.Stored = nil, true
	msgs[1] = stored
	if err := f.store.PutEvent(context.Background(), f.events(gone, 2)[1], "Pending", f.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if failed := f.handle(t, batch(t, msgs...)); len(failed) != 0 {
		t.Errorf("batch item failures: got %v, want none", failed)
	}
	if got := len(f.recv.Requests()); got != 0 {
		t.Errorf("deliveries: got %d, want 0", got)
	}
	c := f.store.Calls()
	holds, puts, suspends := c.Holds, c.Puts, c.Suspends
	sent, enqueued := f.queue.messages()
	if len(holds)+len(suspends)+len(sent)+len(enqueued) != 0 || len(puts) != 1 {
		t.Errorf("got holds %v, puts %v, suspends %v, sent %v, enqueued %v; want nothing but the setup put", holds, puts, suspends, sent, enqueued)
	}
	if _, _, found, _ := f.store.GetEvent(context.Background(), stored.EventID); found {
		t.Errorf("stored event of the deleted destination: still present, want deleted")
	}
}

func TestWorkerHoldsWhenNotActive(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status destination.Status
		state  func(now time.Time) delivery.State
	}{
		{"Inactive", destination.Inactive, func(time.Time) delivery.State { return delivery.State{} }},
		{"Suspended, cooling down", destination.Suspended, func(now time.Time) delivery.State {
			return delivery.State{OpenUntil: now.Add(30 * time.Second), Cooldown: cooldown, Failures: threshold}
		}},
		{"Suspended, probe in flight elsewhere", destination.Suspended, func(now time.Time) delivery.State {
			return delivery.State{OpenUntil: now.Add(-time.Second), ProbeUntil: now.Add(10 * time.Second), Cooldown: cooldown}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newWorkerFixture(t)
			d := f.addDestination(tc.status, 5, tc.state(f.clock.Now()))
			msgs := f.events(d, 4)
			msgs[2].Attempts = 2
			if failed := f.handle(t, batch(t, msgs...)); len(failed) != 0 {
				t.Errorf("batch item failures: got %v, want none", failed)
			}
			if got := len(f.recv.Requests()); got != 0 {
				t.Errorf("deliveries: got %d, want 0", got)
			}
			c := f.store.Calls()
			holds, puts, suspends, releases := c.Holds, c.Puts, c.Suspends, c.Releases
			if got, want := heldIDs(holds), eventIDs(msgs); !reflect.DeepEqual(got, want) {
				t.Errorf("held: got %v, want %v", got, want)
			}
			f.checkFlagged(t, d)
			for _, h := range holds {
				i := slices.IndexFunc(msgs, func(m event.Message) bool { return m.EventID == h.Msg.EventID })
				if !reflect.DeepEqual(h.Msg, msgs[i]) {
					t.Errorf("held %s: got %+v, want the message unchanged (no attempt spent) %+v", h.Msg.EventID, h.Msg, msgs[i])
				}
			}
			sent, enqueued := f.queue.messages()
			if len(puts)+len(suspends)+len(releases)+len(sent)+len(enqueued) != 0 {
				t.Errorf("got puts %v, suspends %v, releases %v, sent %v, enqueued %v; want none", puts, suspends, releases, sent, enqueued)
			}
		})
	}
}

func TestWorkerEarlyMessages(t *testing.T) {
	for _, tc := range []struct {
		name        string
		notBefore   time.Duration // from now
		wantResent  bool
		wantAttempt bool
	}{
		{"due in ten minutes: re-sent", 10 * time.Minute, true, false},
		{"due in an hour: re-sent", time.Hour, true, false},
		{"due within the second: attempted", 500 * time.Millisecond, false, true},
		{"overdue: attempted", -time.Minute, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newWorkerFixture(t)
			d := f.addDestination(destination.Active, 5, delivery.State{})
			m := f.events(d, 1)[0]
			m.Attempts = 2
			m.NotBefore = f.clock.Now().Add(tc.notBefore).UnixMilli()
			if failed := f.handle(t, batch(t, m)); len(failed) != 0 {
				t.Errorf("batch item failures: got %v, want none", failed)
			}
			sent, _ := f.queue.messages()
			if tc.wantResent && (len(sent) != 1 || !reflect.DeepEqual(sent[0], m)) {
				t.Errorf("re-sent: got %+v, want exactly the message, unchanged", sent)
			}
			if !tc.wantResent && len(sent) != 0 {
				t.Errorf("re-sent: got %+v, want nothing", sent)
			}
			if got, want := len(f.recv.Requests()), map[bool]int{true: 1, false: 0}[tc.wantAttempt]; got != want {
				t.Errorf("deliveries: got %d, want %d", got, want)
			}
		})
	}
}

func TestWorkerReportsUndecodableMessages(t *testing.T) {
	f := newWorkerFixture(t)
	d := f.addDestination(destination.Active, 5, delivery.State{})
	ev := batch(t, f.events(d, 1)...)
	ev.Records = append(ev.Records,
		events.SQSMessage{MessageId: "not-json", Body: "{{{"},
		events.SQSMessage{MessageId: "wrong-version", Body: `{"v":9,"id":"x","d":"` + d.ID + `"}`},
		events.SQSMessage{MessageId: "no-destination", Body: `{"v":1,"id":"x"}`},
	)
	failed := f.handle(t, ev)
	if want := []string{"no-destination", "not-json", "wrong-version"}; !reflect.DeepEqual(failed, want) {
		t.Errorf("batch item failures: got %v, want %v", failed, want)
	}
	if got := len(f.recv.Requests()); got != 1 {
		t.Errorf("deliveries: got %d, want the 1 readable event", got)
	}
}

func TestWorkerRetriesFailedAttempts(t *testing.T) {
	for _, tc := range []struct {
		name          string
		attempts      int // before this one
		retryAfter    string
		wantNotBefore time.Duration // from now; 0 when stored as Failed
	}{
		{"first failure", 0, "", 500 * time.Millisecond},
		{"third failure", 2, "", 2 * time.Second},
		{"Retry-After longer than the backoff", 1, "120", 2 * time.Minute},
		{"Retry-After shorter than the backoff", 3, "1", 4 * time.Second},
		{"one attempt left", maxAttempts - 2, "", 4 * time.Second},
		{"last attempt: stored as Failed", maxAttempts - 1, "", 0},
		{"already past the limit: stored as Failed", maxAttempts + 3, "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newWorkerFixture(t)
			f.recv.SetRespond(func(w http.ResponseWriter, _ *http.Request, _ int) {
				if tc.retryAfter != "" {
					w.Header().Set("Retry-After", tc.retryAfter)
				}
				w.WriteHeader(http.StatusServiceUnavailable)
			})
			d := f.addDestination(destination.Active, 5, delivery.State{})
			m := f.events(d, 1)[0]
			m.Attempts = tc.attempts
			if failed := f.handle(t, batch(t, m)); len(failed) != 0 {
				t.Errorf("batch item failures: got %v, want none", failed)
			}
			if got := len(f.recv.Requests()); got != 1 {
				t.Fatalf("deliveries: got %d, want 1", got)
			}
			puts := f.store.Calls().Puts
			sent, _ := f.queue.messages()
			want := m
			want.Attempts = tc.attempts + 1
			if tc.wantNotBefore == 0 {
				if len(sent) != 0 {
					t.Errorf("re-sent: got %+v, want nothing", sent)
				}
				if len(puts) != 1 || puts[0].Status != "Failed" || !reflect.DeepEqual(puts[0].Msg, want) {
					t.Fatalf("PutEvent: got %+v, want one Failed event %+v", puts, want)
				}
				if string(puts[0].Msg.Body) != string(m.Body) {
					t.Errorf("Failed event body: got %q, want %q", puts[0].Msg.Body, m.Body)
				}
				return
			}
			want.NotBefore = f.clock.Now().Add(tc.wantNotBefore).UnixMilli()
			if len(puts) != 0 {
				t.Errorf("PutEvent: got %+v, want none", puts)
			}
			if len(sent) != 1 || !reflect.DeepEqual(sent[0], want) {
				t.Errorf("re-sent: got %+v, want %+v", sent, want)
			}
		})
	}
}

func TestWorkerTripsBreakerAndHoldsTheRest(t *testing.T) {
	for _, tc := range []struct {
		name          string
		priorFailures int // recorded by other workers
		wantAttempts  int
	}{
		{"failures within the batch", 0, threshold},
		{"failures across workers", threshold - 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newWorkerFixture(t)
			f.recv.SetRespond(func(w http.ResponseWriter, _ *http.Request, _ int) { w.WriteHeader(http.StatusBadGateway) })
			// One slot: a single lane takes the events in batch order.
			d := f.addDestination(destination.Active, 1, delivery.State{Failures: tc.priorFailures})
			msgs := f.events(d, 5)
			if failed := f.handle(t, batch(t, msgs...)); len(failed) != 0 {
				t.Errorf("batch item failures: got %v, want none", failed)
			}
			if got := len(f.recv.Requests()); got != tc.wantAttempts {
				t.Errorf("deliveries: got %d, want %d", got, tc.wantAttempts)
			}
			c := f.store.Calls()
			holds, suspends, releases := c.Holds, c.Suspends, c.Releases
			wantSuspend := []deliverytest.SuspendCall{{DestinationID: d.ID, OpenUntil: f.clock.Now().Add(cooldown), Cooldown: cooldown}}
			if !reflect.DeepEqual(suspends, wantSuspend) {
				t.Errorf("Suspend calls: got %+v, want %+v", suspends, wantSuspend)
			}
			if got := f.store.Destination(d.ID).Status; got != destination.Suspended {
				t.Errorf("status: got %s, want Suspended", got)
			}
			if got, want := heldIDs(holds), eventIDs(msgs[tc.wantAttempts:]); !reflect.DeepEqual(got, want) {
				t.Errorf("held: got %v, want %v", got, want)
			}
			f.checkFlagged(t, d)
			all, _ := f.queue.messages()
			sent, _, probes := testkit.SplitMessages(all)
			if got, want := eventIDs(sent), eventIDs(msgs[:tc.wantAttempts]); !reflect.DeepEqual(got, want) {
				t.Errorf("retried: got %v, want %v", got, want)
			}
			// Defect 10: the probe is asked for when the cooldown ends, not
			// left to the next sweep.
			if want := f.clock.Now().Add(cooldown).UnixMilli(); len(probes) != 1 || probes[0].DestinationID != d.ID || probes[0].NotBefore != want {
				t.Errorf("probe requests: got %+v, want one for %s at the end of the cooldown (%d)", probes, d.ID, want)
			}
			for _, m := range sent {
				if m.Attempts != 1 {
					t.Errorf("retried %s with Attempts %d, want 1", m.EventID, m.Attempts)
				}
			}
			wantRelease := delivery.Outcome{TrailingFailures: tc.wantAttempts}
			if len(releases) != 1 || releases[0].Outcome != wantRelease {
				t.Errorf("ReleaseLease calls: got %+v, want one with %+v", releases, wantRelease)
			}
		})
	}
}

func TestWorkerProbesSuspendedDestination(t *testing.T) {
	for _, tc := range []struct {
		name         string
		status       int
		wantStatus   destination.Status
		wantCooldown time.Duration
	}{
		{"probe succeeds", http.StatusOK, destination.Active, 0},
		{"probe fails", http.StatusInternalServerError, destination.Suspended, 2 * cooldown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newWorkerFixture(t)
			f.recv.SetRespond(func(w http.ResponseWriter, _ *http.Request, _ int) { w.WriteHeader(tc.status) })
			now := f.clock.Now()
			d := f.addDestination(destination.Suspended, 5, delivery.State{Failures: threshold, OpenUntil: now.Add(-time.Second), Cooldown: cooldown})
			msgs := f.events(d, 3)
			if failed := f.handle(t, batch(t, msgs...)); len(failed) != 0 {
				t.Errorf("batch item failures: got %v, want none", failed)
			}
			if got := len(f.recv.Requests()); got != 1 {
				t.Errorf("deliveries: got %d, want exactly one probe", got)
			}
			if got := f.store.Destination(d.ID).Status; got != tc.wantStatus {
				t.Errorf("status: got %s, want %s", got, tc.wantStatus)
			}
			st, _ := f.store.LoadState(context.Background(), d.ID)
			if st.Cooldown != tc.wantCooldown {
				t.Errorf("cooldown: got %v, want %v", st.Cooldown, tc.wantCooldown)
			}
			c := f.store.Calls()
			holds, puts := c.Holds, c.Puts
			sent, _ := f.queue.messages()
			if len(puts) != 0 {
				t.Errorf("PutEvent: got %+v, want none", puts)
			}
			if tc.status != http.StatusOK {
				// Every event is held; the failed probe spent an attempt and
				// is held behind the others, so it is not the next probe.
				if got, want := heldIDs(holds), eventIDs(msgs); !reflect.DeepEqual(got, want) {
					t.Errorf("held: got %v, want %v", got, want)
				}
				held := f.store.Held(d.ID)
				if last := held[len(held)-1].Message; last.EventID != msgs[0].EventID || last.Attempts != 1 {
					t.Errorf("last held: got %s with %d attempts, want the probe %s with 1", last.EventID, last.Attempts, msgs[0].EventID)
				}
				for _, h := range held[:len(held)-1] {
					if h.Message.Attempts != 0 {
						t.Errorf("held %s with Attempts %d, want 0", h.Message.EventID, h.Message.Attempts)
					}
				}
				if !st.OpenUntil.Equal(now.Add(2 * cooldown)) {
					t.Errorf("openUntil: got %v, want %v", st.OpenUntil, now.Add(2*cooldown))
				}
				events, drains, probes := testkit.SplitMessages(sent)
				if len(events)+len(drains) != 0 || len(probes) != 1 || probes[0].NotBefore != now.Add(2*cooldown).UnixMilli() {
					t.Errorf("sent: got %+v, want only a probe request at the new end of the cooldown", sent)
				}
				return
			}
			// The probe was delivered, the rest re-queued, and a drain requested.
			if len(holds) != 0 {
				t.Errorf("held: got %v, want none", heldIDs(holds))
			}
			var drains, requeued []event.Message
			for _, m := range sent {
				if m.Drain {
					drains = append(drains, m)
				} else {
					requeued = append(requeued, m)
				}
			}
			if len(drains) != 1 || drains[0].DestinationID != d.ID {
				t.Errorf("drain messages: got %+v, want one for %s", drains, d.ID)
			}
			if len(requeued) != len(msgs)-1 {
				t.Errorf("re-queued: got %v, want the %d events besides the probe", eventIDs(requeued), len(msgs)-1)
			}
			if st.Failures != 0 || !st.OpenUntil.IsZero() {
				t.Errorf("breaker after recovery: failures %d, openUntil %v; want reset", st.Failures, st.OpenUntil)
			}
		})
	}
}

// TestWorkerReportsUnsettledEvents: an event whose retry cannot be queued
// is reported so SQS delivers it again; nothing is lost.
func TestWorkerReportsUnsettledEvents(t *testing.T) {
	f := newWorkerFixture(t)
	f.recv.SetRespond(func(w http.ResponseWriter, _ *http.Request, _ int) { w.WriteHeader(http.StatusInternalServerError) })
	f.queue.err = errors.New("sqs unavailable")
	d := f.addDestination(destination.Active, 5, delivery.State{})
	msgs := f.events(d, 2)
	failed := f.handle(t, batch(t, msgs...))
	if want := []string{messageID(msgs[0]), messageID(msgs[1])}; !reflect.DeepEqual(failed, want) {
		t.Errorf("batch item failures: got %v, want %v", failed, want)
	}
}

// failingSealer stands for KMS being unavailable.
type failingSealer struct{}

func (failingSealer) Seal(context.Context, []byte, map[string]string) (destination.Sealed, error) {
	return destination.Sealed{}, errors.New("kms unavailable")
}

func (failingSealer) Open(context.Context, destination.Sealed, map[string]string) ([]byte, error) {
	return nil, errors.New("kms unavailable")
}

func TestWorkerDoesNotBlameTheDestinationForUnavailableCredentials(t *testing.T) {
	f := newWorkerFixture(t)
	f.w.Sealer = failingSealer{}
	d := f.addDestination(destination.Active, 5, delivery.State{Failures: threshold - 1})
	d.AuthType, d.Sealed = destination.AuthBearerToken, &destination.Sealed{Ciphertext: []byte("c"), EncryptedKey: []byte("k")}
	f.store.AddDestination(d, delivery.State{Failures: threshold - 1})
	msgs := f.events(d, 3)
	failed := f.handle(t, batch(t, msgs...))
	if len(failed) != 3 {
		t.Errorf("batch item failures: got %v, want all 3 (SQS delivers them again)", failed)
	}
	if got := len(f.recv.Requests()); got != 0 {
		t.Errorf("deliveries: got %d, want 0", got)
	}
	c := f.store.Calls()
	holds, puts, suspends, releases := c.Holds, c.Puts, c.Suspends, c.Releases
	sent, enqueued := f.queue.messages()
	if len(holds)+len(puts)+len(suspends)+len(releases)+len(sent)+len(enqueued) != 0 {
		t.Errorf("got holds %v, puts %v, suspends %v, releases %v, sent %v, enqueued %v; want nothing: no attempt spent, no breaker input, no lease",
			holds, puts, suspends, releases, sent, enqueued)
	}
}

// TestWorkerLogsEachAttempt: with LogAttempts, one line per attempt with
// the event, the destination, the outcome, the status and the duration;
// without it, none.
func TestWorkerLogsEachAttempt(t *testing.T) {
	for _, on := range []bool{true, false} {
		f := newWorkerFixture(t)
		var logs testkit.LogBuffer
		f.w.Log = slog.New(slog.NewJSONHandler(&logs, nil))
		f.w.Config.LogAttempts = on
		f.recv.SetRespond(func(w http.ResponseWriter, r *http.Request, n int) {
			if n == 1 {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			w.WriteHeader(http.StatusOK)
		})
		d := f.addDestination(destination.Active, 1, delivery.State{})
		msgs := f.events(d, 2)
		if failed := f.handle(t, batch(t, msgs...)); len(failed) != 0 {
			t.Fatalf("batch item failures: %v", failed)
		}
		var lines []map[string]any
		for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
			var rec map[string]any
			if json.Unmarshal([]byte(l), &rec) == nil && rec["msg"] == "delivery attempt" {
				lines = append(lines, rec)
			}
		}
		if !on {
			if len(lines) != 0 {
				t.Errorf("LogAttempts off: got %d attempt lines, want none", len(lines))
			}
			continue
		}
		if len(lines) != 2 {
			t.Fatalf("attempt lines: got %d, want 2:\n%s", len(lines), logs.String())
		}
		got := map[string]string{}
		for _, l := range lines {
			if l["destinationId"] != d.ID || l["attempt"] != float64(1) || l["durationMs"] == nil {
				t.Errorf("attempt line %v: want destination %s, attempt 1, a duration", l, d.ID)
			}
			got[fmt.Sprint(l["outcome"], " ", l["status"])] = fmt.Sprint(l["eventId"])
		}
		if len(got) != 2 || got["failed 503"] == "" || got["delivered 200"] == "" {
			t.Errorf("outcomes: got %v, want one failed 503 and one delivered 200", got)
		}
	}
}

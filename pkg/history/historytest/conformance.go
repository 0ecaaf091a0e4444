package historytest

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/hooksentry/hooksentry/pkg/apperror"
	"github.com/hooksentry/hooksentry/pkg/event"
	"github.com/hooksentry/hooksentry/pkg/history"
)

// Harness adapts one implementation to Run.
type Harness struct {
	// New returns the implementation under test, keeping records for
	// Retention after their receipt. Tests use fresh random destination
	// ids, so a store may be shared across tests.
	New       func(t *testing.T) Store
	Retention time.Duration
}

// now is the injected present of every case: a whole second, so that
// expiry boundaries (kept in Unix seconds) fall exactly on it.
var now = time.Date(2026, 7, 3, 14, 32, 0, 0, time.UTC)

// Run holds an implementation to the behaviour the deliver function and
// the events API rely on (CONTRACT §5).
func Run(t *testing.T, h Harness) {
	ctx := context.Background()

	t.Run("a created record reads back in full", func(t *testing.T) {
		s := h.New(t)
		binary := []byte{0x00, 0xff, 0xfe, '\n', 0x80, 'a', 0x00}
		tests := []struct {
			name   string
			change func(m event.Message) history.Change
			want   func(r history.Record) history.Record
		}{
			{
				name: "delivered at the first attempt",
				change: func(m event.Message) history.Change {
					a := attempt(1, m, 35*time.Millisecond, 120*time.Millisecond, true, 204, "", nil)
					return history.Change{Event: m, Status: history.Delivered, Attempt: &a, DeliveredAt: a.StartedAt.Add(a.Duration)}
				},
				want: func(r history.Record) history.Record {
					r.Status, r.AttemptCount = history.Delivered, 1
					r.LastAttemptAt = r.ReceivedAt.Add(35 * time.Millisecond)
					r.DeliveredAt = r.ReceivedAt.Add(155 * time.Millisecond)
					r.Attempts = []history.Attempt{{Number: 1, StartedAt: r.LastAttemptAt, Duration: 120 * time.Millisecond,
						Trigger: history.Automatic, Delivered: true, StatusCode: 204}}
					return r
				},
			},
			{
				name: "binary body, failed attempt with an answer, retry due",
				change: func(m event.Message) history.Change {
					m.ContentType, m.Body = "application/octet-stream", binary
					a := attempt(1, m, 2*time.Second, 15*time.Second, false, 503, history.ErrStatus, []byte("busy, \x00 come back later"))
					return history.Change{Event: m, Status: history.Pending, Attempt: &a, NextAttemptAt: m0(m).Add(time.Minute)}
				},
				want: func(r history.Record) history.Record {
					r.ContentType, r.Body = "application/octet-stream", binary
					r.Status, r.AttemptCount = history.Pending, 1
					r.LastAttemptAt, r.NextAttemptAt = r.ReceivedAt.Add(2*time.Second), r.ReceivedAt.Add(time.Minute)
					r.Attempts = []history.Attempt{{Number: 1, StartedAt: r.LastAttemptAt, Duration: 15 * time.Second,
						Trigger: history.Automatic, StatusCode: 503, Error: history.ErrStatus, ResponseBody: []byte("busy, \x00 come back later")}}
					return r
				},
			},
			{
				name: "failed without a response: no status code, no answer",
				change: func(m event.Message) history.Change {
					a := attempt(1, m, time.Millisecond, 15*time.Second, false, 0, history.ErrTimeout, nil)
					return history.Change{Event: m, Status: history.Pending, Attempt: &a, NextAttemptAt: m0(m).Add(5 * time.Second)}
				},
				want: func(r history.Record) history.Record {
					r.Status, r.AttemptCount = history.Pending, 1
					r.LastAttemptAt, r.NextAttemptAt = r.ReceivedAt.Add(time.Millisecond), r.ReceivedAt.Add(5*time.Second)
					r.Attempts = []history.Attempt{{Number: 1, StartedAt: r.LastAttemptAt, Duration: 15 * time.Second,
						Trigger: history.Automatic, Error: history.ErrTimeout}}
					return r
				},
			},
			{
				name: "held, never attempted, empty body and no headers",
				change: func(m event.Message) history.Change {
					m.ContentType, m.Headers, m.Body, m.Verified, m.Alert = "", nil, nil, "", false
					return history.Change{Event: m, Status: history.Held}
				},
				want: func(r history.Record) history.Record {
					r.ContentType, r.Headers, r.Body, r.Status, r.Verified, r.Alert = "", nil, nil, history.Held, "", false
					return r
				},
			},
			{
				name: "a manual replay's first attempt numbers on from the prior attempts",
				change: func(m event.Message) history.Change {
					m.Prior, m.Manual = 10, true
					a := attempt(11, m, time.Hour, 80*time.Millisecond, false, 400, history.ErrStatus, []byte(strings.Repeat("e", history.MaxResponseBody)))
					a.Trigger = history.Manual
					return history.Change{Event: m, Status: history.Failed, Attempt: &a}
				},
				want: func(r history.Record) history.Record {
					r.Status, r.AttemptCount, r.LastAttemptAt = history.Failed, 11, r.ReceivedAt.Add(time.Hour)
					r.Attempts = []history.Attempt{{Number: 11, StartedAt: r.LastAttemptAt, Duration: 80 * time.Millisecond,
						Trigger: history.Manual, StatusCode: 400, Error: history.ErrStatus, ResponseBody: []byte(strings.Repeat("e", history.MaxResponseBody))}}
					return r
				},
			},
		}
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				d := newDest()
				m := message(d, now.Add(-time.Duration(i+1)*time.Hour+7*time.Millisecond))
				record(t, s, tt.change(m))
				got := get(t, s, m.EventID)
				checkRecord(t, got, tt.want(base(m, h.Retention)))
			})
		}
	})

	t.Run("sub-millisecond times are kept to the millisecond", func(t *testing.T) {
		s := h.New(t)
		m := message(newDest(), now.Add(-time.Hour))
		a := attempt(1, m, 0, 0, false, 500, history.ErrStatus, nil)
		a.StartedAt, a.Duration = m0(m).Add(1500*time.Microsecond), 2999*time.Microsecond
		record(t, s, history.Change{Event: m, Status: history.Pending, Attempt: &a, NextAttemptAt: m0(m).Add(time.Second + 999*time.Microsecond)})
		got := get(t, s, m.EventID)
		want := base(m, h.Retention)
		want.Status, want.AttemptCount = history.Pending, 1
		want.LastAttemptAt, want.NextAttemptAt = want.ReceivedAt.Add(time.Millisecond), want.ReceivedAt.Add(time.Second)
		want.Attempts = []history.Attempt{{Number: 1, StartedAt: want.LastAttemptAt, Duration: 2 * time.Millisecond,
			Trigger: history.Automatic, StatusCode: 500, Error: history.ErrStatus}}
		checkRecord(t, got, want)
	})

	t.Run("updates append attempts across calls", func(t *testing.T) {
		s := h.New(t)
		m := message(newDest(), now.Add(-time.Hour))
		a1 := attempt(1, m, 10*time.Millisecond, time.Second, false, 500, history.ErrStatus, []byte("first"))
		record(t, s, history.Change{Event: m, Status: history.Pending, Attempt: &a1, NextAttemptAt: m0(m).Add(5 * time.Second)})

		m.Recorded, m.Attempts = true, 1
		a2 := attempt(2, m, 6*time.Second, 2*time.Second, false, 429, history.ErrStatus, []byte("second"))
		record(t, s, history.Change{Event: m, Status: history.Pending, Attempt: &a2, NextAttemptAt: m0(m).Add(20 * time.Second)})
		got := get(t, s, m.EventID)
		if got.Status != history.Pending || got.AttemptCount != 2 || !got.NextAttemptAt.Equal(m0(m).Add(20*time.Second)) || len(got.Attempts) != 2 {
			t.Errorf("after the second attempt: got status %s, count %d, next %v, %d attempts; want Pending, 2, %v, 2",
				got.Status, got.AttemptCount, got.NextAttemptAt, len(got.Attempts), m0(m).Add(20*time.Second))
		}

		m.Attempts = 2
		a3 := attempt(3, m, 25*time.Second, 300*time.Millisecond, true, 200, "", nil)
		record(t, s, history.Change{Event: m, Status: history.Delivered, Attempt: &a3, DeliveredAt: m0(m).Add(25300 * time.Millisecond)})

		want := base(m, h.Retention)
		want.Status, want.AttemptCount = history.Delivered, 3
		want.LastAttemptAt, want.DeliveredAt = m0(m).Add(25*time.Second), m0(m).Add(25300*time.Millisecond)
		want.Attempts = []history.Attempt{
			{Number: 1, StartedAt: m0(m).Add(10 * time.Millisecond), Duration: time.Second, Trigger: history.Automatic, StatusCode: 500, Error: history.ErrStatus, ResponseBody: []byte("first")},
			{Number: 2, StartedAt: m0(m).Add(6 * time.Second), Duration: 2 * time.Second, Trigger: history.Automatic, StatusCode: 429, Error: history.ErrStatus, ResponseBody: []byte("second")},
			{Number: 3, StartedAt: m0(m).Add(25 * time.Second), Duration: 300 * time.Millisecond, Trigger: history.Automatic, Delivered: true, StatusCode: 200},
		}
		checkRecord(t, get(t, s, m.EventID), want)
	})

	t.Run("a change without an attempt sets the status and keeps the attempts", func(t *testing.T) {
		s := h.New(t)
		m := message(newDest(), now.Add(-time.Hour))
		a1 := attempt(1, m, 10*time.Millisecond, time.Second, false, 0, history.ErrConnection, nil)
		record(t, s, history.Change{Event: m, Status: history.Pending, Attempt: &a1, NextAttemptAt: m0(m).Add(5 * time.Second)})
		m.Recorded, m.Attempts = true, 1
		record(t, s, history.Change{Event: m, Status: history.Held}) // the breaker opened before the retry

		want := base(m, h.Retention)
		want.Status, want.AttemptCount, want.LastAttemptAt = history.Held, 1, m0(m).Add(10*time.Millisecond)
		want.Attempts = []history.Attempt{{Number: 1, StartedAt: want.LastAttemptAt, Duration: time.Second, Trigger: history.Automatic, Error: history.ErrConnection}}
		checkRecord(t, get(t, s, m.EventID), want)
	})

	t.Run("a change of a missing record is skipped", func(t *testing.T) {
		s := h.New(t)
		d := newDest()
		m := message(d, now.Add(-time.Hour))
		m.Recorded, m.Attempts = true, 3
		a := attempt(4, m, time.Second, time.Second, false, 500, history.ErrStatus, []byte("gone"))
		record(t, s, history.Change{Event: m, Status: history.Failed, Attempt: &a})
		if _, found, err := s.GetRecord(ctx, m.EventID, now); err != nil || found {
			t.Errorf("GetRecord: found %v, err %v; want no record", found, err)
		}
		if p := list(t, s, history.Query{DestinationID: d.id, Limit: 10, CountLimit: 100, Now: now}); p.Total != 0 {
			t.Errorf("ListRecords: got total %d, want 0", p.Total)
		}
	})

	t.Run("an attempt recorded twice is kept once", func(t *testing.T) {
		s := h.New(t)
		m := message(newDest(), now.Add(-time.Hour))
		a1 := attempt(1, m, time.Millisecond, time.Second, false, 500, history.ErrStatus, nil)
		record(t, s, history.Change{Event: m, Status: history.Pending, Attempt: &a1, NextAttemptAt: m0(m).Add(5 * time.Second)})
		m.Recorded, m.Attempts = true, 1
		a2 := attempt(2, m, 6*time.Second, time.Second, true, 200, "", nil)
		c := history.Change{Event: m, Status: history.Delivered, Attempt: &a2, DeliveredAt: m0(m).Add(7 * time.Second)}
		record(t, s, c) // SQS delivers at least once: the same message twice
		record(t, s, c)
		if got := get(t, s, m.EventID); len(got.Attempts) != 2 || got.AttemptCount != 2 {
			t.Errorf("got %d attempts, count %d; want 2 and 2", len(got.Attempts), got.AttemptCount)
		}
	})

	t.Run("an attempt made again by a redelivered message is recorded", func(t *testing.T) {
		s := h.New(t)
		m := message(newDest(), now.Add(-time.Hour))
		a1 := attempt(1, m, time.Millisecond, time.Second, false, 500, history.ErrStatus, nil)
		record(t, s, history.Change{Event: m, Status: history.Pending, Attempt: &a1, NextAttemptAt: m0(m).Add(5 * time.Second)})
		m.Recorded, m.Attempts = true, 1
		a2 := attempt(2, m, 6*time.Second, time.Second, false, 503, history.ErrStatus, nil)
		record(t, s, history.Change{Event: m, Status: history.Pending, Attempt: &a2, NextAttemptAt: m0(m).Add(20 * time.Second)})
		// The retry message was not settled (a crash): SQS delivers the
		// same message again and its attempt 2 is made again, later.
		again := attempt(2, m, 40*time.Second, time.Second, true, 200, "", nil)
		record(t, s, history.Change{Event: m, Status: history.Delivered, Attempt: &again, DeliveredAt: m0(m).Add(41 * time.Second)})
		got := get(t, s, m.EventID)
		if got.Status != history.Delivered || len(got.Attempts) != 3 || !got.DeliveredAt.Equal(m0(m).Add(41*time.Second)) {
			t.Errorf("got %s with %d attempts, delivered %v; want Delivered with 3 attempts (attempt 2 twice)", got.Status, len(got.Attempts), got.DeliveredAt)
		}
	})

	t.Run("a creation that may repeat never overwrites the record", func(t *testing.T) {
		s := h.New(t)
		m := message(newDest(), now.Add(-time.Hour))
		a1 := attempt(1, m, time.Millisecond, time.Second, false, 500, history.ErrStatus, nil)
		record(t, s, history.Change{Event: m, Status: history.Pending, Attempt: &a1, NextAttemptAt: m0(m).Add(5 * time.Second)})
		r := m
		r.Recorded, r.Attempts = true, 1
		a2 := attempt(2, r, 6*time.Second, time.Second, true, 200, "", nil)
		record(t, s, history.Change{Event: r, Status: history.Delivered, Attempt: &a2, DeliveredAt: m0(m).Add(7 * time.Second)})
		// The first message again (SQS redelivers it), its attempt made
		// again: a creation that says it may repeat.
		a1again := attempt(1, m, 50*time.Second, time.Second, true, 200, "", nil)
		record(t, s, history.Change{Event: m, Status: history.Delivered, Attempt: &a1again, DeliveredAt: m0(m).Add(51 * time.Second), MayExist: true})
		got := get(t, s, m.EventID)
		if got.Status != history.Delivered || len(got.Attempts) != 3 {
			t.Errorf("got %s with %d attempts; want Delivered with all 3 attempts (the record kept, the repeat added)", got.Status, len(got.Attempts))
		}
		counts, err := s.CountByHour(context.Background(), m.DestinationID, m0(m).Truncate(time.Hour), now, now)
		if err != nil {
			t.Fatal(err)
		}
		if want := (map[time.Time]map[history.Status]int{m0(m).Truncate(time.Hour): {history.Delivered: 1}}); !reflect.DeepEqual(counts, want) {
			t.Errorf("CountByHour: got %v, want %v", counts, want)
		}
		// A creation that may repeat, of an event with no record, creates it.
		n := message(newDest(), now.Add(-time.Hour))
		record(t, s, history.Change{Event: n, Status: history.Held, MayExist: true})
		if got := get(t, s, n.EventID); got.Status != history.Held || string(got.Body) != string(n.Body) {
			t.Errorf("got %+v, want the record created, Held, with its body", got)
		}
	})

	t.Run("several changes of one event in one call", func(t *testing.T) {
		s := h.New(t)
		// The same message twice (creations), then its retry, in one batch.
		m := message(newDest(), now.Add(-time.Hour))
		a1 := attempt(1, m, time.Millisecond, time.Second, false, 500, history.ErrStatus, []byte("old answer"))
		first := history.Change{Event: m, Status: history.Pending, Attempt: &a1, NextAttemptAt: m0(m).Add(5 * time.Second)}
		a1b := a1
		a1b.ResponseBody = []byte("new answer")
		again := history.Change{Event: m, Status: history.Pending, Attempt: &a1b, NextAttemptAt: m0(m).Add(6 * time.Second)}
		retried := m
		retried.Recorded, retried.Attempts = true, 1
		a2 := attempt(2, m, 7*time.Second, time.Second, false, 502, history.ErrStatus, []byte("second"))
		retry := history.Change{Event: retried, Status: history.Pending, Attempt: &a2, NextAttemptAt: m0(m).Add(30 * time.Second)}
		record(t, s, first, again, retry, retry)

		want := base(m, h.Retention)
		want.Status, want.AttemptCount = history.Pending, 2
		want.LastAttemptAt, want.NextAttemptAt = m0(m).Add(7*time.Second), m0(m).Add(30*time.Second)
		want.Attempts = []history.Attempt{
			{Number: 1, StartedAt: m0(m).Add(time.Millisecond), Duration: time.Second, Trigger: history.Automatic, StatusCode: 500, Error: history.ErrStatus, ResponseBody: []byte("new answer")},
			{Number: 2, StartedAt: m0(m).Add(7 * time.Second), Duration: time.Second, Trigger: history.Automatic, StatusCode: 502, Error: history.ErrStatus, ResponseBody: []byte("second")},
		}
		checkRecord(t, get(t, s, m.EventID), want)
	})

	t.Run("more than 25 changes in one call", func(t *testing.T) {
		s := h.New(t)
		d := newDest()
		var changes []history.Change
		for i := range 60 {
			m := message(d, now.Add(-time.Hour+time.Duration(i)*time.Millisecond))
			a := attempt(1, m, time.Millisecond, time.Second, false, 500, history.ErrStatus, fmt.Appendf(nil, "answer %d", i))
			changes = append(changes, history.Change{Event: m, Status: history.Pending, Attempt: &a, NextAttemptAt: now})
		}
		record(t, s, changes...)
		for i, c := range changes {
			got := get(t, s, c.Event.EventID)
			if len(got.Attempts) != 1 || string(got.Attempts[0].ResponseBody) != fmt.Sprintf("answer %d", i) {
				t.Errorf("record %d: got attempts %+v, want one with answer %d", i, got.Attempts, i)
			}
		}
		if p := list(t, s, history.Query{DestinationID: d.id, Limit: 100, CountLimit: 1000, Now: now}); p.Total != 60 || len(p.Items) != 60 {
			t.Errorf("ListRecords: got total %d, %d items; want 60", p.Total, len(p.Items))
		}
	})

	t.Run("ids that carry no route are not recorded", func(t *testing.T) {
		s := h.New(t)
		d := newDest()
		m := message(d, now.Add(-time.Hour))
		m.EventID = uuid.NewString() // an id of before the history
		record(t, s, history.Change{Event: m, Status: history.Held})
		for _, id := range []string{m.EventID, "", "not-an-id", strings.ToUpper(event.NewID(d.id, now))} {
			if _, found, err := s.GetRecord(ctx, id, now); err != nil || found {
				t.Errorf("GetRecord(%q): found %v, err %v; want not found, no error", id, found, err)
			}
			if err := s.MarkReplayed(ctx, id, now); apperror.CodeOf(err) != apperror.NotFound {
				t.Errorf("MarkReplayed(%q): got %v, want NotFound", id, err)
			}
			if err := s.UnmarkReplayed(ctx, id, history.Failed); err != nil {
				t.Errorf("UnmarkReplayed(%q): got %v, want nil", id, err)
			}
		}
	})

	t.Run("expired records are hidden", func(t *testing.T) {
		s := h.New(t)
		d := newDest()
		// Expiry is kept in whole seconds: received exactly Retention ago
		// expires now; a second later, it is still there.
		expired := message(d, now.Add(-h.Retention))
		older := message(d, now.Add(-h.Retention-time.Hour))
		live := message(d, now.Add(-h.Retention+time.Second))
		for _, m := range []event.Message{expired, older, live} {
			a := attempt(1, m, time.Millisecond, time.Second, false, 500, history.ErrStatus, []byte("answer"))
			record(t, s, history.Change{Event: m, Status: history.Failed, Attempt: &a})
		}
		for _, m := range []event.Message{expired, older} {
			if _, found, err := s.GetRecord(ctx, m.EventID, now); err != nil || found {
				t.Errorf("GetRecord of an expired record: found %v, err %v; want not found", found, err)
			}
			if err := s.MarkReplayed(ctx, m.EventID, now); apperror.CodeOf(err) != apperror.NotFound {
				t.Errorf("MarkReplayed of an expired record: got %v, want NotFound", err)
			}
		}
		if got := get(t, s, live.EventID); got.Status != history.Failed {
			t.Errorf("live record: got status %s, want Failed", got.Status)
		}
		p := list(t, s, history.Query{DestinationID: d.id, Limit: 10, CountLimit: 100, Now: now})
		if got, want := ids(p.Items), []string{live.EventID}; !slices.Equal(got, want) || p.Total != 1 {
			t.Errorf("ListRecords: got %v (total %d), want %v", got, p.Total, want)
		}
		counts, err := s.CountByHour(ctx, d.id, time.Time{}, time.Time{}, now)
		if err != nil {
			t.Fatal(err)
		}
		hour := live.ReceivedAt - live.ReceivedAt%time.Hour.Milliseconds()
		if want := map[time.Time]map[history.Status]int{time.UnixMilli(hour).UTC(): {history.Failed: 1}}; !reflect.DeepEqual(counts, want) {
			t.Errorf("CountByHour: got %v, want %v", counts, want)
		}
	})

	t.Run("ListRecords", func(t *testing.T) {
		s := h.New(t)
		d := newDest()
		twin := sameRoute(d)
		start := now.Add(-10 * time.Hour)
		statuses := []history.Status{history.Delivered, history.Failed, history.Pending, history.Delivered, history.Held,
			history.Delivered, history.Failed, history.Delivered}
		// Records a minute and a millisecond apart, so the bounds below
		// fall between two of them at the millisecond.
		at := func(i int) time.Time {
			return start.Add(time.Duration(i)*time.Minute + time.Duration(i)*time.Millisecond)
		}
		var all []string
		var changes []history.Change
		for i, st := range statuses {
			m := message(d, at(i))
			all = append(all, m.EventID)
			changes = append(changes, changeWithStatus(m, st))
			// The other destination of the route has records in between.
			o := message(twin, start.Add(time.Duration(i)*time.Minute+30*time.Second))
			changes = append(changes, changeWithStatus(o, st))
		}
		record(t, s, changes...)
		pick := func(idx ...int) []string {
			var out []string
			for _, i := range idx {
				out = append(out, all[i])
			}
			return out
		}
		tests := []struct {
			name       string
			q          history.Query
			want       []string
			wantTotal  int
			wantCapped bool
		}{
			{"oldest first", history.Query{Limit: 100}, pick(0, 1, 2, 3, 4, 5, 6, 7), 8, false},
			{"newest first", history.Query{Limit: 100, Descending: true}, pick(7, 6, 5, 4, 3, 2, 1, 0), 8, false},
			{"status", history.Query{Limit: 100, Status: history.Delivered}, pick(0, 3, 5, 7), 4, false},
			{"status, newest first", history.Query{Limit: 100, Status: history.Failed, Descending: true}, pick(6, 1), 2, false},
			{"from and to are inclusive", history.Query{Limit: 100, From: at(2), To: at(5)}, pick(2, 3, 4, 5), 4, false},
			{"bounds one millisecond inside", history.Query{Limit: 100, From: at(2).Add(time.Millisecond), To: at(5).Add(-time.Millisecond)}, pick(3, 4), 2, false},
			{"bounds between milliseconds round inwards", history.Query{Limit: 100, From: at(2).Add(time.Microsecond), To: at(5).Add(999 * time.Microsecond)}, pick(3, 4, 5), 3, false},
			{"from only", history.Query{Limit: 100, From: at(6)}, pick(6, 7), 2, false},
			{"to only", history.Query{Limit: 100, To: at(1)}, pick(0, 1), 2, false},
			{"from after to", history.Query{Limit: 100, From: at(5), To: at(2)}, nil, 0, false},
			{"an empty range", history.Query{Limit: 100, From: now, To: now.Add(time.Hour)}, nil, 0, false},
			{"a page", history.Query{Offset: 2, Limit: 3}, pick(2, 3, 4), 8, false},
			{"a page, newest first, with status", history.Query{Offset: 1, Limit: 2, Descending: true, Status: history.Delivered}, pick(5, 3), 4, false},
			{"the last page is short", history.Query{Offset: 6, Limit: 5}, pick(6, 7), 8, false},
			{"a page past the end", history.Query{Offset: 20, Limit: 5}, nil, 8, false},
			{"no items, only the count", history.Query{Limit: 0}, nil, 8, false},
			{"count capped", history.Query{Limit: 2, CountLimit: 5}, pick(0, 1), 5, true},
			{"count capped, page beyond the cap", history.Query{Offset: 6, Limit: 2, CountLimit: 5}, pick(6, 7), 5, true},
			{"count exactly at the cap", history.Query{Limit: 1, CountLimit: 8}, pick(0), 8, false},
			{"a count limit of 0 or less counts everything", history.Query{Limit: 1, CountLimit: -1}, pick(0), 8, false},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				q := tt.q
				q.DestinationID, q.Now = d.id, now
				if q.CountLimit == 0 {
					q.CountLimit = 10000 // the API's
				}
				p := list(t, s, q)
				if got := ids(p.Items); !slices.Equal(got, tt.want) {
					t.Errorf("items: got %v, want %v", got, tt.want)
				}
				if p.Total != tt.wantTotal || p.TotalCapped != tt.wantCapped {
					t.Errorf("total: got %d (capped %v), want %d (capped %v)", p.Total, p.TotalCapped, tt.wantTotal, tt.wantCapped)
				}
			})
		}

		t.Run("items are summaries", func(t *testing.T) {
			p := list(t, s, history.Query{DestinationID: d.id, Limit: 1, Status: history.Pending, CountLimit: 10, Now: now})
			if len(p.Items) != 1 {
				t.Fatalf("got %d items, want 1", len(p.Items))
			}
			want := base(changes[4].Event, h.Retention)
			want.ContentType, want.Headers, want.Body, want.Verified, want.Alert = "", nil, nil, "", false
			want.Status, want.AttemptCount, want.LastAttemptAt, want.NextAttemptAt = history.Pending, 1, at(2).Add(time.Millisecond), now.Add(time.Minute)
			checkRecord(t, p.Items[0], want)
		})

		t.Run("the other destination of the route", func(t *testing.T) {
			p := list(t, s, history.Query{DestinationID: twin.id, Limit: 100, CountLimit: 100, Now: now})
			if p.Total != len(statuses) {
				t.Errorf("got total %d, want %d", p.Total, len(statuses))
			}
			for _, r := range p.Items {
				if r.DestinationID != twin.id {
					t.Errorf("record %s of destination %s listed for %s", r.EventID, r.DestinationID, twin.id)
				}
			}
		})
	})

	t.Run("CountByHour follows every change of status", func(t *testing.T) {
		s := h.New(t)
		d := newDest()
		hour := now.Truncate(time.Hour).Add(-2 * time.Hour)
		a, b, c := message(d, hour.Add(time.Minute)), message(d, hour.Add(2*time.Minute)), message(d, hour.Add(3*time.Minute))
		record(t, s, changeWithStatus(a, history.Pending), changeWithStatus(b, history.Pending), changeWithStatus(c, history.Held))
		next := func(m event.Message, st history.Status) history.Change {
			m.Recorded = true
			ch := changeWithStatus(m, st)
			if ch.Attempt != nil {
				ch.Attempt.Number, ch.Attempt.StartedAt = 2, ch.Attempt.StartedAt.Add(time.Minute)
			}
			return ch
		}
		record(t, s, next(a, history.Delivered), next(b, history.Failed))
		ctx := context.Background()
		if err := s.MarkReplayed(ctx, b.EventID, now); err != nil {
			t.Fatal(err)
		}
		if err := s.MarkReplayed(ctx, a.EventID, now); err != nil {
			t.Fatal(err)
		}
		if err := s.UnmarkReplayed(ctx, b.EventID, history.Failed); err != nil {
			t.Fatal(err)
		}
		want := map[time.Time]map[history.Status]int{hour: {history.Pending: 1, history.Failed: 1, history.Held: 1}}
		for _, r := range []struct {
			name     string
			from, to time.Time
		}{
			{"the whole hour", hour, hour.Add(time.Hour - time.Millisecond)},
			{"until now", hour.Add(-time.Hour), now},
			{"cut by from", hour.Add(30 * time.Second), now},
			{"open", time.Time{}, time.Time{}},
		} {
			got, err := s.CountByHour(ctx, d.id, r.from, r.to, now)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s: got %v, want %v", r.name, got, want)
			}
		}
	})

	t.Run("CountByHour", func(t *testing.T) {
		s := h.New(t)
		d := newDest()
		twin := sameRoute(d)
		hour := now.Truncate(time.Hour).Add(-3 * time.Hour)
		var changes []history.Change
		for _, r := range []struct {
			dest   dest
			offset time.Duration
			status history.Status
		}{
			{d, 10 * time.Minute, history.Delivered},
			{d, 20 * time.Minute, history.Failed},
			{d, 21 * time.Minute, history.Delivered},
			{d, time.Hour + 5*time.Minute, history.Pending},
			{d, 2*time.Hour - time.Millisecond, history.Delivered},
			{d, 2 * time.Hour, history.Held},
			{d, 4 * time.Hour, history.Delivered}, // after to
			{twin, 10 * time.Minute, history.Delivered},
			{twin, 2 * time.Hour, history.Failed},
		} {
			changes = append(changes, changeWithStatus(message(r.dest, hour.Add(r.offset)), r.status))
		}
		record(t, s, changes...)
		tests := []struct {
			name     string
			from, to time.Time
			want     map[time.Time]map[history.Status]int
		}{
			{"inclusive bounds", hour.Add(10 * time.Minute), hour.Add(2 * time.Hour), map[time.Time]map[history.Status]int{
				hour:                    {history.Delivered: 2, history.Failed: 1},
				hour.Add(time.Hour):     {history.Pending: 1, history.Delivered: 1},
				hour.Add(2 * time.Hour): {history.Held: 1},
			}},
			{"narrower", hour.Add(10*time.Minute + time.Millisecond), hour.Add(2*time.Hour - time.Millisecond), map[time.Time]map[history.Status]int{
				hour:                {history.Delivered: 1, history.Failed: 1},
				hour.Add(time.Hour): {history.Pending: 1, history.Delivered: 1},
			}},
			{"nothing in range", hour.Add(-time.Hour), hour.Add(-time.Millisecond), map[time.Time]map[history.Status]int{}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := s.CountByHour(ctx, d.id, tt.from, tt.to, now)
				if err != nil {
					t.Fatalf("CountByHour: %v", err)
				}
				if !reflect.DeepEqual(got, tt.want) {
					t.Errorf("got %v, want %v", got, tt.want)
				}
				for h := range got {
					if h.Location() != time.UTC || !h.Equal(h.Truncate(time.Hour)) {
						t.Errorf("bucket %v: want a UTC hour", h)
					}
				}
			})
		}
	})

	t.Run("a replay stranded Pending may be replayed again once stale", func(t *testing.T) {
		s := h.New(t)
		ctx := context.Background()
		c := changeWithStatus(message(newDest(), now.Add(-time.Hour)), history.Delivered)
		record(t, s, c)
		if err := s.MarkReplayed(ctx, c.Event.EventID, now); err != nil {
			t.Fatal(err)
		}
		// Its message was never sent: no attempt follows.
		if err := s.MarkReplayed(ctx, c.Event.EventID, now.Add(history.StaleReplay-time.Second)); apperror.CodeOf(err) != apperror.Conflict {
			t.Errorf("before it is stale: got %v, want Conflict", err)
		}
		later := now.Add(history.StaleReplay + time.Second)
		if err := s.MarkReplayed(ctx, c.Event.EventID, later); err != nil {
			t.Errorf("once stale: got %v, want it replayed again", err)
		}
		// A replay whose attempt came is Pending for a retry: a Conflict.
		m := c.Event
		m.Recorded = true
		a := attempt(2, m, 2*time.Hour, time.Second, false, 500, history.ErrStatus, nil)
		a.StartedAt = later.Add(time.Second)
		record(t, s, history.Change{Event: m, Status: history.Pending, Attempt: &a, NextAttemptAt: later.Add(time.Minute)})
		if err := s.MarkReplayed(ctx, c.Event.EventID, later.Add(history.StaleReplay+time.Minute)); apperror.CodeOf(err) != apperror.Conflict {
			t.Errorf("pending for a retry after its replay's attempt: got %v, want Conflict", err)
		}
	})

	t.Run("a bulk replay's list leaves out records replayed since", func(t *testing.T) {
		s := h.New(t)
		ctx := context.Background()
		d := newDest()
		a, b := changeWithStatus(message(d, now.Add(-2*time.Hour)), history.Delivered), changeWithStatus(message(d, now.Add(-time.Hour)), history.Delivered)
		record(t, s, a, b)
		if err := s.MarkReplayed(ctx, a.Event.EventID, now.Add(-30*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := s.UnmarkReplayed(ctx, a.Event.EventID, history.Delivered); err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct {
			since time.Time
			want  []string
		}{
			{time.Time{}, []string{a.Event.EventID, b.Event.EventID}},
			{now.Add(-time.Hour), []string{b.Event.EventID}},
			{now.Add(-30 * time.Minute), []string{b.Event.EventID}},
			{now.Add(-29 * time.Minute), []string{a.Event.EventID, b.Event.EventID}},
		} {
			p := list(t, s, history.Query{DestinationID: d.id, Status: history.Delivered, Limit: 10, CountLimit: 100, Now: now, NotReplayedSince: tt.since})
			if got := ids(p.Items); !slices.Equal(got, tt.want) || p.Total != len(tt.want) {
				t.Errorf("since %v: got %v (total %d), want %v", tt.since, got, p.Total, tt.want)
			}
		}
	})

	t.Run("MarkReplayed and UnmarkReplayed", func(t *testing.T) {
		s := h.New(t)
		d := newDest()
		tests := []struct {
			name   string
			status history.Status
			want   apperror.Code // of MarkReplayed; Internal: no error
		}{
			{"Pending is a conflict", history.Pending, apperror.Conflict},
			{"Delivered", history.Delivered, apperror.Internal},
			{"Failed", history.Failed, apperror.Internal},
			{"Held", history.Held, apperror.Internal},
		}
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				c := changeWithStatus(message(d, now.Add(-time.Duration(i+1)*time.Minute)), tt.status)
				record(t, s, c)
				before := get(t, s, c.Event.EventID)
				err := s.MarkReplayed(ctx, c.Event.EventID, now)
				if tt.want != apperror.Internal {
					if apperror.CodeOf(err) != tt.want {
						t.Fatalf("MarkReplayed: got %v, want code %d", err, tt.want)
					}
					checkRecord(t, get(t, s, c.Event.EventID), before)
					return
				}
				if err != nil {
					t.Fatalf("MarkReplayed: %v", err)
				}
				replayed := before
				replayed.Status, replayed.NextAttemptAt, replayed.ReplayedAt = history.Pending, time.Time{}, now
				checkRecord(t, get(t, s, c.Event.EventID), replayed)
				if err := s.MarkReplayed(ctx, c.Event.EventID, now); apperror.CodeOf(err) != apperror.Conflict {
					t.Errorf("MarkReplayed again: got %v, want Conflict", err)
				}
				if err := s.UnmarkReplayed(ctx, c.Event.EventID, tt.status); err != nil {
					t.Fatalf("UnmarkReplayed: %v", err)
				}
				restored := before
				restored.NextAttemptAt, restored.ReplayedAt = time.Time{}, now
				checkRecord(t, get(t, s, c.Event.EventID), restored)
				// Not Pending any more: a second unmark changes nothing.
				if err := s.UnmarkReplayed(ctx, c.Event.EventID, history.Held); err != nil {
					t.Fatalf("UnmarkReplayed of a record that is not Pending: %v", err)
				}
				checkRecord(t, get(t, s, c.Event.EventID), restored)
			})
		}
		t.Run("unknown event", func(t *testing.T) {
			id := event.NewID(d.id, now.Add(-time.Minute))
			if err := s.MarkReplayed(ctx, id, now); apperror.CodeOf(err) != apperror.NotFound {
				t.Errorf("MarkReplayed: got %v, want NotFound", err)
			}
			if err := s.UnmarkReplayed(ctx, id, history.Failed); err != nil {
				t.Errorf("UnmarkReplayed: got %v, want nil", err)
			}
			if _, found, err := s.GetRecord(ctx, id, now); err != nil || found {
				t.Errorf("GetRecord after UnmarkReplayed: found %v, err %v; want no record", found, err)
			}
		})
	})
}

// dest is a destination of a test: fresh random ids.
type dest struct{ id, tenant string }

func newDest() dest { return dest{uuid.NewString(), uuid.NewString()} }

// sameRoute returns another destination whose id shares d's route (its
// first 10 hex digits), as two destinations in 2^40 may.
func sameRoute(d dest) dest {
	o := dest{d.id[:11] + uuid.NewString()[11:], d.tenant}
	if event.Route(o.id) != event.Route(d.id) || o.id == d.id {
		panic("sameRoute: route differs")
	}
	return o
}

// message is an event of d received at at, with typical headers.
func message(d dest, at time.Time) event.Message {
	return event.Message{
		Version: 1, EventID: event.NewID(d.id, at), DestinationID: d.id, TenantID: d.tenant, ReceivedAt: at.UnixMilli(),
		ContentType: "application/json; charset=utf-8",
		// Forwarded headers in their order: sorted by name, a repeated
		// header's values in arrival order (not sorted).
		Headers:  [][2]string{{"User-Agent", "Acme-Webhooks/2.3"}, {"X-Acme-Signature", "t=1,v1=ab, c"}, {"X-Tag", "z"}, {"X-Tag", "a"}},
		Body:     []byte(`{"id":"evt_1","type":"order.paid","note":"é ✓"}`),
		Verified: "GitHub",
		Alert:    true,
	}
}

// m0 is m's receipt time.
func m0(m event.Message) time.Time { return time.UnixMilli(m.ReceivedAt).UTC() }

// attempt is attempt number of m, started after its receipt.
func attempt(number int, m event.Message, after, took time.Duration, delivered bool, code int, class string, answer []byte) history.Attempt {
	return history.Attempt{Number: number, StartedAt: m0(m).Add(after), Duration: took, Trigger: history.Automatic,
		Delivered: delivered, StatusCode: code, Error: class, ResponseBody: answer}
}

// changeWithStatus creates m's record with status: attempted once unless
// Held, due again a minute after now when Pending.
func changeWithStatus(m event.Message, status history.Status) history.Change {
	c := history.Change{Event: m, Status: status}
	if status == history.Held {
		return c
	}
	delivered := status == history.Delivered
	a := attempt(1, m, time.Millisecond, time.Second, delivered, 500, history.ErrStatus, []byte("no"))
	if delivered {
		a.StatusCode, a.Error, a.ResponseBody = 200, "", nil
		c.DeliveredAt = a.StartedAt.Add(time.Second)
	}
	if status == history.Pending {
		c.NextAttemptAt = now.Add(time.Minute)
	}
	c.Attempt = &a
	return c
}

// base is the record of m before any change: what every record of m has.
func base(m event.Message, retention time.Duration) history.Record {
	return history.Record{
		EventID: m.EventID, DestinationID: m.DestinationID, TenantID: m.TenantID,
		ReceivedAt: m0(m), ExpiresAt: expiry(m0(m), retention), // to the second, rounded up
		ContentType: m.ContentType, Headers: m.Headers, Body: m.Body, Verified: m.Verified, Alert: m.Alert,
	}
}

func record(t *testing.T, s Store, changes ...history.Change) {
	t.Helper()
	if err := s.Record(context.Background(), changes); err != nil {
		t.Fatalf("Record: %v", err)
	}
}

func get(t *testing.T, s Store, id string) history.Record {
	t.Helper()
	r, found, err := s.GetRecord(context.Background(), id, now)
	if err != nil || !found {
		t.Fatalf("GetRecord(%s): found %v, err %v; want the record", id, found, err)
	}
	return r
}

func list(t *testing.T, s Store, q history.Query) history.Page {
	t.Helper()
	p, err := s.ListRecords(context.Background(), q)
	if err != nil {
		t.Fatalf("ListRecords: %v", err)
	}
	return p
}

func ids(rs []history.Record) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.EventID)
	}
	return out
}

// checkRecord compares got with want field by field: times by instant,
// and every time UTC; empty and nil slices alike.
func checkRecord(t *testing.T, got, want history.Record) {
	t.Helper()
	gv, wv := reflect.ValueOf(got), reflect.ValueOf(want)
	for i := range gv.NumField() {
		name := gv.Type().Field(i).Name
		if name == "Attempts" {
			continue
		}
		if !same(gv.Field(i).Interface(), wv.Field(i).Interface()) {
			t.Errorf("%s: got %v, want %v", name, gv.Field(i).Interface(), wv.Field(i).Interface())
		}
	}
	if len(got.Attempts) != len(want.Attempts) {
		t.Errorf("Attempts: got %d %+v, want %d %+v", len(got.Attempts), got.Attempts, len(want.Attempts), want.Attempts)
		return
	}
	for i := range got.Attempts {
		ga, wa := reflect.ValueOf(got.Attempts[i]), reflect.ValueOf(want.Attempts[i])
		for j := range ga.NumField() {
			if !same(ga.Field(j).Interface(), wa.Field(j).Interface()) {
				t.Errorf("Attempts[%d].%s: got %v, want %v", i, ga.Type().Field(j).Name, ga.Field(j).Interface(), wa.Field(j).Interface())
			}
		}
	}
}

func same(got, want any) bool {
	switch w := want.(type) {
	case time.Time:
		g := got.(time.Time)
		return g.Equal(w) && (g.IsZero() || g.Location() == time.UTC)
	case []byte:
		return string(got.([]byte)) == string(w) && (len(w) > 0) == (len(got.([]byte)) > 0)
	case [][2]string:
		return slices.Equal(got.([][2]string), w)
	}
	return reflect.DeepEqual(got, want)
}

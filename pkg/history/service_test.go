package history_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/hooksentry/hooksentry/pkg/apperror"
	"github.com/hooksentry/hooksentry/pkg/destination"
	"github.com/hooksentry/hooksentry/pkg/event"
	"github.com/hooksentry/hooksentry/pkg/history"
	"github.com/hooksentry/hooksentry/pkg/history/historytest"
)

const (
	tenant = "tenant-a"
	dest   = "3f2b8c1d-9a4e-4b7f-8c2d-1e0f9a8b7c6d"
)

// destinations owns one destination of one tenant; deleted ones are gone.
type destinations struct{ deleted bool }

func (d *destinations) Get(_ context.Context, tenantID, id string) (destination.Destination, error) {
	switch {
	case d.deleted || id != dest:
		return destination.Destination{}, apperror.New(apperror.NotFound, "no destination")
	case tenantID != tenant:
		return destination.Destination{}, apperror.New(apperror.Forbidden, "another tenant's")
	}
	return destination.Destination{ID: id, TenantID: tenant}, nil
}

// publisher records what it sends; failAt fails those indexes.
type publisher struct {
	sent   []event.Message
	failAt map[int]bool
	err    error
}

func (p *publisher) PublishBatch(_ context.Context, msgs []event.Message) ([]int, error) {
	var failed []int
	for i, m := range msgs {
		if p.failAt[i] {
			failed = append(failed, i)
			continue
		}
		p.sent = append(p.sent, m)
	}
	return failed, p.err
}

var now = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func newService(t *testing.T, records ...history.Record) (*history.Service, *historytest.Fake, *publisher, *destinations) {
	t.Helper()
	f := historytest.NewFake()
	for _, r := range records {
		f.Add(r)
	}
	pub, ds := &publisher{}, &destinations{}
	return &history.Service{Store: f, Destinations: ds, Publisher: pub, Now: func() time.Time { return now }}, f, pub, ds
}

func record(status history.Status, age time.Duration, attempts int) history.Record {
	received := now.Add(-age)
	return history.Record{
		EventID: event.NewID(dest, received), DestinationID: dest, TenantID: tenant, Status: status,
		AttemptCount: attempts, ReceivedAt: received.Truncate(time.Millisecond), Body: []byte(`{"n":1}`),
		Headers: [][2]string{{"X-Topic", "a"}}, ContentType: "application/json", ExpiresAt: received.Add(7 * 24 * time.Hour),
	}
}

func TestGetDecidesByDestination(t *testing.T) {
	r := record(history.Delivered, time.Minute, 1)
	tests := []struct {
		name    string
		tenant  string
		id      string
		deleted bool
		want    apperror.Code // 0: found
	}{
		{"owner", tenant, r.EventID, false, 0},
		{"another tenant", "tenant-b", r.EventID, false, apperror.Forbidden},
		{"deleted destination", tenant, r.EventID, true, apperror.NotFound},
		{"unknown id", tenant, event.NewID(dest, now), false, apperror.NotFound},
		{"not an event id", tenant, "nope", false, apperror.NotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc, _, _, ds := newService(t, r)
			ds.deleted = tt.deleted
			got, err := svc.Get(context.Background(), tt.tenant, tt.id)
			if tt.want == 0 {
				if err != nil || got.EventID != r.EventID || string(got.Body) != `{"n":1}` {
					t.Fatalf("got %+v, %v; want the record", got, err)
				}
				return
			}
			if apperror.CodeOf(err) != tt.want {
				t.Errorf("got %v, want code %d", err, tt.want)
			}
		})
	}
}

func TestReplayPublishesTheEventAgainCountingAttemptsOn(t *testing.T) {
	r := record(history.Failed, time.Minute, 10)
	r.Verified, r.Alert = "Stripe", true
	svc, f, pub, _ := newService(t, r)
	sum, err := svc.Replay(context.Background(), tenant, r.EventID)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Status != history.Pending {
		t.Errorf("summary status: got %s, want Pending", sum.Status)
	}
	if len(pub.sent) != 1 {
		t.Fatalf("sent %d messages, want 1", len(pub.sent))
	}
	m := pub.sent[0]
	if m.EventID != r.EventID || m.Prior != 10 || m.Attempts != 0 || !m.Manual || !m.Recorded || string(m.Body) != `{"n":1}` || m.ContentType != "application/json" || len(m.Headers) != 1 {
		t.Errorf("message: got %+v, want the event with Prior 10, a fresh budget, Manual, Recorded", m)
	}
	if m.Verified != "Stripe" || !m.Alert {
		t.Errorf("message: Verified %q, Alert %v; want Stripe and true (a replay keeps what the original was)", m.Verified, m.Alert)
	}
	if got, want := m.AttemptNumber(), 11; got != want {
		t.Errorf("next attempt number: got %d, want %d", got, want)
	}
	if got, _, _ := f.GetRecord(context.Background(), r.EventID, now); got.Status != history.Pending {
		t.Errorf("stored status: got %s, want Pending", got.Status)
	}
	if _, err := svc.Replay(context.Background(), tenant, r.EventID); apperror.CodeOf(err) != apperror.Conflict {
		t.Errorf("second replay: got %v, want a Conflict", err)
	}
}

func TestReplayThatCannotBeSentRestoresTheStatus(t *testing.T) {
	r := record(history.Delivered, time.Minute, 1)
	svc, f, pub, _ := newService(t, r)
	pub.err = errors.New("queue down")
	pub.failAt = map[int]bool{0: true}
	if _, err := svc.Replay(context.Background(), tenant, r.EventID); err == nil || apperror.CodeOf(err) != apperror.Internal {
		t.Fatalf("got %v, want an internal error", err)
	}
	if got, _, _ := f.GetRecord(context.Background(), r.EventID, now); got.Status != history.Delivered {
		t.Errorf("status after the failed replay: got %s, want Delivered again", got.Status)
	}
}

func TestReplayMatchingIsBoundedAndResumable(t *testing.T) {
	var records []history.Record
	for i := 0; i < history.MaxReplay+5; i++ {
		records = append(records, record(history.Failed, time.Duration(i+1)*time.Second, 3))
	}
	records = append(records, record(history.Delivered, time.Hour, 1), record(history.Pending, time.Hour, 1))
	svc, _, pub, _ := newService(t, records...)
	ctx := context.Background()

	got, err := svc.ReplayMatching(ctx, tenant, dest, history.BulkReplay{Status: history.Failed})
	if err != nil {
		t.Fatal(err)
	}
	if got != (history.BulkResult{Replayed: history.MaxReplay, Remaining: 5}) {
		t.Errorf("first call: got %+v, want %d replayed, 5 remaining", got, history.MaxReplay)
	}
	// Oldest first: the first message is the oldest event.
	if pub.sent[0].EventID != records[len(records)-3].EventID {
		t.Errorf("first replayed: got %s, want the oldest failed event %s", pub.sent[0].EventID, records[len(records)-3].EventID)
	}
	got, err = svc.ReplayMatching(ctx, tenant, dest, history.BulkReplay{Status: history.Failed})
	if err != nil || got != (history.BulkResult{Replayed: 5, Remaining: 0}) {
		t.Errorf("second call: got %+v, %v; want 5 replayed, 0 remaining", got, err)
	}
	if _, err := svc.ReplayMatching(ctx, "tenant-b", dest, history.BulkReplay{Status: history.Failed}); apperror.CodeOf(err) != apperror.Forbidden {
		t.Errorf("another tenant: got %v, want Forbidden", err)
	}
	if len(pub.sent) != history.MaxReplay+5 {
		t.Errorf("sent %d, want %d", len(pub.sent), history.MaxReplay+5)
	}
}

func TestStatsHasEveryHourAndStatus(t *testing.T) {
	svc, _, _, _ := newService(t, record(history.Delivered, time.Minute, 1), record(history.Failed, 90*time.Minute, 3), record(history.Delivered, 30*time.Hour, 1))
	rng, err := history.ParseStatsRange(nil, now)
	if err != nil {
		t.Fatal(err)
	}
	buckets, err := svc.Stats(context.Background(), tenant, dest, rng)
	if err != nil {
		t.Fatal(err)
	}
	if len(buckets) != 24 {
		t.Fatalf("got %d buckets, want 24", len(buckets))
	}
	// now is 12:00 exactly: the minute-old event is in the 11:00 bucket, the
	// 90-minute-old one at 10:00; the 30-hour-old one is out of range.
	want := map[int]map[history.Status]int{22: {history.Delivered: 1}, 21: {history.Failed: 1}}
	for i, b := range buckets {
		for _, st := range history.Statuses {
			if got, ok := b.Counts[st]; !ok || got != want[i][st] {
				t.Errorf("bucket %d (%s) %s: got %d (present %v), want %d", i, b.Start.Format(time.RFC3339), st, got, ok, want[i][st])
			}
		}
	}
}

// redeliver makes every Pending record Delivered again, as the deliver
// function does once a replay's attempt succeeds.
func redeliver(t *testing.T, f *historytest.Fake, pub *publisher) {
	t.Helper()
	var changes []history.Change
	for _, m := range pub.sent {
		m.Recorded = true
		a := history.Attempt{Number: m.AttemptNumber(), StartedAt: now.Add(time.Second), Trigger: history.Manual, Delivered: true, StatusCode: 200}
		changes = append(changes, history.Change{Event: m, Status: history.Delivered, Attempt: &a, DeliveredAt: now.Add(time.Second)})
	}
	if err := f.Record(context.Background(), changes); err != nil {
		t.Fatal(err)
	}
	pub.sent = nil
}

func TestBulkReplayOfDeliveredEventsEnds(t *testing.T) {
	var records []history.Record
	for i := 0; i < history.MaxReplay+3; i++ {
		records = append(records, record(history.Delivered, time.Duration(i+1)*time.Second, 1))
	}
	svc, f, pub, _ := newService(t, records...)
	ctx := context.Background()
	seen := map[string]int{}
	var results []history.BulkResult
	for call := 0; call < 4; call++ {
		got, err := svc.ReplayMatching(ctx, tenant, dest, history.BulkReplay{Status: history.Delivered})
		if err != nil {
			t.Fatal(err)
		}
		results = append(results, got)
		for _, m := range pub.sent {
			seen[m.EventID]++
		}
		redeliver(t, f, pub) // delivered again before the next call: they match again
	}
	want := []history.BulkResult{{Replayed: history.MaxReplay, Remaining: 3}, {Replayed: 3}, {}, {}}
	if !reflect.DeepEqual(results, want) {
		t.Errorf("calls: got %+v, want %+v", results, want)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("event %s replayed %d times, want once", id, n)
		}
	}
	if len(seen) != len(records) {
		t.Errorf("replayed %d events, want all %d", len(seen), len(records))
	}
}

func TestBulkReplayThatFailsMidwayLeavesNothingPendingWithoutAMessage(t *testing.T) {
	var records []history.Record
	for i := 0; i < 25; i++ {
		records = append(records, record(history.Failed, time.Duration(i+1)*time.Second, 3))
	}
	svc, f, pub, _ := newService(t, records...)
	pub.failAt = map[int]bool{3: true} // one message of every chunk is refused
	if _, err := svc.ReplayMatching(context.Background(), tenant, dest, history.BulkReplay{Status: history.Failed}); err == nil {
		t.Fatal("got no error, want the refused message reported")
	}
	sent := map[string]bool{}
	for _, m := range pub.sent {
		sent[m.EventID] = true
	}
	for _, r := range records {
		got, _, _ := f.GetRecord(context.Background(), r.EventID, now)
		if want := map[bool]history.Status{true: history.Pending, false: history.Failed}[sent[r.EventID]]; got.Status != want {
			t.Errorf("event %s (sent %v): status %s, want %s", r.EventID, sent[r.EventID], got.Status, want)
		}
	}
	if len(pub.sent) != 9 {
		t.Errorf("sent %d, want the 9 accepted of the first chunk (the call stops there)", len(pub.sent))
	}
}

func TestReplayOfAHeldEventChangesNothing(t *testing.T) {
	r := record(history.Held, time.Minute, 0)
	svc, f, pub, _ := newService(t, r)
	sum, err := svc.Replay(context.Background(), tenant, r.EventID)
	if err != nil || sum.Status != history.Held {
		t.Fatalf("got %+v, %v; want the Held summary", sum, err)
	}
	if got, _, _ := f.GetRecord(context.Background(), r.EventID, now); len(pub.sent) != 0 || got.Status != history.Held {
		t.Errorf("sent %d messages, status %s; want none sent, still Held", len(pub.sent), got.Status)
	}
}

package sweeper_test

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"os"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/uuid"

	"github.com/hooksentry/hooksentry/pkg/apperror"
	"github.com/hooksentry/hooksentry/pkg/delivery/deliverytest"
	"github.com/hooksentry/hooksentry/pkg/destination"
	"github.com/hooksentry/hooksentry/pkg/destination/destinationtest"
	"github.com/hooksentry/hooksentry/pkg/event"
	"github.com/hooksentry/hooksentry/pkg/history"
	"github.com/hooksentry/hooksentry/pkg/local/emulator/emulatortest"
	"github.com/hooksentry/hooksentry/pkg/queue"
	"github.com/hooksentry/hooksentry/pkg/store"
	"github.com/hooksentry/hooksentry/pkg/sweeper"
)

func TestMain(m *testing.M) {
	os.Exit(emulatortest.Run(m, nil))
}

// base is the sweeper's injected clock: every time the sweeper compares
// (cooldowns, due times) is relative to it.
var base = time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)

// env is a table, a delivery queue and a DLQ of their own, so that one
// test's sweep never sees another's work, and tests run in parallel.
type env struct {
	store    *store.Store
	sqs      *sqs.Client
	queueURL string
	dlqURL   string
	now      time.Time
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	name := "sweeper-" + uuid.NewString()[:8]
	if err := store.EnsureTable(ctx, dynamodb.NewFromConfig(cfg), name); err != nil {
		t.Fatalf("EnsureTable: %v", err)
	}
	client := sqs.NewFromConfig(cfg)
	e := &env{store: store.New(dynamodb.NewFromConfig(cfg), name), sqs: client, now: base}
	for _, q := range []struct {
		name string
		url  *string
	}{{name, &e.queueURL}, {name + "-dlq", &e.dlqURL}} {
		out, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(q.name)})
		if err != nil {
			t.Fatalf("CreateQueue %s: %v", q.name, err)
		}
		*q.url = aws.ToString(out.QueueUrl)
	}
	return e
}

func (e *env) sweeper() *sweeper.Sweeper {
	now := func() time.Time { return e.now }
	return &sweeper.Sweeper{
		Store:  e.store,
		Queue:  &queue.Queue{SQS: e.sqs, URL: e.queueURL, Now: now},
		DLQ:    e.sqs,
		DLQURL: e.dlqURL,
		Now:    now,
		Log:    slog.New(slog.DiscardHandler),
	}
}

func (e *env) sweep(t *testing.T) sweeper.Report {
	t.Helper()
	r, err := e.sweeper().Sweep(context.Background())
	if err != nil {
		t.Fatalf("Sweep: %v", err)
	}
	return r
}

func (e *env) newDestination(t *testing.T, status destination.Status) destination.Destination {
	t.Helper()
	d := destinationtest.NewDestination(uuid.NewString(), base, func(d *destination.Destination) { d.Status = status })
	if err := e.store.CreateDestination(context.Background(), d); err != nil {
		t.Fatalf("CreateDestination: %v", err)
	}
	// A worker's first read creates the delivery state.
	if _, _, found, err := e.store.LoadTarget(context.Background(), d.ID); err != nil || !found {
		t.Fatalf("LoadTarget: %v, %v", found, err)
	}
	return d
}

func msg(destinationID string, n int) event.Message {
	return event.Message{
		Version: 1, EventID: fmt.Sprintf("ev-%03d-%s", n, uuid.NewString()[:8]), DestinationID: destinationID, TenantID: "tenant-1",
		ReceivedAt: base.Add(time.Duration(n-1000) * time.Second).UnixMilli(), ContentType: "application/json",
		Headers: [][2]string{{"Stripe-Signature", "t=1,v1=a,v0=b"}}, Body: []byte(fmt.Sprintf(`{"n":%d}`, n)), Attempts: 1,
	}
}

// hold parks the events as a worker does, then flags their destinations.
func (e *env) hold(t *testing.T, msgs ...event.Message) {
	t.Helper()
	for _, m := range msgs {
		if _, err := e.store.Hold(context.Background(), m, time.UnixMilli(m.ReceivedAt)); err != nil {
			t.Fatalf("Hold: %v", err)
		}
	}
	for _, m := range msgs {
		if err := e.store.FlagHeld(context.Background(), m.DestinationID); err != nil {
			t.Fatalf("FlagHeld: %v", err)
		}
	}
}

func (e *env) held(t *testing.T, destinationID string) []event.Message {
	t.Helper()
	held, err := e.store.ListHeld(context.Background(), destinationID, 1000)
	if err != nil {
		t.Fatalf("ListHeld: %v", err)
	}
	var out []event.Message
	for _, h := range held {
		out = append(out, h.Message)
	}
	return out
}

func (e *env) flagged(t *testing.T, destinationID string) bool {
	t.Helper()
	ids, err := e.store.HeldDestinations(context.Background())
	if err != nil {
		t.Fatalf("HeldDestinations: %v", err)
	}
	return slices.Contains(ids, destinationID)
}

// receive takes want messages off the queue at url and checks that no
// more are there. The sweeper's sends have returned before this runs, so
// short polls suffice; the loop still allows a bounded wait. (The
// emulator's long polls wait for ten messages, not for one.)
func (e *env) receive(t *testing.T, url string, want int) []event.Message {
	t.Helper()
	ctx := context.Background()
	var got []event.Message
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, err := e.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(url), MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 30,
		})
		if err != nil {
			t.Fatalf("ReceiveMessage: %v", err)
		}
		for _, m := range out.Messages {
			decoded, err := event.Decode(aws.ToString(m.Body))
			if err != nil {
				t.Fatalf("message on the queue %q: %v", aws.ToString(m.Body), err)
			}
			got = append(got, decoded)
			if _, err := e.sqs.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
		switch {
		case len(got) > want:
			t.Fatalf("queue: got %d messages %+v, want %d", len(got), got, want)
		case len(got) == want && len(out.Messages) == 0:
			return got // all there, and nothing more
		case time.Now().After(deadline):
			t.Fatalf("queue: got %d messages after 10s, want %d", len(got), want)
		case len(out.Messages) == 0:
			time.Sleep(50 * time.Millisecond)
		}
	}
}

func TestSweepDropsHeldEventsOfDeletedDestination(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	d := e.newDestination(t, destination.Active)
	var msgs []event.Message
	for i := range 130 { // more than one page of 100
		msgs = append(msgs, msg(d.ID, i))
	}
	e.hold(t, msgs...)
	if err := e.store.DeleteDestination(ctx, d); err != nil {
		t.Fatal(err)
	}

	if got, want := e.sweep(t), (sweeper.Report{OrphansDropped: len(msgs)}); got != want {
		t.Errorf("report: got %+v, want %+v", got, want)
	}
	if left := e.held(t, d.ID); len(left) != 0 {
		t.Errorf("held events left: %d, want 0", len(left))
	}
	if e.flagged(t, d.ID) {
		t.Errorf("the deleted destination is still flagged")
	}
	// Defect 9: the state item of the deleted destination goes too.
	if _, err := e.store.LoadState(ctx, d.ID); apperror.CodeOf(err) != apperror.NotFound {
		t.Errorf("state after the sweep: got %v, want NotFound", err)
	}
	if ok, err := e.store.ClaimProbe(ctx, d.ID, base, base.Add(time.Minute)); ok || err != nil {
		t.Errorf("ClaimProbe on the deleted destination's state: got %v, %v; want false (no item)", ok, err)
	}
	e.receive(t, e.queueURL, 0)
	if got := e.sweep(t); got != (sweeper.Report{}) {
		t.Errorf("second sweep: got %+v, want nothing to do", got)
	}
}

func TestSweepRequestsDrainForActiveDestination(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.newDestination(t, destination.Active)
	msgs := []event.Message{msg(d.ID, 1), msg(d.ID, 2)}
	e.hold(t, msgs...)

	if got, want := e.sweep(t), (sweeper.Report{DrainsRequested: 1}); got != want {
		t.Errorf("report: got %+v, want %+v", got, want)
	}
	got := e.receive(t, e.queueURL, 1)
	if want := (event.Message{Version: 1, DestinationID: d.ID, Drain: true}); !reflect.DeepEqual(got[0], want) {
		t.Errorf("queued: got %+v, want the drain message %+v", got[0], want)
	}
	// The sweeper only asks: the events stay parked for the worker to move.
	if left := e.held(t, d.ID); len(left) != len(msgs) {
		t.Errorf("held events: got %d, want %d", len(left), len(msgs))
	}
	if !e.flagged(t, d.ID) {
		t.Errorf("flag cleared by the sweeper; the draining worker clears it")
	}
}

func TestSweepRequestsProbeOfSuspendedDestination(t *testing.T) {
	t.Parallel()
	openUntil := base.Add(time.Minute)
	for _, tc := range []struct {
		name       string
		status     destination.Status
		now        time.Time
		probeUntil time.Time // zero: no probe claimed
		wantProbe  bool
	}{
		{"cooldown passed", destination.Suspended, openUntil.Add(time.Second), time.Time{}, true},
		{"cooldown ends now", destination.Suspended, openUntil, time.Time{}, true},
		{"cooling down", destination.Suspended, openUntil.Add(-time.Second), time.Time{}, false},
		{"probe in flight", destination.Suspended, openUntil.Add(10 * time.Second), openUntil.Add(30 * time.Second), false},
		{"probe claim expired", destination.Suspended, openUntil.Add(40 * time.Second), openUntil.Add(30 * time.Second), true},
		{"Inactive", destination.Inactive, openUntil.Add(time.Hour), time.Time{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			ctx := context.Background()
			d := e.newDestination(t, destination.Active)
			if ok, err := e.store.Suspend(ctx, d.ID, openUntil, time.Minute); err != nil || !ok {
				t.Fatalf("Suspend: %v, %v", ok, err)
			}
			if !tc.probeUntil.IsZero() {
				if ok, err := e.store.ClaimProbe(ctx, d.ID, openUntil, tc.probeUntil); err != nil || !ok {
					t.Fatalf("ClaimProbe: %v, %v", ok, err)
				}
			}
			if tc.status == destination.Inactive {
				cur, err := e.store.GetDestination(ctx, d.ID)
				if err != nil {
					t.Fatal(err)
				}
				cur.Status = destination.Inactive
				if _, err := e.store.UpdateDestination(ctx, cur, false); err != nil {
					t.Fatal(err)
				}
			}
			newer, oldest, middle := msg(d.ID, 3), msg(d.ID, 1), msg(d.ID, 2)
			e.hold(t, newer, oldest, middle)
			e.now = tc.now

			want := sweeper.Report{}
			if tc.wantProbe {
				want.ProbesRequested = 1
			}
			if got := e.sweep(t); got != want {
				t.Errorf("report: got %+v, want %+v", got, want)
			}
			// The sweeper only asks; the worker that claims the probe takes
			// the oldest held event (and deletes only that hold).
			if left, want := e.held(t, d.ID), []event.Message{oldest, middle, newer}; !reflect.DeepEqual(left, want) {
				t.Errorf("held events: got %v, want all three, oldest first", left)
			}
			if !tc.wantProbe {
				e.receive(t, e.queueURL, 0)
				return
			}
			got := e.receive(t, e.queueURL, 1)
			if want := event.ProbeRequest(d.ID, tc.now); !reflect.DeepEqual(got[0], want) {
				t.Errorf("queued: got %+v, want the probe request %+v", got[0], want)
			}
		})
	}
}

func TestSweepRedrivesDueStoredEvents(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	due, notDue, failed := msg("dest-1", 1), msg("dest-1", 2), msg("dest-1", 3)
	due.Attempts = 2
	for _, p := range []struct {
		m      event.Message
		status string
		due    time.Time
	}{
		{due, event.StatusPending, base.Add(-time.Second)},
		{notDue, event.StatusPending, base.Add(time.Hour)},
		{failed, event.StatusFailed, base.Add(-time.Hour)},
	} {
		if err := e.store.PutEvent(ctx, p.m, p.status, p.due); err != nil {
			t.Fatal(err)
		}
	}

	if got, want := e.sweep(t), (sweeper.Report{StoredRedriven: 1}); got != want {
		t.Errorf("report: got %+v, want %+v", got, want)
	}
	got := e.receive(t, e.queueURL, 1)
	wantRef := event.Message{Version: 1, EventID: due.EventID, DestinationID: due.DestinationID, TenantID: due.TenantID, ReceivedAt: due.ReceivedAt, Attempts: 2, Stored: true}
	if !reflect.DeepEqual(got[0], wantRef) {
		t.Errorf("queued: got %+v, want the reference %+v", got[0], wantRef)
	}
	// Rescheduled: not due again until the grace period has passed.
	for _, tc := range []struct {
		before time.Time
		want   bool
	}{
		{base.Add(5 * time.Minute), false},
		{base.Add(5*time.Minute + time.Millisecond), true},
	} {
		ids, err := e.store.DueEvents(ctx, tc.before, 100)
		if err != nil {
			t.Fatal(err)
		}
		if got := slices.Contains(ids, due.EventID); got != tc.want {
			t.Errorf("DueEvents(%v) contains the re-driven event: got %v, want %v", tc.before, got, tc.want)
		}
	}
	// The stored body is untouched, for the worker to load.
	if m, status, found, err := e.store.GetEvent(ctx, due.EventID); err != nil || !found || status != event.StatusPending || !reflect.DeepEqual(m, due) {
		t.Errorf("GetEvent: got %+v, %q, %v, %v; want the Pending event unchanged", m, status, found, err)
	}
	if got := e.sweep(t); got != (sweeper.Report{}) {
		t.Errorf("second sweep: got %+v, want nothing to do", got)
	}
	e.receive(t, e.queueURL, 0)
}

func TestSweepRedrivesDLQ(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	fresh, twice := msg("dest-1", 1), msg("dest-1", 2)
	twice.Redrives = sweeper.MaxRedrives - 1
	poison := msg("dest-1", 3)
	poison.Redrives, poison.Attempts = sweeper.MaxRedrives, 4
	// A stored event's reference: the Failed record gets the stored body.
	storedFull := msg("dest-1", 4)
	storedFull.Body = []byte("the large stored body")
	if err := e.store.PutEvent(ctx, storedFull, event.StatusPending, base.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	storedRef := storedFull.Reference()
	storedRef.Redrives, storedRef.Attempts = sweeper.MaxRedrives, 3
	drain := event.Message{Version: 1, DestinationID: "dest-1", Drain: true, Redrives: sweeper.MaxRedrives + 5}

	for _, m := range []event.Message{fresh, twice, poison, storedRef, drain} {
		body, err := m.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(e.dlqURL), MessageBody: aws.String(body)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(e.dlqURL), MessageBody: aws.String("not a message")}); err != nil {
		t.Fatal(err)
	}

	if got, want := e.sweep(t), (sweeper.Report{DLQRedriven: 3, DLQFailed: 2}); got != want {
		t.Errorf("report: got %+v, want %+v", got, want)
	}

	// Moved back with one more redrive.
	moved := e.receive(t, e.queueURL, 3)
	slices.SortFunc(moved, func(a, b event.Message) int { return cmp.Compare(a.ReceivedAt, b.ReceivedAt) })
	var want []event.Message
	for _, m := range []event.Message{drain, fresh, twice} {
		m.Redrives++
		want = append(want, m)
	}
	slices.SortFunc(want, func(a, b event.Message) int { return cmp.Compare(a.ReceivedAt, b.ReceivedAt) })
	if !reflect.DeepEqual(moved, want) {
		t.Errorf("moved back:\n got %+v\nwant %+v", moved, want)
	}

	// At MaxRedrives: stored as Failed with the body, not re-queued.
	for _, tc := range []struct {
		name string
		want event.Message
	}{
		{"inline", func() event.Message { m := poison; m.Redrives++; return m }()},
		{"stored reference: marked Failed where it is, body kept", func() event.Message {
			m := storedFull
			m.Attempts = storedRef.Attempts
			return m
		}()},
	} {
		got, status, found, err := e.store.GetEvent(ctx, tc.want.EventID)
		if err != nil || !found || status != event.StatusFailed {
			t.Errorf("%s: GetEvent got %q, %v, %v; want a Failed event", tc.name, status, found, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: Failed event:\n got %+v\nwant %+v", tc.name, got, tc.want)
		}
	}
	ids, err := e.store.DueEvents(ctx, base.Add(24*time.Hour), 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 0 {
		t.Errorf("DueEvents: got %v, want none (Failed events are not due)", ids)
	}

	// Only the unreadable message is left in the DLQ, for an operator: it is
	// the one message in flight (received, not deleted), and nothing else is
	// waiting. (The emulator's ApproximateNumberOfMessages counts in-flight
	// messages too, so it is not used.)
	if got := e.dlqInFlight(t); got != "1" {
		t.Errorf("DLQ messages in flight: got %s, want 1 (the unreadable one)", got)
	}
	e.receive(t, e.dlqURL, 0)
}

// dlqInFlight is how many DLQ messages were received and not deleted.
func (e *env) dlqInFlight(t *testing.T) string {
	t.Helper()
	attrs, err := e.sqs.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(e.dlqURL),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible},
	})
	if err != nil {
		t.Fatal(err)
	}
	return attrs.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible)]
}

// TestSweepRecordsDeadLetteredEventsFailed: an event the DLQ gives up on is
// Failed in its history too; a reference without a record gets its body
// from the stored event.
func TestSweepRecordsDeadLetteredEventsFailed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	inline, recordedRef, unrecordedRef := msg("dest-1", 1), msg("dest-1", 2), msg("dest-1", 3)
	inline.Redrives = sweeper.MaxRedrives
	for _, m := range []*event.Message{&recordedRef, &unrecordedRef} {
		m.Body = []byte("stored body")
		if err := e.store.PutEvent(ctx, *m, event.StatusPending, base.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		*m = m.Reference()
		m.Redrives = sweeper.MaxRedrives
	}
	recordedRef.Recorded = true
	for _, m := range []event.Message{inline, recordedRef, unrecordedRef} {
		body, err := m.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(e.dlqURL), MessageBody: aws.String(body)}); err != nil {
			t.Fatal(err)
		}
	}
	rec := &deliverytest.Recorder{}
	s := e.sweeper()
	s.History = rec
	if _, err := s.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	got := map[string]history.Status{}
	for _, c := range rec.Changes() {
		got[c.Event.EventID] = c.Status
	}
	want := map[string]history.Status{inline.EventID: history.Failed, recordedRef.EventID: history.Failed, unrecordedRef.EventID: history.Failed}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("history changes: got %v, want %v", got, want)
	}
	for _, c := range rec.Changes() {
		if !c.MayExist || (c.Event.EventID == unrecordedRef.EventID && string(c.Event.Body) != "stored body") {
			t.Errorf("change of %s: got MayExist %v, body %q; want MayExist, and the stored body for the reference", c.Event.EventID, c.MayExist, c.Event.Body)
		}
	}
}

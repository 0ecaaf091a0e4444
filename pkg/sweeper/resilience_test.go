package sweeper_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/hooksentry/hooksentry/pkg/delivery"
	"github.com/hooksentry/hooksentry/pkg/destination"
	"github.com/hooksentry/hooksentry/pkg/event"
	"github.com/hooksentry/hooksentry/pkg/store"
	"github.com/hooksentry/hooksentry/pkg/sweeper"
	"github.com/hooksentry/hooksentry/pkg/testkit"
)

// flakyStore is the real store with one destination's reads and stored
// events' updates failing, as a throttled or unavailable table would.
type flakyStore struct {
	*store.Store
	failDestination string
	failStored      bool
}

var errUnavailable = errors.New("table unavailable")

func (f *flakyStore) LoadTarget(ctx context.Context, id string) (destination.Destination, delivery.State, bool, error) {
	if id == f.failDestination {
		return destination.Destination{}, delivery.State{}, false, errUnavailable
	}
	return f.Store.LoadTarget(ctx, id)
}

func (f *flakyStore) FailStoredEvent(ctx context.Context, id string, attempts int, failedAt time.Time) error {
	if f.failStored {
		return errUnavailable
	}
	return f.Store.FailStoredEvent(ctx, id, attempts, failedAt)
}

func (e *env) sendDLQ(t *testing.T, msgs ...event.Message) {
	t.Helper()
	for _, m := range msgs {
		body, err := m.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.sqs.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(e.dlqURL), MessageBody: aws.String(body)}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSweepSkipsAFailingItem: defect 5. One destination that cannot be
// read is logged and skipped; the other destinations and the DLQ are
// still swept, and the sweep reports the error.
func TestSweepSkipsAFailingItem(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	broken, healthy := e.newDestination(t, destination.Active), e.newDestination(t, destination.Active)
	e.hold(t, msg(broken.ID, 1), msg(healthy.ID, 2))
	e.sendDLQ(t, msg(healthy.ID, 3))

	sw := e.sweeper()
	sw.Store = &flakyStore{Store: e.store, failDestination: broken.ID}
	got, err := sw.Sweep(context.Background())
	if !errors.Is(err, errUnavailable) {
		t.Errorf("Sweep error: got %v, want it to report %v", err, errUnavailable)
	}
	if want := (sweeper.Report{DrainsRequested: 1, DLQRedriven: 1, Errors: 1}); got != want {
		t.Errorf("report: got %+v, want %+v", got, want)
	}
	queued := e.receive(t, e.queueURL, 2)
	_, drains, _ := testkit.SplitMessages(queued)
	if len(drains) != 1 || drains[0].DestinationID != healthy.ID {
		t.Errorf("drains: got %+v, want one for the healthy destination", drains)
	}
}

// TestSweepKeepsAStoredEventItCannotMarkFailed: defect 4. A dead-lettered
// reference whose stored event cannot be updated now stays in the DLQ, and
// the stored event keeps its body and status; a reference whose stored
// event is gone writes no record.
func TestSweepKeepsAStoredEventItCannotMarkFailed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	full := msg("dest-1", 1)
	full.Body = []byte("the stored body")
	if err := e.store.PutEvent(ctx, full, event.StatusPending, base.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	ref := full.Reference()
	ref.Redrives = sweeper.MaxRedrives
	e.sendDLQ(t, ref)

	sw := e.sweeper()
	sw.Store = &flakyStore{Store: e.store, failStored: true}
	got, err := sw.Sweep(ctx)
	if err == nil || got != (sweeper.Report{Errors: 1}) {
		t.Errorf("sweep with the table unavailable: got %+v, %v; want 1 error", got, err)
	}
	stored, status, found, err := e.store.GetEvent(ctx, full.EventID)
	if err != nil || !found || status != event.StatusPending || string(stored.Body) != string(full.Body) {
		t.Errorf("stored event: got %q %v %v body %q; want it Pending with its body", status, found, err, stored.Body)
	}
	if n := e.dlqInFlight(t); n != "1" {
		t.Errorf("DLQ messages in flight: got %s, want 1 (kept for the next sweep)", n)
	}

	gone := msg("dest-1", 2).Reference()
	gone.Redrives = sweeper.MaxRedrives
	e.sendDLQ(t, gone)
	if got := e.sweep(t); got != (sweeper.Report{}) {
		t.Errorf("sweep of a reference to a gone event: got %+v, want nothing counted", got)
	}
	if _, _, found, err := e.store.GetEvent(ctx, gone.EventID); found || err != nil {
		t.Errorf("GetEvent(gone): found %v, %v; want no spurious Failed record", found, err)
	}
}

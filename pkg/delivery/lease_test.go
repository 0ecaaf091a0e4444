package delivery_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hooksentry/hooksentry/pkg/apperror"
	"github.com/hooksentry/hooksentry/pkg/delivery"
	"github.com/hooksentry/hooksentry/pkg/delivery/deliverytest"
	"github.com/hooksentry/hooksentry/pkg/destination"
)

// conflictingStore loses every lease race, as a state item whose version
// can never match would.
type conflictingStore struct {
	*deliverytest.Fake
	writes atomic.Int64
}

func (s *conflictingStore) WriteLeases(context.Context, string, map[string]delivery.Lease, int64) error {
	s.writes.Add(1)
	return apperror.New(apperror.Conflict, "leases changed concurrently")
}

// TestAcquireBacksOffOnRepeatedConflicts: lost races are retried at once a
// few times, then with backoff, and the wait ends with the invocation; the
// events go back on the queue unattempted.
func TestAcquireBacksOffOnRepeatedConflicts(t *testing.T) {
	f := newWorkerFixture(t)
	d := f.addDestination(destination.Active, 5, delivery.State{})
	s := &conflictingStore{Fake: f.store}
	f.w.Store = s
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	msgs := f.events(d, 2)
	if _, err := f.w.Handle(ctx, batch(t, msgs...)); err != nil {
		t.Fatal(err)
	}
	// 300 ms of 10→100 ms backoff is a handful of rounds; spinning would be
	// tens of thousands.
	if got := s.writes.Load(); got > 50 {
		t.Errorf("WriteLeases calls in 300 ms: got %d, want a bounded few (backoff)", got)
	}
	if got := len(f.recv.Requests()); got != 0 {
		t.Errorf("deliveries: got %d, want 0", got)
	}
	sent, _ := f.queue.messages()
	if len(sent) != len(msgs) {
		t.Errorf("re-queued: got %d, want %d", len(sent), len(msgs))
	}
}

package delivery

import (
	"context"
	"sync"

	"github.com/google/uuid"

	"github.com/hooksentry/hooksentry/pkg/destination"
)

// deliverActive attempts the events of an Active destination over as many
// lanes as its leases allow; each lane makes one attempt at a time.
func (w *Worker) deliverActive(ctx context.Context, d destination.Destination, st State, items []*item) (map[*item]disposition, map[*item]Result) {
	out := make(map[*item]disposition, len(items))
	results := make(map[*item]Result, len(items))
	if len(items) == 0 {
		return out, results
	}
	// Credentials and signing keys first: if KMS is unavailable that is our outage, not the
	// destination's, so no attempt is spent and the breaker is not fed.
	sec, err := w.open(ctx, d)
	if err != nil {
		w.log().ErrorContext(ctx, "open credentials", "destinationId", d.ID, "error", err)
		return all(items, redeliver), results
	}
	leaseID := uuid.NewString()
	slots, expires, err := w.acquire(ctx, d, st, len(items), leaseID)
	if err != nil || slots == 0 {
		if err != nil {
			w.log().ErrorContext(ctx, "acquire slots", "destinationId", d.ID, "error", err)
		}
		return all(items, requeue), results
	}

	var mu sync.Mutex
	failures, trailing, succeeded, suspend, late := st.Failures, 0, false, false, 0
	work := make(chan *item, len(items))
	for _, it := range items {
		work <- it
	}
	close(work)
	var wg sync.WaitGroup
	for range slots {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range work {
				mu.Lock()
				stop := suspend
				mu.Unlock()
				switch {
				case stop:
					mu.Lock()
					out[it] = hold
					mu.Unlock()
					continue
				case !w.timeLeft(ctx, expires):
					mu.Lock()
					out[it] = requeue
					late++
					mu.Unlock()
					continue
				}
				res := w.attempt(ctx, d, sec, it, false)
				mu.Lock()
				results[it] = res
				if res.OK() {
					out[it] = delivered
					succeeded, trailing, failures = true, 0, 0
				} else {
					out[it] = retry
					trailing++
					failures++
					suspend = suspend || w.Config.Trips(failures)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if late > 0 {
		// Re-queued without an attempt: if this repeats, the delivery
		// timeout does not fit in the invocation (pkg/config refuses that).
		w.log().WarnContext(ctx, "no time left in the lease or invocation for an attempt; re-queued", "destinationId", d.ID, "events", late)
	}
	total, err := w.Store.ReleaseLease(ctx, d.ID, leaseID, Outcome{Succeeded: succeeded, TrailingFailures: trailing})
	if err != nil {
		w.log().ErrorContext(ctx, "release lease", "destinationId", d.ID, "error", err)
	}
	if suspend || w.Config.Trips(total) {
		w.suspend(ctx, d, max(failures, total))
	}
	return out, results
}

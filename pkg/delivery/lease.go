package delivery

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/hooksentry/hooksentry/pkg/apperror"
	"github.com/hooksentry/hooksentry/pkg/destination"
)

// acquire claims up to want slots of the destination's limit, waiting a
// bounded time for other workers to release theirs.
func (w *Worker) acquire(ctx context.Context, d destination.Destination, st State, want int, leaseID string) (int, time.Time, error) {
	deadline := w.now().Add(w.Config.MaxSlotWait)
	if dl, ok := ctx.Deadline(); ok && dl.Add(-w.Sender.Timeout-2*time.Second).Before(deadline) {
		deadline = dl.Add(-w.Sender.Timeout - 2*time.Second)
	}
	wait, conflicts := 10*time.Millisecond, 0
	for {
		now := w.now()
		free := d.ServerRateLimit - st.InUse(now)
		if free > 0 {
			k := min(free, want)
			expires := w.leaseExpiry(ctx, now, want, k)
			leases := st.Live(now)
			leases[leaseID] = Lease{Slots: k, Expires: expires}
			err := w.Store.WriteLeases(ctx, d.ID, leases, st.LeaseVersion)
			if err == nil {
				return k, expires, nil
			}
			if apperror.CodeOf(err) != apperror.Conflict {
				return 0, time.Time{}, err
			}
			// Lost a race: re-read at once the first times (someone else
			// made progress), then back off too; never past the deadline.
			conflicts++
		}
		if free <= 0 || conflicts > 3 {
			if now.After(deadline) {
				return 0, time.Time{}, nil
			}
			select {
			case <-ctx.Done():
				return 0, time.Time{}, ctx.Err()
			case <-time.After(wait/2 + time.Duration(rand.Int64N(int64(wait/2)+1))):
			}
			wait = min(wait*2, 100*time.Millisecond)
		}
		if err := ctx.Err(); err != nil {
			return 0, time.Time{}, err
		}
		var err error
		if st, err = w.Store.LoadState(ctx, d.ID); err != nil {
			return 0, time.Time{}, err
		}
	}
}

// leaseExpiry covers every round of attempts the lanes may make, and no
// more than the invocation can last, so a dead worker's slots come back soon.
func (w *Worker) leaseExpiry(ctx context.Context, now time.Time, want, slots int) time.Time {
	rounds := (want + slots - 1) / slots
	expires := now.Add(time.Duration(rounds)*(w.Sender.Timeout+time.Second) + 2*time.Second)
	if dl, ok := ctx.Deadline(); ok && dl.Add(time.Second).Before(expires) {
		expires = dl.Add(time.Second)
	}
	return expires
}

// timeLeft reports whether one more attempt fits in both the lease and the
// invocation: an attempt must never outlive the lease that admits it.
func (w *Worker) timeLeft(ctx context.Context, leaseExpires time.Time) bool {
	end := w.now().Add(w.Sender.Timeout + 500*time.Millisecond)
	if dl, ok := ctx.Deadline(); ok && end.After(dl) {
		return false
	}
	return end.Before(leaseExpires)
}

// abandonGrace is how long a slot stays taken after an attempt that got no
// response (timeout, reset). We closed the connection, but the destination
// only notices when its server reads the close; sending the next request on
// the same slot at once could briefly put serverRateLimit+1 requests in
// flight from its point of view.
const abandonGrace = 100 * time.Millisecond

func (w *Worker) afterAbandoned(ctx context.Context, res Result) {
	if res.Status != 0 || res.Err == nil {
		return
	}
	select {
	case <-ctx.Done():
	case <-time.After(abandonGrace):
	}
}

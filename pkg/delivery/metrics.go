package delivery

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/hooksentry/hooksentry/pkg/metrics"
)

// Metrics receives what each invocation of Handle did (pkg/metrics writes
// it as one EMF line).
type Metrics interface {
	Delivery(b metrics.DeliveryBatch)
}

// tally counts one invocation's work. It travels in the context, because
// the attempts, settling, breaker changes and alerts it counts happen deep
// in the calls of one Handle, and Handle runs concurrently on a shared
// Worker (the local pollers).
type tally struct {
	mu sync.Mutex
	b  metrics.DeliveryBatch
}

type tallyKey struct{}

func withTally(ctx context.Context) (context.Context, *tally) {
	t := &tally{}
	return context.WithValue(ctx, tallyKey{}, t), t
}

// count applies f to the invocation's tally, if ctx carries one.
func count(ctx context.Context, f func(b *metrics.DeliveryBatch)) {
	t, _ := ctx.Value(tallyKey{}).(*tally)
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	f(&t.b)
}

func (t *tally) batch() metrics.DeliveryBatch {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.b
}

// countDelivered counts a delivered event, once its delivery is settled,
// with its latency from receipt (for a replay or a held event, the time it
// waited too: what its sender saw).
func countDelivered(ctx context.Context, it *item, now time.Time) {
	count(ctx, func(b *metrics.DeliveryBatch) {
		b.Delivered++
		b.Latencies = append(b.Latencies, now.Sub(time.UnixMilli(it.full.ReceivedAt)))
	})
}

// countHeld counts the events newly parked: held, less those that could
// not be, and less those taken from a hold (a failed probe parked again).
func countHeld(ctx context.Context, holds, notHeld []*item) {
	n := 0
	for _, it := range holds {
		if it.heldKey == "" && !slices.Contains(notHeld, it) {
			n++
		}
	}
	if n > 0 {
		count(ctx, func(b *metrics.DeliveryBatch) { b.Held += n })
	}
}

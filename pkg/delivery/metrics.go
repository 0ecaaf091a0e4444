package delivery

import (
	"context"
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

// countSettled counts what settling decided for the items: delivered
// events with their latency from receipt, held events (newly parked), and
// events whose attempts are spent.
func countSettled(ctx context.Context, todo map[*item]disposition, now time.Time) {
	count(ctx, func(b *metrics.DeliveryBatch) {
		for it, disp := range todo {
			switch disp {
			case delivered:
				b.Delivered++
				b.Latencies = append(b.Latencies, now.Sub(time.UnixMilli(it.full.ReceivedAt)))
			case hold:
				if it.heldKey == "" {
					b.Held++
				}
			case failed:
				b.Failed++
			}
		}
	})
}

package delivery_test

import (
	"context"
	"slices"
	"sync"

	"github.com/hooksentry/hooksentry/pkg/delivery"
	"github.com/hooksentry/hooksentry/pkg/event"
)

// fakeQueue records what the worker puts back on the delivery queue.
type fakeQueue struct {
	mu       sync.Mutex
	sent     []event.Message
	enqueued []event.Message
	err      error

	onEnqueue func(msgs []event.Message)
}

var _ delivery.Queue = (*fakeQueue)(nil)

func (q *fakeQueue) Send(_ context.Context, m event.Message) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.err != nil {
		return q.err
	}
	q.sent = append(q.sent, m)
	return nil
}

// PublishBatch records msgs as enqueued; onEnqueue, when set, runs first
// (a test interleaves another worker's step there).
func (q *fakeQueue) PublishBatch(_ context.Context, msgs []event.Message) ([]int, error) {
	if q.onEnqueue != nil {
		q.onEnqueue(msgs)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.err != nil {
		failed := make([]int, len(msgs))
		for i := range msgs {
			failed[i] = i
		}
		return failed, q.err
	}
	q.enqueued = append(q.enqueued, msgs...)
	return nil, nil
}

func (q *fakeQueue) messages() (sent, enqueued []event.Message) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return slices.Clone(q.sent), slices.Clone(q.enqueued)
}

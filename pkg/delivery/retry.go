package delivery

import (
	"context"

	"github.com/hooksentry/hooksentry/pkg/event"
)

// scheduleRetry re-enqueues a failed event with backoff, or stores it as
// Failed once its attempts are spent.
func (w *Worker) scheduleRetry(ctx context.Context, it *item, res Result) error {
	it.spendAttempt()
	if w.Config.Spent(it.msg.Attempts) {
		return w.storeFailed(ctx, it, res)
	}
	m := it.msg
	now := w.now()
	delay := w.Backoff.Delay(m.Attempts, res.RetryAfter)
	m.NotBefore = now.Add(delay).UnixMilli()
	if m.Stored {
		if err := w.Store.RetryStoredEvent(ctx, m.EventID, now.Add(delay+event.StoredGrace), m.Attempts); err != nil {
			return err
		}
	}
	return w.Queue.Send(ctx, m)
}

// storeFailed keeps an event whose attempts are spent, body included, for
// inspection and replay.
func (w *Worker) storeFailed(ctx context.Context, it *item, res Result) error {
	w.log().WarnContext(ctx, "event failed permanently", "eventId", it.msg.EventID, "destinationId", it.msg.DestinationID, "attempts", it.full.Attempts, "lastStatus", res.Status)
	return w.Store.PutEvent(ctx, it.full, event.StatusFailed, w.now())
}

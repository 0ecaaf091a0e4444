package delivery

import (
	"context"
	"fmt"
	"time"

	"github.com/hooksentry/hooksentry/pkg/alert"
	"github.com/hooksentry/hooksentry/pkg/apperror"
	"github.com/hooksentry/hooksentry/pkg/destination"
	"github.com/hooksentry/hooksentry/pkg/event"
	"github.com/hooksentry/hooksentry/pkg/metrics"
)

// planRetry spends the failed attempt of it and returns when its retry is
// due, or spent when its attempts are spent (it is stored as Failed
// instead). Settling knows the due time before anything is sent, so the
// event's history shows it.
func (w *Worker) planRetry(it *item, res Result) (due time.Time, spent bool) {
	it.spendAttempt()
	if w.Config.Spent(it.msg.Attempts) {
		return time.Time{}, true
	}
	return w.now().Add(w.Backoff.Delay(it.msg.Attempts, res.RetryAfter)), false
}

// scheduleRetry re-enqueues a failed event for its due time (it.due).
func (w *Worker) scheduleRetry(ctx context.Context, it *item) error {
	m := it.msg
	m.NotBefore = it.due.UnixMilli()
	if m.Stored {
		if err := w.Store.RetryStoredEvent(ctx, m.EventID, it.due.Add(event.StoredGrace), m.Attempts); err != nil {
			return err
		}
	}
	return w.Queue.Send(ctx, m)
}

// storeFailed keeps an event whose attempts are spent, body included, for
// inspection and replay.
func (w *Worker) storeFailed(ctx context.Context, d destination.Destination, it *item, res Result) error {
	now := w.now()
	err := w.Store.PutEvent(ctx, it.full, event.StatusFailed, now)
	if apperror.CodeOf(err) == apperror.Conflict {
		// Stored Failed at this attempt count already (a duplicate
		// message, or another worker): settled, and told, by the first.
		return nil
	}
	if err != nil {
		return err
	}
	w.log().WarnContext(ctx, "event failed permanently", "eventId", it.msg.EventID, "destinationId", it.msg.DestinationID, "attempts", it.full.Attempts, "lastStatus", res.Status)
	count(ctx, func(b *metrics.DeliveryBatch) { b.Failed++ })
	// An alert's own failure raises no alert: two broken alert
	// destinations would otherwise alert each other forever.
	if !it.full.Alert {
		w.alert(ctx, alert.Occurrence{
			Type: alert.EventFailed, OccurredAt: now, TenantID: d.TenantID, DestinationID: d.ID, EventID: it.msg.EventID,
			Detail: fmt.Sprintf("Event %s to destination %s (%s) failed for good after %d attempts; it can be replayed.", it.msg.EventID, d.ID, alert.Host(d.URL), it.full.Prior+it.full.Attempts),
		})
	}
	return nil
}

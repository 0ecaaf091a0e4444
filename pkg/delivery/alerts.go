package delivery

import (
	"context"
	"fmt"

	"github.com/hooksentry/hooksentry/pkg/alert"
	"github.com/hooksentry/hooksentry/pkg/destination"
	"github.com/hooksentry/hooksentry/pkg/event"
	"github.com/hooksentry/hooksentry/pkg/metrics"
)

// Subscribers lists a tenant's destinations, to find who receives an
// alert (CONTRACT §6).
type Subscribers interface {
	ListDestinations(ctx context.Context, tenantID string) ([]destination.Destination, error)
}

// alert publishes o to the tenant's destinations subscribed to its type,
// as ordinary events. It is called right after the conditional write that
// decided the occurrence (of many workers, only the one whose Suspend or
// Reactivate succeeded, or that stored the event Failed), so an occurrence
// gives one alert per recipient. A crash between that write and this
// publish loses the alert, never the events it is about; a publish that
// fails is logged. It returns how many alerts it published.
func (w *Worker) alert(ctx context.Context, o alert.Occurrence) int {
	if w.Subscribers == nil {
		return 0
	}
	ctx = context.WithoutCancel(ctx) // the occurrence happened: tell it even if the invocation ends
	dests, err := w.Subscribers.ListDestinations(ctx, o.TenantID)
	if err != nil {
		w.log().ErrorContext(ctx, "list alert recipients", "alert", string(o.Type), "destinationId", o.DestinationID, "error", err)
		return 0
	}
	subs := make([]alert.Subscriber, 0, len(dests))
	for _, d := range dests {
		subs = append(subs, alert.Subscriber{ID: d.ID, Alerts: d.Alerts})
	}
	recipients := alert.Recipients(o, subs)
	if len(recipients) == 0 {
		return 0
	}
	now := w.now()
	msgs := make([]event.Message, len(recipients))
	for i, id := range recipients {
		msgs[i] = alert.Message(o, id, now)
	}
	failed, err := w.Queue.PublishBatch(ctx, msgs)
	if err == nil && len(failed) > 0 {
		err = fmt.Errorf("%d of %d alerts not published", len(failed), len(msgs))
	}
	if err != nil {
		w.log().ErrorContext(ctx, "publish alerts", "alert", string(o.Type), "destinationId", o.DestinationID, "error", err)
	}
	sent := len(msgs) - len(failed)
	if err != nil && len(failed) == 0 {
		sent = 0
	}
	count(ctx, func(b *metrics.DeliveryBatch) { b.Alerts += sent })
	return sent
}

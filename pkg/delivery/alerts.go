package delivery

import (
	"context"
	"fmt"
	"log/slog"
	"time"

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

// Publisher makes events durable in batches (an event.Publisher).
type Publisher interface {
	PublishBatch(ctx context.Context, msgs []event.Message) ([]int, error)
}

// Alerter publishes alerts as ordinary events to the tenant's destinations
// subscribed to their type. The worker and the sweeper call it right after
// the conditional write that decided an occurrence (of many workers, only
// the one whose Suspend or Reactivate succeeded, or that stored the event
// Failed), so an occurrence gives one alert per recipient. A crash between
// that write and the publish loses the alert, never the events it is
// about; a publish that fails is logged.
type Alerter struct {
	Subscribers Subscribers
	Queue       Publisher
	Log         *slog.Logger
	Now         func() time.Time
}

// Publish publishes o and returns how many alerts it published.
func (a *Alerter) Publish(ctx context.Context, o alert.Occurrence) int {
	if a == nil || a.Subscribers == nil {
		return 0
	}
	log := a.Log
	if log == nil {
		log = slog.Default()
	}
	ctx = context.WithoutCancel(ctx) // the occurrence happened: tell it even if the invocation ends
	dests, err := a.Subscribers.ListDestinations(ctx, o.TenantID)
	if err != nil {
		log.ErrorContext(ctx, "list alert recipients", "alert", string(o.Type), "destinationId", o.DestinationID, "error", err)
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
	now := time.Now()
	if a.Now != nil {
		now = a.Now()
	}
	msgs := make([]event.Message, len(recipients))
	for i, id := range recipients {
		msgs[i] = alert.Message(o, id, now)
	}
	failed, err := a.Queue.PublishBatch(ctx, msgs)
	if err != nil && len(failed) == 0 {
		failed = make([]int, len(msgs)) // an error without indexes: none went out
	}
	if len(failed) > 0 {
		log.ErrorContext(ctx, "publish alerts", "alert", string(o.Type), "destinationId", o.DestinationID,
			"error", fmt.Sprintf("%d of %d alerts not published: %v", len(failed), len(msgs), err))
	}
	return len(msgs) - len(failed)
}

// alert publishes o with the worker's subscribers and queue, and counts
// what it sent in the invocation's metrics.
func (w *Worker) alert(ctx context.Context, o alert.Occurrence) int {
	if w.Subscribers == nil {
		return 0
	}
	a := &Alerter{Subscribers: w.Subscribers, Queue: w.Queue, Log: w.log(), Now: w.Now}
	sent := a.Publish(ctx, o)
	count(ctx, func(b *metrics.DeliveryBatch) { b.Alerts += sent })
	return sent
}

package delivery

import (
	"context"
	"time"

	"github.com/hooksentry/hooksentry/pkg/destination"
)

// attempt makes one delivery attempt of it and, with Config.LogAttempts,
// logs one line for it: what a developer watching make run wants to see.
// Errors are the Sender's, which never carry credentials or the URL.
func (w *Worker) attempt(ctx context.Context, d destination.Destination, creds destination.Credentials, it *item, probe bool) Result {
	start := time.Now()
	res := w.Sender.Attempt(ctx, d, creds, it.full)
	if w.Config.LogAttempts {
		outcome := "delivered"
		if !res.OK() {
			outcome = "failed"
		}
		attrs := []any{
			"eventId", it.msg.EventID, "destinationId", d.ID, "attempt", max(it.msg.Attempts, it.full.Attempts) + 1,
			"outcome", outcome, "status", res.Status, "durationMs", time.Since(start).Milliseconds(),
		}
		if probe {
			attrs = append(attrs, "probe", true)
		}
		if res.Err != nil {
			attrs = append(attrs, "error", res.Err.Error())
		}
		w.log().InfoContext(ctx, "delivery attempt", attrs...)
	}
	w.afterAbandoned(ctx, res)
	return res
}

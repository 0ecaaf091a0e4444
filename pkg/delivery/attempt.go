package delivery

import (
	"context"
	"time"

	"github.com/hooksentry/hooksentry/pkg/destination"
	"github.com/hooksentry/hooksentry/pkg/history"
	"github.com/hooksentry/hooksentry/pkg/metrics"
)

// attempt makes one delivery attempt of it, keeps the attempt for the
// event's history (it.attempt, numbered as the HookSentry-Attempt header
// counts, before any attempt is spent) and, with Config.LogAttempts, logs
// one line for it: what a developer watching make run wants to see.
// Errors are the Sender's, which never carry credentials or the URL. A
// probe is an Automatic attempt, even of a replayed event.
func (w *Worker) attempt(ctx context.Context, d destination.Destination, sec opened, it *item, probe bool) Result {
	m := it.full
	m.Attempts = it.attempts()
	trigger := history.Automatic
	if m.Manual && !probe {
		trigger = history.Manual
	}
	startedAt := w.now()
	start := time.Now() // monotonic, whatever the injected clock does
	// m, not it.full: its Attempts is the event's count (the message's
	// and the stored copy's may differ), so HookSentry-Attempt and the
	// history number this attempt alike.
	res := w.Sender.AttemptSigned(ctx, d, sec.creds, sec.signing, m)
	elapsed := time.Since(start)
	count(ctx, func(b *metrics.DeliveryBatch) {
		b.Attempts++
		if !res.OK() {
			b.AttemptsFailed++
		}
	})
	it.attempt = &history.Attempt{
		Number: m.AttemptNumber(), StartedAt: startedAt, Duration: elapsed, Trigger: trigger,
		Delivered: res.OK(), StatusCode: res.Status, ResponseBody: res.ResponseBody,
	}
	if !res.OK() {
		it.attempt.Error = res.ErrorClass
	}
	if w.Config.LogAttempts {
		outcome := "delivered"
		if !res.OK() {
			outcome = "failed"
		}
		attrs := []any{
			"eventId", it.msg.EventID, "destinationId", d.ID, "attempt", it.attempt.Number,
			"outcome", outcome, "status", res.Status, "durationMs", elapsed.Milliseconds(),
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

// Package delivery owns getting events to destinations: the SQS consumer
// (Worker.Handle) with partial batch failures, the concurrency limit shared
// by every worker through leases, the circuit breaker, retries with backoff,
// holding events for destinations that are not Active and draining them
// again, and the outbound HTTP attempt with each auth type.
//
// It also writes every event's history (CONTRACT §5): settling a
// destination's events makes one history.Change per event (delivered,
// retried, failed, held, or re-queued before its record exists) and sends
// them in one Recorder call, before any of them is sent, held or stored,
// so the messages that go on carry Recorded. History is observability:
// when the Recorder fails the error is logged and the events are settled
// as if it had succeeded (delivery never waits on, or is redelivered for,
// its history); their messages keep the Recorded flag they had, so the
// next change of an event without a record creates it.
//
// One file per concern: batch.go (a batch, grouped by destination, and
// settling each outcome), lanes.go (attempts over the leased slots),
// lease.go (the concurrency limit), breaker.go (the breaker's rules),
// probe.go (probing a suspended destination), retry.go (the retry
// schedule), hold.go (holding and draining), attempt.go (one attempt as
// the worker makes it), sender.go (one HTTP attempt), failure.go (a
// failed attempt's error class and redacted answer), history.go (the
// history changes of a batch), ports.go (what delivery needs from the
// table and the queue). See docs/DELIVERY.md.
package delivery

import (
	"context"
	"log/slog"
	"time"

	"github.com/hooksentry/hooksentry/pkg/destination"
	"github.com/hooksentry/hooksentry/pkg/history"
)

// Config holds the delivery rules (validated by pkg/config).
type Config struct {
	MaxAttempts      int
	FailureThreshold int
	Cooldown         time.Duration // first wait before a probe
	MaxCooldown      time.Duration // cap on the growing cooldown
	MaxSlotWait      time.Duration // how long a batch waits for a free slot
	LogAttempts      bool          // one log line per attempt (make run; off in Lambda, where lines cost)
	// RecordPendingAfter is how long a batch may take before its events
	// without a record are recorded Pending, so that they are readable
	// while a slow attempt or a wait for a slot lasts; zero means
	// DefaultRecordPendingAfter.
	RecordPendingAfter time.Duration
}

// DefaultRecordPendingAfter keeps an event readable within 5 s of its 202
// (CONTRACT §5): up to 1 s in the queue's batching window, 2 s here, and
// the write, while a batch that answers in time writes once.
const DefaultRecordPendingAfter = 2 * time.Second

// Worker consumes batches from the delivery queue.
type Worker struct {
	Store   Store
	Queue   Queue
	Sender  *Sender
	Sealer  destination.Sealer
	Backoff Backoff
	Config  Config
	// History records every settled event's change (history.go); nil
	// records nothing.
	History history.Recorder
	// Subscribers finds the recipients of alerts (alerts.go); nil sends
	// none.
	Subscribers Subscribers
	// Metrics receives each invocation's counts (metrics.go); nil: none.
	Metrics Metrics
	Now     func() time.Time
	Log     *slog.Logger
}

func (w *Worker) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}

func (w *Worker) log() *slog.Logger {
	if w.Log != nil {
		return w.Log
	}
	return slog.Default()
}

// opened is what a destination's deliveries need opened: its
// credentials and its signing keys.
type opened struct {
	creds   destination.Credentials
	signing destination.SigningKeys
}

// open opens d's credentials and signing keys. Each sealed value costs
// one KMS Decrypt per data-key cache period (pkg/envelope), however many
// batches a warm worker delivers meanwhile. The previous signing key is
// opened only while it is valid.
func (w *Worker) open(ctx context.Context, d destination.Destination) (opened, error) {
	var out opened
	if d.AuthType != destination.AuthNone {
		creds, err := destination.OpenCredentials(ctx, w.Sealer, d)
		if err != nil {
			return opened{}, err
		}
		out.creds = creds
	}
	keys, err := destination.OpenSigningKeys(ctx, w.Sealer, d, w.now())
	if err != nil {
		return opened{}, err
	}
	out.signing = keys
	return out, nil
}

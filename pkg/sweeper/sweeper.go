// Package sweeper owns the scheduled safety net of delivery: it re-drives
// events that nothing else would move again — held events of destinations
// that became Active or whose breaker cooldown passed, stored events whose
// message was lost (a crash between store and enqueue), and messages that
// landed in the dead-letter queue (a worker crashing on them repeatedly).
package sweeper

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/hooksentry/hooksentry/pkg/alert"
	"github.com/hooksentry/hooksentry/pkg/apperror"
	"github.com/hooksentry/hooksentry/pkg/delivery"
	"github.com/hooksentry/hooksentry/pkg/destination"
	"github.com/hooksentry/hooksentry/pkg/event"
	"github.com/hooksentry/hooksentry/pkg/history"
)

// Store is what the sweeper reads and writes in the table.
type Store interface {
	delivery.TargetStore
	HeldDestinations(ctx context.Context) ([]string, error)
	ListHeld(ctx context.Context, destinationID string, limit int) ([]event.Held, error)
	DeleteHeld(ctx context.Context, destinationID string, sortKeys []string) error
	ClearHeldFlag(ctx context.Context, destinationID string) error
	DeleteState(ctx context.Context, destinationID string) error
	DueEvents(ctx context.Context, before time.Time, limit int) ([]string, error)
	GetEvent(ctx context.Context, eventID string) (event.Message, string, bool, error)
	PutEvent(ctx context.Context, m event.Message, status string, due time.Time) error
	FailStoredEvent(ctx context.Context, eventID string, attempts int, failedAt time.Time) error
	RescheduleEvent(ctx context.Context, eventID string, due time.Time) error
}

// Queue sends to the delivery queue.
type Queue interface {
	Send(ctx context.Context, m event.Message) error
}

// DLQ is the dead-letter queue's client.
type DLQ interface {
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, opts ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, opts ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
}

// MaxRedrives is how often a message may come back from the DLQ before its
// event is stored as failed instead: a poison message must not loop forever.
const MaxRedrives = 3

// Sweeper runs one sweep per scheduled invocation.
type Sweeper struct {
	Store  Store
	Queue  Queue
	DLQ    DLQ
	DLQURL string
	// History records an event that the DLQ gave up on as Failed; nil
	// records nothing.
	History history.Recorder
	// Alerts publishes event.failed for events it stores Failed; nil
	// publishes none.
	Alerts *delivery.Alerter
	Now    func() time.Time
	Log    *slog.Logger
}

// New wires a sweeper with an SQS client built from cfg for the DLQ.
func New(cfg aws.Config, st Store, q Queue, dlqURL string, log *slog.Logger) *Sweeper {
	return &Sweeper{Store: st, Queue: q, DLQ: sqs.NewFromConfig(cfg), DLQURL: dlqURL, Log: log}
}

// recordFailed marks the history of an event the DLQ gave up on Failed.
// Best effort, like the deliver function's history: the event itself is
// kept as Failed either way. A reference without a record gets its body
// from the stored event, to create the record with.
func (s *Sweeper) recordFailed(ctx context.Context, m event.Message) {
	if s.History == nil {
		return
	}
	if m.Stored && !m.Recorded {
		full, _, found, err := s.Store.GetEvent(ctx, m.EventID)
		if err != nil || !found {
			s.log().ErrorContext(ctx, "read dead-lettered event for its history", "eventId", m.EventID, "found", found, "error", err)
			return
		}
		m = m.WithStored(full)
	}
	// It may have a record already that the message does not know of.
	if err := s.History.Record(ctx, []history.Change{{Event: m, Status: history.Failed, MayExist: true}}); err != nil {
		s.log().ErrorContext(ctx, "record dead-lettered event failed", "eventId", m.EventID, "destinationId", m.DestinationID, "error", err)
	}
}

// Report counts what a sweep moved, and the items it had to skip.
type Report struct {
	DrainsRequested int
	ProbesRequested int
	StoredRedriven  int
	DLQRedriven     int
	DLQFailed       int
	OrphansDropped  int
	Errors          int // items skipped after an error (logged); retried next sweep
}

func (s *Sweeper) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Sweeper) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

// Handle is the scheduled Lambda entry point.
func (s *Sweeper) Handle(ctx context.Context, _ events.CloudWatchEvent) error {
	r, err := s.Sweep(ctx)
	s.log().InfoContext(ctx, "sweep finished", "drains", r.DrainsRequested, "probes", r.ProbesRequested,
		"stored", r.StoredRedriven, "dlqRedriven", r.DLQRedriven, "dlqFailed", r.DLQFailed, "orphans", r.OrphansDropped, "errors", r.Errors)
	return err
}

// Sweep does one pass over held events, stored events and the DLQ. One
// item's failure is logged and skipped, never the rest of the pass: every
// step runs. The error joins what went wrong, for the invocation's status.
func (s *Sweeper) Sweep(ctx context.Context) (Report, error) {
	var r Report
	var errs []error
	skip := func(err error, msg string, args ...any) {
		r.Errors++
		errs = append(errs, err)
		s.log().ErrorContext(ctx, msg, append(args, "error", err)...)
	}
	s.sweepHeld(ctx, &r, skip)
	s.sweepStored(ctx, &r, skip)
	if s.DLQ != nil && s.DLQURL != "" {
		s.sweepDLQ(ctx, &r, skip)
	}
	return r, errors.Join(errs...)
}

// skipFunc logs and counts one item's failure.
type skipFunc func(err error, msg string, args ...any)

func (s *Sweeper) sweepHeld(ctx context.Context, r *Report, skip skipFunc) {
	ids, err := s.Store.HeldDestinations(ctx)
	if err != nil {
		skip(err, "list destinations with held events")
		return
	}
	now := s.now()
	for _, id := range ids {
		d, st, found, err := s.Store.LoadTarget(ctx, id)
		if err != nil {
			skip(err, "load destination with held events", "destinationId", id)
			continue
		}
		switch {
		case !found:
			n, err := s.dropHeld(ctx, id)
			r.OrphansDropped += n
			if err != nil {
				skip(err, "drop held events of deleted destination", "destinationId", id)
			}
		case d.Status == destination.Active:
			if err := s.Queue.Send(ctx, event.DrainRequest(id)); err != nil {
				skip(err, "request drain", "destinationId", id)
				continue
			}
			r.DrainsRequested++
		case d.Status == destination.Suspended && st.ProbeDue(now):
			// The probe request sent when the breaker opened may be lost:
			// ask again. A worker claims the probe, so duplicates are harmless.
			if err := s.Queue.Send(ctx, event.ProbeRequest(id, now)); err != nil {
				skip(err, "request probe", "destinationId", id)
				continue
			}
			r.ProbesRequested++
		}
	}
}

// dropHeld deletes the held events of a deleted destination, then its
// flag and its delivery state.
func (s *Sweeper) dropHeld(ctx context.Context, id string) (int, error) {
	n := 0
	for {
		held, err := s.Store.ListHeld(ctx, id, 100)
		if err != nil {
			return n, err
		}
		if len(held) == 0 {
			if err := s.Store.ClearHeldFlag(ctx, id); err != nil {
				return n, err
			}
			return n, s.Store.DeleteState(ctx, id)
		}
		keys := make([]string, len(held))
		for i, h := range held {
			keys[i] = h.SortKey
		}
		if err := s.Store.DeleteHeld(ctx, id, keys); err != nil {
			return n, err
		}
		n += len(held)
	}
}

func (s *Sweeper) sweepStored(ctx context.Context, r *Report, skip skipFunc) {
	now := s.now()
	ids, err := s.Store.DueEvents(ctx, now, 100)
	if err != nil {
		skip(err, "list due stored events")
		return
	}
	for _, id := range ids {
		m, status, found, err := s.Store.GetEvent(ctx, id)
		if err != nil {
			skip(err, "read due stored event", "eventId", id)
			continue
		}
		if !found || status != event.StatusPending {
			continue
		}
		if err := s.Store.RescheduleEvent(ctx, id, now.Add(event.StoredGrace)); err != nil {
			skip(err, "reschedule stored event", "eventId", id)
			continue
		}
		if err := s.Queue.Send(ctx, m.Reference()); err != nil {
			skip(err, "re-drive stored event", "eventId", id)
			continue
		}
		r.StoredRedriven++
	}
}

// sweepDLQ moves at most 100 dead-lettered messages per sweep back to the
// delivery queue. A message whose event cannot be settled now stays in the
// DLQ for the next sweep.
func (s *Sweeper) sweepDLQ(ctx context.Context, r *Report, skip skipFunc) {
	for range 10 {
		out, err := s.DLQ.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(s.DLQURL), MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 60,
		})
		if err != nil {
			skip(fmt.Errorf("receive from DLQ: %w", err), "receive from DLQ")
			return
		}
		if len(out.Messages) == 0 {
			return
		}
		var done []types.DeleteMessageBatchRequestEntry
		for i, msg := range out.Messages {
			m, err := event.Decode(aws.ToString(msg.Body))
			if err != nil {
				continue // unreadable: stays for an operator; the DLQ alarm fires
			}
			if err := s.settleDead(ctx, m, r); err != nil {
				skip(err, "re-drive dead-lettered message", "eventId", m.EventID, "destinationId", m.DestinationID)
				continue
			}
			done = append(done, types.DeleteMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), ReceiptHandle: msg.ReceiptHandle})
		}
		if len(done) > 0 {
			if _, err := s.DLQ.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(s.DLQURL), Entries: done}); err != nil {
				skip(fmt.Errorf("delete from DLQ: %w", err), "delete from DLQ")
				return
			}
		}
	}
}

// failed records and reports an event the DLQ gave up on, once it is
// stored Failed (the write only this sweep made for it): its history, and
// an event.failed alert unless it is an alert itself.
func (s *Sweeper) failed(ctx context.Context, m event.Message, r *Report) {
	s.recordFailed(ctx, m)
	r.DLQFailed++
	if m.Alert {
		return
	}
	now := s.now()
	s.Alerts.Publish(ctx, alert.Occurrence{
		Type: alert.EventFailed, OccurredAt: now, TenantID: m.TenantID, DestinationID: m.DestinationID, EventID: m.EventID,
		Detail: fmt.Sprintf("Event %s failed for good: its message could not be processed after %d redrives from the dead-letter queue; it can be replayed.", m.EventID, MaxRedrives),
	})
}

// settleDead sends a dead-lettered message back to the delivery queue, or,
// after MaxRedrives, stores its event as Failed. A stored event is marked
// Failed where it is, keeping its body; one that is gone was settled
// already and needs nothing.
func (s *Sweeper) settleDead(ctx context.Context, m event.Message, r *Report) error {
	m.Redrives++
	if m.Redrives <= MaxRedrives || m.Control() {
		if err := s.Queue.Send(ctx, m); err != nil {
			return err
		}
		r.DLQRedriven++
		return nil
	}
	if !m.Stored {
		err := s.Store.PutEvent(ctx, m, event.StatusFailed, s.now())
		switch {
		case apperror.CodeOf(err) == apperror.Conflict:
			return nil // Failed already (a duplicate message): recorded and told then
		case err != nil:
			return err
		}
		s.failed(ctx, m, r)
		return nil
	}
	err := s.Store.FailStoredEvent(ctx, m.EventID, m.Attempts, s.now())
	switch {
	case apperror.CodeOf(err) == apperror.NotFound:
		return nil // delivered or expired: nothing to keep
	case err != nil:
		return err
	}
	s.failed(ctx, m, r)
	return nil
}

// Package sweeper owns the scheduled safety net of delivery: it re-drives
// events that nothing else would move again — held events of destinations
// that became Active or whose breaker cooldown passed, stored events whose
// message was lost (a crash between store and enqueue), and messages that
// landed in the dead-letter queue (a worker crashing on them repeatedly).
package sweeper

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/hooksentry/hooksentry/pkg/delivery"
	"github.com/hooksentry/hooksentry/pkg/destination"
	"github.com/hooksentry/hooksentry/pkg/event"
)

// Store is what the sweeper reads and writes in the table.
type Store interface {
	HeldDestinations(ctx context.Context) ([]string, error)
	LoadTarget(ctx context.Context, destinationID string) (destination.Destination, delivery.State, bool, error)
	ListHeld(ctx context.Context, destinationID string, limit int) ([]event.Held, error)
	DeleteHeld(ctx context.Context, destinationID string, sortKeys []string) error
	ClearHeldFlag(ctx context.Context, destinationID string) error
	DueEvents(ctx context.Context, before time.Time, limit int) ([]string, error)
	GetEvent(ctx context.Context, eventID string) (event.Message, string, bool, error)
	PutEvent(ctx context.Context, m event.Message, status string, due time.Time) error
	RescheduleEvent(ctx context.Context, eventID string, due time.Time) error
}

// Queue sends to the delivery queue.
type Queue interface {
	Send(ctx context.Context, m event.Message) error
	Enqueue(ctx context.Context, m event.Message) error
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
	Now    func() time.Time
	Log    *slog.Logger
}

// New wires a sweeper with an SQS client built from cfg for the DLQ.
func New(cfg aws.Config, st Store, q Queue, dlqURL string, log *slog.Logger) *Sweeper {
	return &Sweeper{Store: st, Queue: q, DLQ: sqs.NewFromConfig(cfg), DLQURL: dlqURL, Log: log}
}

// Report counts what a sweep moved.
type Report struct {
	DrainsRequested int
	ProbesReleased  int
	StoredRedriven  int
	DLQRedriven     int
	DLQFailed       int
	OrphansDropped  int
}

func (s *Sweeper) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Handle is the scheduled Lambda entry point.
func (s *Sweeper) Handle(ctx context.Context, _ events.CloudWatchEvent) error {
	r, err := s.Sweep(ctx)
	log := s.Log
	if log == nil {
		log = slog.Default()
	}
	log.InfoContext(ctx, "sweep finished", "drains", r.DrainsRequested, "probes", r.ProbesReleased,
		"stored", r.StoredRedriven, "dlqRedriven", r.DLQRedriven, "dlqFailed", r.DLQFailed, "orphans", r.OrphansDropped)
	return err
}

// Sweep does one pass over held events, stored events and the DLQ.
func (s *Sweeper) Sweep(ctx context.Context) (Report, error) {
	var r Report
	if err := s.sweepHeld(ctx, &r); err != nil {
		return r, err
	}
	if err := s.sweepStored(ctx, &r); err != nil {
		return r, err
	}
	if s.DLQ != nil && s.DLQURL != "" {
		if err := s.sweepDLQ(ctx, &r); err != nil {
			return r, err
		}
	}
	return r, nil
}

func (s *Sweeper) sweepHeld(ctx context.Context, r *Report) error {
	ids, err := s.Store.HeldDestinations(ctx)
	if err != nil {
		return err
	}
	now := s.now()
	for _, id := range ids {
		d, st, found, err := s.Store.LoadTarget(ctx, id)
		if err != nil {
			return err
		}
		switch {
		case !found:
			n, err := s.dropHeld(ctx, id)
			r.OrphansDropped += n
			if err != nil {
				return err
			}
		case d.Status == destination.Active:
			if err := s.Queue.Send(ctx, event.Message{DestinationID: id, Drain: true}); err != nil {
				return err
			}
			r.DrainsRequested++
		case d.Status == destination.Suspended && !now.Before(st.OpenUntil) && !now.Before(st.ProbeUntil):
			// Nothing is arriving to probe with: release the oldest held
			// event so that a worker probes the destination with it.
			held, err := s.Store.ListHeld(ctx, id, 1)
			if err != nil {
				return err
			}
			if len(held) == 0 {
				continue
			}
			if err := s.Queue.Enqueue(ctx, held[0].Message); err != nil {
				return err
			}
			if err := s.Store.DeleteHeld(ctx, id, []string{held[0].SortKey}); err != nil {
				return err
			}
			r.ProbesReleased++
		}
	}
	return nil
}

func (s *Sweeper) dropHeld(ctx context.Context, id string) (int, error) {
	n := 0
	for {
		held, err := s.Store.ListHeld(ctx, id, 100)
		if err != nil || len(held) == 0 {
			if err == nil {
				err = s.Store.ClearHeldFlag(ctx, id)
			}
			return n, err
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

func (s *Sweeper) sweepStored(ctx context.Context, r *Report) error {
	now := s.now()
	ids, err := s.Store.DueEvents(ctx, now, 100)
	if err != nil {
		return err
	}
	for _, id := range ids {
		m, status, found, err := s.Store.GetEvent(ctx, id)
		if err != nil {
			return err
		}
		if !found || status != event.StatusPending {
			continue
		}
		if err := s.Store.RescheduleEvent(ctx, id, now.Add(event.StoredGrace)); err != nil {
			return err
		}
		ref := event.Message{Version: 1, EventID: m.EventID, DestinationID: m.DestinationID, TenantID: m.TenantID, ReceivedAt: m.ReceivedAt, Attempts: m.Attempts, Stored: true}
		if err := s.Queue.Send(ctx, ref); err != nil {
			return err
		}
		r.StoredRedriven++
	}
	return nil
}

// sweepDLQ moves at most 100 dead-lettered messages per sweep back to the
// delivery queue.
func (s *Sweeper) sweepDLQ(ctx context.Context, r *Report) error {
	for range 10 {
		out, err := s.DLQ.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(s.DLQURL), MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 60,
		})
		if err != nil {
			return fmt.Errorf("receive from DLQ: %w", err)
		}
		if len(out.Messages) == 0 {
			return nil
		}
		var done []types.DeleteMessageBatchRequestEntry
		for i, msg := range out.Messages {
			m, err := event.Decode(aws.ToString(msg.Body))
			if err != nil {
				continue // unreadable: stays for an operator; the DLQ alarm fires
			}
			if m.Redrives++; m.Redrives > MaxRedrives && !m.Drain {
				full := m
				if m.Stored {
					if stored, _, found, err := s.Store.GetEvent(ctx, m.EventID); err == nil && found {
						// The stored copy has the body; the message has the
						// counts, as the worker's loadBodies keeps them.
						full = stored
						full.Attempts, full.Redrives = m.Attempts, m.Redrives
					}
				}
				full.Stored = false
				if err := s.Store.PutEvent(ctx, full, event.StatusFailed, s.now()); err != nil {
					return err
				}
				r.DLQFailed++
			} else {
				if err := s.Queue.Send(ctx, m); err != nil {
					return err
				}
				r.DLQRedriven++
			}
			done = append(done, types.DeleteMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), ReceiptHandle: msg.ReceiptHandle})
		}
		if len(done) > 0 {
			if _, err := s.DLQ.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(s.DLQURL), Entries: done}); err != nil {
				return fmt.Errorf("delete from DLQ: %w", err)
			}
		}
	}
	return nil
}

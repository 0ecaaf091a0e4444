// Package queue owns HookSentry's use of SQS: sending event messages with a
// delay (chaining delays longer than SQS's 15-minute maximum through the
// message's NotBefore), in batches where possible.
package queue

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/hooksentry/hooksentry/pkg/event"
)

// MaxDelay is the longest delay SQS applies to one message.
const MaxDelay = 15 * time.Minute

// SQS is the part of the SQS client the queue uses.
type SQS interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
	SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, opts ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
}

// Queue sends messages to the delivery queue.
type Queue struct {
	SQS    SQS
	URL    string
	Events EventStore // for bodies too large for a message
	Now    func() time.Time
}

func (q *Queue) now() time.Time {
	if q.Now != nil {
		return q.Now()
	}
	return time.Now()
}

// delaySeconds is how long SQS should hide m: until NotBefore, at most 15
// minutes; the consumer re-sends a message that arrives early.
func (q *Queue) delaySeconds(m event.Message) int32 {
	d := time.UnixMilli(m.NotBefore).Sub(q.now())
	if d <= 0 {
		return 0
	}
	d = min(d, MaxDelay)
	return int32((d + time.Second - 1) / time.Second)
}

// Send enqueues one message.
func (q *Queue) Send(ctx context.Context, m event.Message) error {
	body, err := m.Encode()
	if err != nil {
		return err
	}
	_, err = q.SQS.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl: aws.String(q.URL), MessageBody: aws.String(body), DelaySeconds: q.delaySeconds(m),
	})
	if err != nil {
		return fmt.Errorf("send message %s: %w", m.EventID, err)
	}
	return nil
}

// maxBatchPayload is SQS's limit on the total size of one batch request.
const maxBatchPayload = 256 << 10

// EnqueueBatch enqueues messages with as few requests as SQS allows (ten
// messages or 256 KiB per request); a message too large for the queue goes
// through Enqueue. It returns the indexes of messages that were not
// accepted, with the first error.
func (q *Queue) EnqueueBatch(ctx context.Context, msgs []event.Message) (failed []int, err error) {
	note := func(e error, idx ...int) {
		failed = append(failed, idx...)
		if err == nil {
			err = e
		}
	}
	var entries []types.SendMessageBatchRequestEntry
	size := 0
	flush := func() {
		if len(entries) == 0 {
			return
		}
		out, sendErr := q.SQS.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(q.URL), Entries: entries})
		if sendErr != nil {
			for _, e := range entries {
				i, _ := strconv.Atoi(aws.ToString(e.Id))
				note(fmt.Errorf("send message batch: %w", sendErr), i)
			}
		} else {
			for _, f := range out.Failed {
				i, _ := strconv.Atoi(aws.ToString(f.Id))
				note(fmt.Errorf("send message batch entry: %s %s", aws.ToString(f.Code), aws.ToString(f.Message)), i)
			}
		}
		entries, size = nil, 0
	}
	for i, m := range msgs {
		body, encErr := m.Encode()
		switch {
		case encErr != nil:
			note(encErr, i)
			continue
		case len(body) > event.MaxInlineMessage:
			if e := q.Enqueue(ctx, m); e != nil {
				note(e, i)
			}
			continue
		}
		if len(entries) == 10 || size+len(body) > maxBatchPayload {
			flush()
		}
		entries = append(entries, types.SendMessageBatchRequestEntry{
			Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String(body), DelaySeconds: q.delaySeconds(m),
		})
		size += len(body)
	}
	flush()
	return failed, err
}

// EventStore keeps events whose bodies do not fit in a message.
type EventStore interface {
	PutEvent(ctx context.Context, m event.Message, status string, due time.Time) error
}

// Enqueue sends an event, storing its body in the table first when the
// message would exceed SQS's size limit. Only then is it durable.
func (q *Queue) Enqueue(ctx context.Context, m event.Message) error {
	body, err := m.Encode()
	if err != nil {
		return err
	}
	if len(body) <= event.MaxInlineMessage {
		_, err = q.SQS.SendMessage(ctx, &sqs.SendMessageInput{
			QueueUrl: aws.String(q.URL), MessageBody: aws.String(body), DelaySeconds: q.delaySeconds(m),
		})
		if err != nil {
			return fmt.Errorf("send message %s: %w", m.EventID, err)
		}
		return nil
	}
	if q.Events == nil {
		return fmt.Errorf("event %s is too large for a message and no event store is configured", m.EventID)
	}
	if err := q.Events.PutEvent(ctx, m, event.StatusPending, q.now().Add(event.StoredGrace)); err != nil {
		return err
	}
	return q.Send(ctx, m.Reference())
}

// New returns the delivery queue at url, with an SQS client built from cfg.
// events stores bodies too large for a message; it may be nil where only
// small or control messages are sent.
func New(cfg aws.Config, url string, events EventStore) *Queue {
	return &Queue{SQS: sqs.NewFromConfig(cfg), URL: url, Events: events}
}

// RequestDrain asks a worker to re-drive the held events of a destination.
func (q *Queue) RequestDrain(ctx context.Context, destinationID string) error {
	return q.Send(ctx, event.DrainRequest(destinationID))
}

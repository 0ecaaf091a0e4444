// Package queue owns HookSentry's use of SQS: sending event messages with a
// delay (chaining delays longer than SQS's 15-minute maximum through the
// message's NotBefore), in batches where possible. It talks to SQS only:
// what to do with an event too large for a message is event.Publisher's.
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
	SQS SQS
	URL string
	Now func() time.Time
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

// Send enqueues one message, delayed until its NotBefore (at most 15
// minutes); event.ErrTooLarge if it does not fit in a message.
func (q *Queue) Send(ctx context.Context, m event.Message) error {
	body, err := m.Encode()
	if err != nil {
		return err
	}
	return q.SendEncoded(ctx, m, body)
}

// SendEncoded enqueues m already encoded as body (m.Encode), so a caller
// that had to encode it to decide how to send it does not pay twice.
func (q *Queue) SendEncoded(ctx context.Context, m event.Message, body string) error {
	if len(body) > event.MaxInlineMessage {
		return fmt.Errorf("send message %s: %w", m.EventID, event.ErrTooLarge)
	}
	_, err := q.SQS.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl: aws.String(q.URL), MessageBody: aws.String(body), DelaySeconds: q.delaySeconds(m),
	})
	if err != nil {
		return fmt.Errorf("send message %s: %w", m.EventID, err)
	}
	return nil
}

// maxBatchPayload is SQS's limit on the total size of one batch request.
const maxBatchPayload = 256 << 10

// SendBatch enqueues messages, each already encoded in bodies
// (m.Encode), with as few requests as SQS allows (ten messages or 256 KiB
// per request) and returns one error per message, nil for those sent;
// event.ErrTooLarge for one that does not fit.
func (q *Queue) SendBatch(ctx context.Context, msgs []event.Message, bodies []string) []error {
	errs := make([]error, len(msgs))
	var entries []types.SendMessageBatchRequestEntry
	size := 0
	flush := func() {
		if len(entries) == 0 {
			return
		}
		out, err := q.SQS.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(q.URL), Entries: entries})
		if err != nil {
			for _, e := range entries {
				i, _ := strconv.Atoi(aws.ToString(e.Id))
				errs[i] = fmt.Errorf("send message batch: %w", err)
			}
		} else {
			for _, f := range out.Failed {
				i, _ := strconv.Atoi(aws.ToString(f.Id))
				errs[i] = fmt.Errorf("send message batch entry: %s %s", aws.ToString(f.Code), aws.ToString(f.Message))
			}
		}
		entries, size = nil, 0
	}
	for i, m := range msgs {
		body := bodies[i]
		if len(body) > event.MaxInlineMessage {
			errs[i] = fmt.Errorf("send message %s: %w", m.EventID, event.ErrTooLarge)
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
	return errs
}

// New returns the delivery queue at url, with an SQS client built from cfg.
func New(cfg aws.Config, url string) *Queue {
	return &Queue{SQS: sqs.NewFromConfig(cfg), URL: url}
}

// RequestDrain asks a worker to re-drive the held events of a destination.
func (q *Queue) RequestDrain(ctx context.Context, destinationID string) error {
	return q.Send(ctx, event.DrainRequest(destinationID))
}

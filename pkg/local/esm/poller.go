// Package esm (event source mapping) owns the local stand-in for the Lambda
// SQS event source mapping: long-poll the queue, hand batches to the consumer handler as
// events.SQSEvent, and delete what the handler did not report as a batch
// item failure. Failed and unfinished messages reappear after their
// visibility timeout, exactly as with Lambda.
package esm

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// SQS is the part of the SQS client a poller uses.
type SQS interface {
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, opts ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, opts ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
}

// Handler is the consumer function, as lambda.Start would receive it.
type Handler func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error)

// Poller runs Workers concurrent pollers, like an event source mapping with
// that maximum concurrency.
type Poller struct {
	SQS       SQS
	QueueURL  string
	QueueARN  string
	Handler   Handler
	Workers   int
	BatchSize int32         // at most 10
	Timeout   time.Duration // per invocation, like the function timeout
	Log       *slog.Logger
}

// Run polls until ctx is cancelled.
func (p *Poller) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for range max(p.Workers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				if err := p.pollOnce(ctx); err != nil && ctx.Err() == nil {
					p.Log.Error("poll delivery queue", "error", err)
					select {
					case <-ctx.Done():
					case <-time.After(time.Second):
					}
				}
			}
		}()
	}
	wg.Wait()
}

func (p *Poller) pollOnce(ctx context.Context) error {
	batch := p.BatchSize
	if batch <= 0 || batch > 10 {
		batch = 10
	}
	out, err := p.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl:                    aws.String(p.QueueURL),
		MaxNumberOfMessages:         batch,
		WaitTimeSeconds:             1,
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
		// Lambda passes every record's system attributes (such as
		// ApproximateReceiveCount); local-aws-sqs 2.0.2 reads only this
		// older parameter for them. SQS accepts both.
		//lint:ignore SA1019 the emulator ignores MessageSystemAttributeNames
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameAll},
	})
	if err != nil || len(out.Messages) == 0 {
		return err
	}
	ev := events.SQSEvent{Records: make([]events.SQSMessage, len(out.Messages))}
	for i, m := range out.Messages {
		ev.Records[i] = events.SQSMessage{
			MessageId: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle),
			Body: aws.ToString(m.Body), Md5OfBody: aws.ToString(m.MD5OfBody),
			Attributes: m.Attributes, EventSource: "aws:sqs", EventSourceARN: p.QueueARN, AWSRegion: "us-east-1",
		}
	}
	timeout := p.Timeout
	if timeout <= 0 {
		timeout = time.Minute
	}
	// The invocation is not cancelled with the poller: like Lambda, a batch
	// in progress finishes (or dies with the process).
	ictx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	resp, err := p.Handler(ictx, ev)
	cancel()
	if err != nil {
		return err // whole batch fails: every message reappears
	}
	failed := map[string]bool{}
	for _, f := range resp.BatchItemFailures {
		failed[f.ItemIdentifier] = true
	}
	var entries []types.DeleteMessageBatchRequestEntry
	for i, m := range out.Messages {
		if !failed[aws.ToString(m.MessageId)] {
			entries = append(entries, types.DeleteMessageBatchRequestEntry{Id: aws.String(string(rune('a' + i))), ReceiptHandle: m.ReceiptHandle})
		}
	}
	if len(entries) == 0 {
		return nil
	}
	_, err = p.SQS.DeleteMessageBatch(context.WithoutCancel(ctx), &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(p.QueueURL), Entries: entries})
	return err
}

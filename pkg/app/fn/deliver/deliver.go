// Package deliver wires the deliver function, the delivery queue's consumer
// (SQS event source with ReportBatchItemFailures). It opens credentials with
// KMS and re-enqueues retries on SQS.
package deliver

import (
	"context"

	"github.com/aws/aws-lambda-go/events"

	"github.com/hooksentry/hooksentry/pkg/app"
	"github.com/hooksentry/hooksentry/pkg/delivery"
	"github.com/hooksentry/hooksentry/pkg/envelope"
	"github.com/hooksentry/hooksentry/pkg/event"
	"github.com/hooksentry/hooksentry/pkg/queue"
)

// Worker builds the consumer from env.
func Worker(env *app.Env) (*delivery.Worker, error) {
	q := &event.Publisher{Queue: queue.New(env.AWSConfig(), env.Config.QueueURL), Bodies: env.Store()}
	return env.Worker(envelope.New(env.AWSConfig(), env.Config.KMSKeyID), q)
}

// Handler is the function's handler: Worker's Handle.
func Handler(env *app.Env) (func(context.Context, events.SQSEvent) (events.SQSEventResponse, error), error) {
	w, err := Worker(env)
	if err != nil {
		return nil, err
	}
	return w.Handle, nil
}

package localstack

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/hooksentry/hooksentry/pkg/app"
	"github.com/hooksentry/hooksentry/pkg/sqspoller"
)

// NewPoller wires the delivery function behind a local event source
// mapping with the given concurrency. All pollers share one worker, as
// concurrent invocations would share a warm instance's caches.
func NewPoller(ctx context.Context, env *app.Env, workers int) (*sqspoller.Poller, error) {
	if workers == 0 {
		workers = 4
	}
	w, err := env.Worker()
	if err != nil {
		return nil, err
	}
	client := env.SQS()
	attrs, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(env.Config.QueueURL), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		return nil, fmt.Errorf("get delivery queue ARN: %w", err)
	}
	return &sqspoller.Poller{
		SQS: client, QueueURL: env.Config.QueueURL, QueueARN: attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)],
		Handler: w.Handle, Workers: workers, BatchSize: 10, Timeout: env.FunctionTimeout(), Log: env.Log,
	}, nil
}

package stack

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/hooksentry/hooksentry/pkg/app"
	"github.com/hooksentry/hooksentry/pkg/local/esm"
)

// NewPoller wires the delivery function behind a local event source
// mapping with the given concurrency. All pollers share one worker, as
// concurrent invocations would share a warm instance's caches.
func NewPoller(ctx context.Context, env *app.Env, workers int) (*esm.Poller, error) {
	if workers == 0 {
		workers = 4
	}
	w, err := Functions{Env: env}.Worker()
	if err != nil {
		return nil, err
	}
	client := sqs.NewFromConfig(env.AWSConfig())
	attrs, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(env.Config.QueueURL),
		AttributeNames: []sqstypes.QueueAttributeName{
			sqstypes.QueueAttributeNameQueueArn, sqstypes.QueueAttributeNameVisibilityTimeout,
		},
	})
	if err != nil {
		return nil, fmt.Errorf("get delivery queue attributes: %w", err)
	}
	// An invocation must end well within the visibility timeout, or its
	// messages reappear while still being worked on (AWS requires the
	// function timeout to be shorter; template.yaml uses 6 ×).
	timeout := env.FunctionTimeout()
	if vis, err := strconv.Atoi(attrs.Attributes[string(sqstypes.QueueAttributeNameVisibilityTimeout)]); err == nil && vis > 0 {
		timeout = min(timeout, time.Duration(vis)*time.Second*2/3)
	}
	return &esm.Poller{
		SQS: client, QueueURL: env.Config.QueueURL, QueueARN: attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)],
		Handler: w.Handle, Workers: workers, BatchSize: 10, Timeout: timeout, Log: env.Log,
	}, nil
}

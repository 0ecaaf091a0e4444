// Command deliver is the delivery queue's consumer (SQS event source with
// ReportBatchItemFailures).
// It only wires and starts.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/hooksentry/hooksentry/pkg/app"
	"github.com/hooksentry/hooksentry/pkg/envelope"
	"github.com/hooksentry/hooksentry/pkg/queue"
)

func main() {
	env, err := app.LoadEnv(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "deliver:", err)
		os.Exit(1)
	}
	q := queue.New(env.AWSConfig(), env.Config.QueueURL, env.Store())
	worker, err := env.Worker(envelope.New(env.AWSConfig(), env.Config.KMSKeyID), q)
	if err != nil {
		fmt.Fprintln(os.Stderr, "deliver:", err)
		os.Exit(1)
	}
	lambda.Start(worker.Handle)
}

// Command sweeper runs on a schedule and re-drives events that would
// otherwise strand (held, stored, dead-lettered).
// It only wires and starts.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/hooksentry/hooksentry/pkg/app"
	"github.com/hooksentry/hooksentry/pkg/queue"
	"github.com/hooksentry/hooksentry/pkg/sweeper"
)

func main() {
	env, err := app.LoadEnv(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "sweeper:", err)
		os.Exit(1)
	}
	q := queue.New(env.AWSConfig(), env.Config.QueueURL, env.Store())
	lambda.Start(sweeper.New(env.AWSConfig(), env.Store(), q, env.Config.DLQURL, env.Log).Handle)
}

// Command ingest is the Lambda function behind the public route
// POST /ingest/{token}.
// It only wires and starts.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/hooksentry/hooksentry/pkg/app"
	"github.com/hooksentry/hooksentry/pkg/queue"
)

func main() {
	env, err := app.LoadEnv(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "ingest:", err)
		os.Exit(1)
	}
	lambda.Start(env.IngestFunction(queue.New(env.AWSConfig(), env.Config.QueueURL, env.Store())))
}

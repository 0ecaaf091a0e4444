// Command update-destination is the Lambda function behind PATCH /api/v1/destinations/{id};
// it seals new credentials and re-drives held events on re-activation.
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
		fmt.Fprintln(os.Stderr, "update-destination:", err)
		os.Exit(1)
	}
	sealer := envelope.New(env.AWSConfig(), env.Config.KMSKeyID)
	drains := queue.New(env.AWSConfig(), env.Config.QueueURL, nil)
	lambda.Start(env.ManagementFunction("update-destination", app.ManagementDeps{Sealer: sealer, Drainer: drains}))
}

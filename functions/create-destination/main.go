// Command create-destination is the Lambda function behind POST /api/v1/destinations;
// it seals credentials with KMS.
// It only wires and starts.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/hooksentry/hooksentry/pkg/app"
	"github.com/hooksentry/hooksentry/pkg/envelope"
)

func main() {
	env, err := app.LoadEnv(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "create-destination:", err)
		os.Exit(1)
	}
	sealer := envelope.New(env.AWSConfig(), env.Config.KMSKeyID)
	lambda.Start(env.ManagementFunction("create-destination", app.ManagementDeps{Sealer: sealer}))
}

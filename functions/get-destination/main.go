// Command get-destination is the Lambda function behind one management route (see
// httpapi.Routes); it needs no KMS or SQS client.
// It only wires and starts.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/hooksentry/hooksentry/pkg/app"
)

func main() {
	env, err := app.LoadEnv(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "get-destination:", err)
		os.Exit(1)
	}
	lambda.Start(env.ManagementFunction("get-destination", app.ManagementDeps{}))
}

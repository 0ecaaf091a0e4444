// Command baseline is the cold-start benchmark's reference: the smallest Go
// Lambda function, which does nothing but start the runtime loop.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(context.Context) error { return nil })
}

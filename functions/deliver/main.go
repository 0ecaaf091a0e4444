// Command deliver is the delivery queue's consumer (SQS event source with
// ReportBatchItemFailures).
package main

import (
	"github.com/hooksentry/hooksentry/pkg/app"
	"github.com/hooksentry/hooksentry/pkg/envelope"
	"github.com/hooksentry/hooksentry/pkg/queue"
)

func main() {
	app.Start("deliver", func(env *app.Env) (any, error) {
		q := queue.New(env.AWSConfig(), env.Config.QueueURL, env.Store())
		worker, err := env.Worker(envelope.New(env.AWSConfig(), env.Config.KMSKeyID), q)
		if err != nil {
			return nil, err
		}
		return worker.Handle, nil
	})
}

// Command ingest is the Lambda function behind the public route
// POST /ingest/{token}.
package main

import (
	"github.com/hooksentry/hooksentry/pkg/app"
	"github.com/hooksentry/hooksentry/pkg/queue"
)

func main() {
	app.Start("ingest", func(env *app.Env) (any, error) {
		return env.IngestFunction(queue.New(env.AWSConfig(), env.Config.QueueURL, env.Store())), nil
	})
}

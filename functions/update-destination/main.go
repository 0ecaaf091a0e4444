// Command update-destination is the Lambda function behind PATCH /api/v1/destinations/{id};
// it seals new credentials and re-drives held events on re-activation.
package main

import (
	"github.com/hooksentry/hooksentry/pkg/app"
	"github.com/hooksentry/hooksentry/pkg/envelope"
	"github.com/hooksentry/hooksentry/pkg/queue"
)

func main() {
	app.Start("update-destination", func(env *app.Env) (any, error) {
		sealer := envelope.New(env.AWSConfig(), env.Config.KMSKeyID)
		drains := queue.New(env.AWSConfig(), env.Config.QueueURL, nil)
		return env.ManagementFunction("update-destination", app.ManagementDeps{Sealer: sealer, Drainer: drains}), nil
	})
}

// Command create-destination is the Lambda function behind POST /api/v1/destinations;
// it seals credentials with KMS.
package main

import (
	"github.com/hooksentry/hooksentry/pkg/app"
	"github.com/hooksentry/hooksentry/pkg/envelope"
)

func main() {
	app.Start("create-destination", func(env *app.Env) (any, error) {
		sealer := envelope.New(env.AWSConfig(), env.Config.KMSKeyID)
		return env.ManagementFunction("create-destination", app.ManagementDeps{Sealer: sealer}), nil
	})
}

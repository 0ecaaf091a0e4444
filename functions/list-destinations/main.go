// Command list-destinations is the Lambda function behind one management route (see
// httpapi.Routes). It needs no KMS or SQS client, so it links neither.
package main

import (
	"github.com/hooksentry/hooksentry/pkg/app"
)

func main() {
	app.Start("list-destinations", func(env *app.Env) (any, error) {
		return env.ManagementFunction("list-destinations", app.ManagementDeps{}), nil
	})
}

// Command delete-destination is the Lambda function behind one management route (see
// httpapi.Routes). It needs no KMS or SQS client, so it links neither.
package main

import (
	"github.com/hooksentry/hooksentry/pkg/app"
)

func main() {
	app.Start("delete-destination", func(env *app.Env) (any, error) {
		return env.ManagementFunction("delete-destination", app.ManagementDeps{}), nil
	})
}

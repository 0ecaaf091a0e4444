// Package getdestination wires the get-destination function: one management
// route (see httpapi.Routes). It needs no KMS or SQS client.
package getdestination

import (
	"github.com/hooksentry/hooksentry/pkg/app"
	"github.com/hooksentry/hooksentry/pkg/lambdahttp"
)

// Handler builds the function's handler from env, for its main and the
// local stack.
func Handler(env *app.Env) (lambdahttp.Handler, error) {
	return env.ManagementFunction("get-destination", app.ManagementDeps{}), nil
}

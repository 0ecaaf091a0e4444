// Package regenerateingesttoken wires the regenerate-ingest-token function:
// one management route (see httpapi.Routes). It needs no KMS or SQS client.
package regenerateingesttoken

import (
	"github.com/hooksentry/hooksentry/pkg/app"
	"github.com/hooksentry/hooksentry/pkg/lambdahttp"
)

// Handler builds the function's handler from env, for its main and the
// local stack.
func Handler(env *app.Env) (lambdahttp.Handler, error) {
	return env.ManagementFunction("regenerate-ingest-token", app.ManagementDeps{}), nil
}

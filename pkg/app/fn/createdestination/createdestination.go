// Package createdestination wires the create-destination function: POST
// /api/v1/destinations. It seals credentials with KMS.
package createdestination

import (
	"github.com/hooksentry/hooksentry/pkg/app"
	"github.com/hooksentry/hooksentry/pkg/envelope"
	"github.com/hooksentry/hooksentry/pkg/lambdahttp"
)

// Handler builds the function's handler from env, for its main and the
// local stack.
func Handler(env *app.Env) (lambdahttp.Handler, error) {
	sealer := envelope.New(env.AWSConfig(), env.Config.KMSKeyID)
	return env.ManagementFunction("create-destination", app.ManagementDeps{Sealer: sealer}), nil
}

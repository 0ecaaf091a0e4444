// Package rotatesigningsecret wires the rotate-signing-secret function:
// POST /api/v1/destinations/{id}/signing-secret. It seals the new secret
// with KMS (GenerateDataKey only: the previous secret is kept sealed as it
// is, never opened).
package rotatesigningsecret

import (
	"github.com/hooksentry/hooksentry/pkg/app"
	"github.com/hooksentry/hooksentry/pkg/envelope"
	"github.com/hooksentry/hooksentry/pkg/lambdahttp"
)

// Handler builds the function's handler from env, for its main and the
// local stack.
func Handler(env *app.Env) (lambdahttp.Handler, error) {
	sealer := envelope.New(env.AWSConfig(), env.Config.KMSKeyID)
	return env.ManagementFunction("rotate-signing-secret", app.ManagementDeps{Sealer: sealer}), nil
}

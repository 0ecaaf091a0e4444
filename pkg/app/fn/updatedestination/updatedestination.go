// Package updatedestination wires the update-destination function: PATCH
// /api/v1/destinations/{id}. It seals new credentials with KMS and, on re-
// activation, asks over SQS for the destination's held events to be re-driven.
package updatedestination

import (
	"github.com/hooksentry/hooksentry/pkg/app"
	"github.com/hooksentry/hooksentry/pkg/envelope"
	"github.com/hooksentry/hooksentry/pkg/lambdahttp"
	"github.com/hooksentry/hooksentry/pkg/queue"
)

// Handler builds the function's handler from env, for its main and the
// local stack.
func Handler(env *app.Env) (lambdahttp.Handler, error) {
	sealer := envelope.New(env.AWSConfig(), env.Config.KMSKeyID)
	drains := queue.New(env.AWSConfig(), env.Config.QueueURL)
	return env.ManagementFunction("update-destination", app.ManagementDeps{Sealer: sealer, Drainer: drains}), nil
}

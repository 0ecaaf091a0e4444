// Package eventstats wires the event-stats function: GET
// /api/v1/destinations/{id}/events/stats, a destination's events counted by
// hour and status (CONTRACT §5). It only reads the table: it links the
// DynamoDB client and no KMS or SQS client.
package eventstats

import (
	"github.com/hooksentry/hooksentry/pkg/app"
	"github.com/hooksentry/hooksentry/pkg/lambdahttp"
)

// Handler builds the function's handler from env, for its main and the
// local stack.
func Handler(env *app.Env) (lambdahttp.Handler, error) {
	return env.EventsFunction("event-stats", nil), nil
}

// Package listevents wires the list-events function: GET
// /api/v1/destinations/{id}/events, a destination's events, a page at a time
// (CONTRACT §5). It only reads the table: it links the DynamoDB client and no
// KMS or SQS client.
package listevents

import (
	"github.com/hooksentry/hooksentry/pkg/app"
	"github.com/hooksentry/hooksentry/pkg/lambdahttp"
)

// Handler builds the function's handler from env, for its main and the
// local stack.
func Handler(env *app.Env) (lambdahttp.Handler, error) {
	return env.EventsFunction("list-events", nil), nil
}

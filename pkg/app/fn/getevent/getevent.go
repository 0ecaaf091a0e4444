// Package getevent wires the get-event function: GET /api/v1/events/{eventId},
// one event with its headers, body and attempts (CONTRACT §5). It only reads
// the table: it links the DynamoDB client and no KMS or SQS client.
package getevent

import (
	"github.com/hooksentry/hooksentry/pkg/app"
	"github.com/hooksentry/hooksentry/pkg/lambdahttp"
)

// Handler builds the function's handler from env, for its main and the
// local stack.
func Handler(env *app.Env) (lambdahttp.Handler, error) {
	return env.EventsFunction("get-event", nil), nil
}

// Package replayevent wires the replay-event function: POST
// /api/v1/events/{eventId}/replay (CONTRACT §5). It marks the event Pending in
// the table and publishes it on the delivery queue as ingest does (a body too
// large for a message is stored in the table): it links the DynamoDB and SQS
// clients, no KMS client.
package replayevent

import (
	"github.com/hooksentry/hooksentry/pkg/app"
	"github.com/hooksentry/hooksentry/pkg/event"
	"github.com/hooksentry/hooksentry/pkg/lambdahttp"
	"github.com/hooksentry/hooksentry/pkg/queue"
)

// Handler builds the function's handler from env, for its main and the
// local stack.
func Handler(env *app.Env) (lambdahttp.Handler, error) {
	pub := &event.Publisher{Queue: queue.New(env.AWSConfig(), env.Config.QueueURL), Bodies: env.Store()}
	return env.EventsFunction("replay-event", pub), nil
}

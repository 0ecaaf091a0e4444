// Package replayevents wires the replay-events function: POST
// /api/v1/destinations/{id}/events/replay, up to 1,000 of a destination's
// events per call (CONTRACT §5). It marks them Pending in the table and
// publishes them on the delivery queue as ingest does (a body too large for a
// message is stored in the table): it links the DynamoDB and SQS clients, no
// KMS client.
package replayevents

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
	return env.EventsFunction("replay-events", pub), nil
}

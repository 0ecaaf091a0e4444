// Package ingest wires the ingest function: the public route POST
// /ingest/{token}. It enqueues accepted events on SQS, and opens
// verification secrets with KMS.
package ingest

import (
	"github.com/hooksentry/hooksentry/pkg/app"
	"github.com/hooksentry/hooksentry/pkg/envelope"
	"github.com/hooksentry/hooksentry/pkg/event"
	"github.com/hooksentry/hooksentry/pkg/lambdahttp"
	"github.com/hooksentry/hooksentry/pkg/queue"
)

// Handler builds the function's handler from env, for its main and the
// local stack.
func Handler(env *app.Env) (lambdahttp.Handler, error) {
	q := &event.Publisher{Queue: queue.New(env.AWSConfig(), env.Config.QueueURL), Bodies: env.Store()}
	return env.IngestFunction(q, envelope.New(env.AWSConfig(), env.Config.KMSKeyID)), nil
}

package stack

import (
	"github.com/hooksentry/hooksentry/pkg/app"
	"github.com/hooksentry/hooksentry/pkg/delivery"
	"github.com/hooksentry/hooksentry/pkg/envelope"
	"github.com/hooksentry/hooksentry/pkg/lambdahttp"
	"github.com/hooksentry/hooksentry/pkg/queue"
	"github.com/hooksentry/hooksentry/pkg/sweeper"
)

// Functions builds each function's handler from an Env exactly as its
// functions/<name>/main.go does, for the local gateway, pollers and tests.
// (Locally every management function gets every collaborator; in Lambda
// each main wires only what its function uses.)
type Functions struct{ Env *app.Env }

func (f Functions) queue() *queue.Queue {
	return queue.New(f.Env.AWSConfig(), f.Env.Config.QueueURL, f.Env.Store())
}

func (f Functions) sealer() *envelope.Sealer {
	return envelope.New(f.Env.AWSConfig(), f.Env.Config.KMSKeyID)
}

// Management returns a management function's handler.
func (f Functions) Management(name string) lambdahttp.Handler {
	return f.Env.ManagementFunction(name, app.ManagementDeps{Sealer: f.sealer(), Drainer: f.queue()})
}

// Ingest returns the ingest function's handler.
func (f Functions) Ingest() lambdahttp.Handler { return f.Env.IngestFunction(f.queue()) }

// Worker returns the deliver function's consumer.
func (f Functions) Worker() (*delivery.Worker, error) { return f.Env.Worker(f.sealer(), f.queue()) }

// Sweeper returns the sweeper function.
func (f Functions) Sweeper() *sweeper.Sweeper {
	env := f.Env
	return sweeper.New(env.AWSConfig(), env.Store(), f.queue(), env.Config.DLQURL, env.Log)
}

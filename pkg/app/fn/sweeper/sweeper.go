// Package sweeper wires the sweeper function, run on a schedule to re-drive
// events that would otherwise strand (held, stored, dead-lettered). It reads
// the dead-letter queue and re-enqueues on SQS.
package sweeper

import (
	"context"

	"github.com/aws/aws-lambda-go/events"

	"github.com/hooksentry/hooksentry/pkg/app"
	"github.com/hooksentry/hooksentry/pkg/delivery"
	"github.com/hooksentry/hooksentry/pkg/event"
	"github.com/hooksentry/hooksentry/pkg/queue"
	"github.com/hooksentry/hooksentry/pkg/sweeper"
)

// Sweeper builds the sweeper from env.
func Sweeper(env *app.Env) *sweeper.Sweeper {
	q := queue.New(env.AWSConfig(), env.Config.QueueURL)
	st := env.Store()
	s := sweeper.New(env.AWSConfig(), st, q, env.Config.DLQURL, env.Log)
	s.History = st
	s.Alerts = &delivery.Alerter{Subscribers: st, Queue: &event.Publisher{Queue: q, Bodies: st}, Log: env.Log}
	return s
}

// Handler is the function's handler: Sweeper's Handle.
func Handler(env *app.Env) (func(context.Context, events.CloudWatchEvent) error, error) {
	return Sweeper(env).Handle, nil
}

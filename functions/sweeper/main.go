// Command sweeper runs on a schedule and re-drives events that would
// otherwise strand (held, stored, dead-lettered).
package main

import (
	"github.com/hooksentry/hooksentry/pkg/app"
	"github.com/hooksentry/hooksentry/pkg/queue"
	"github.com/hooksentry/hooksentry/pkg/sweeper"
)

func main() {
	app.Start("sweeper", func(env *app.Env) (any, error) {
		q := queue.New(env.AWSConfig(), env.Config.QueueURL, env.Store())
		return sweeper.New(env.AWSConfig(), env.Store(), q, env.Config.DLQURL, env.Log).Handle, nil
	})
}

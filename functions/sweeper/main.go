// Command sweeper runs on a schedule and re-drives events that would
// otherwise strand (held, stored, dead-lettered).
//
// Its wiring is in pkg/app/fn/sweeper, shared with the local stack.
package main

import (
	"github.com/hooksentry/hooksentry/pkg/app"
	"github.com/hooksentry/hooksentry/pkg/app/fn/sweeper"
)

func main() {
	app.Start("sweeper", sweeper.Handler)
}

// Command event-stats is the Lambda function behind
// GET /api/v1/destinations/{id}/events/stats. It needs no KMS or SQS client,
// so it links neither.
//
// Its wiring is in pkg/app/fn/eventstats, shared with the local stack.
package main

import (
	"github.com/hooksentry/hooksentry/pkg/app"
	"github.com/hooksentry/hooksentry/pkg/app/fn/eventstats"
)

func main() {
	app.Start("event-stats", eventstats.Handler)
}

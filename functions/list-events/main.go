// Command list-events is the Lambda function behind
// GET /api/v1/destinations/{id}/events. It needs no KMS or SQS client, so it
// links neither.
//
// Its wiring is in pkg/app/fn/listevents, shared with the local stack.
package main

import (
	"github.com/hooksentry/hooksentry/pkg/app"
	"github.com/hooksentry/hooksentry/pkg/app/fn/listevents"
)

func main() {
	app.Start("list-events", listevents.Handler)
}

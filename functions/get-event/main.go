// Command get-event is the Lambda function behind GET /api/v1/events/{eventId}.
// It needs no KMS or SQS client, so it links neither.
//
// Its wiring is in pkg/app/fn/getevent, shared with the local stack.
package main

import (
	"github.com/hooksentry/hooksentry/pkg/app"
	"github.com/hooksentry/hooksentry/pkg/app/fn/getevent"
)

func main() {
	app.Start("get-event", getevent.Handler)
}

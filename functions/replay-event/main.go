// Command replay-event is the Lambda function behind
// POST /api/v1/events/{eventId}/replay; it sends the event to the delivery
// queue (SQS) again. It needs no KMS client, so it links none.
//
// Its wiring is in pkg/app/fn/replayevent, shared with the local stack.
package main

import (
	"github.com/hooksentry/hooksentry/pkg/app"
	"github.com/hooksentry/hooksentry/pkg/app/fn/replayevent"
)

func main() {
	app.Start("replay-event", replayevent.Handler)
}

// Command replay-events is the Lambda function behind
// POST /api/v1/destinations/{id}/events/replay; it sends up to 1,000 events
// per call to the delivery queue (SQS) again. It needs no KMS client, so it
// links none.
//
// Its wiring is in pkg/app/fn/replayevents, shared with the local stack.
package main

import (
	"github.com/hooksentry/hooksentry/pkg/app"
	"github.com/hooksentry/hooksentry/pkg/app/fn/replayevents"
)

func main() {
	app.Start("replay-events", replayevents.Handler)
}

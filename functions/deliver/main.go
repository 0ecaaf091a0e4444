// Command deliver is the delivery queue's consumer (SQS event source with
// ReportBatchItemFailures).
//
// Its wiring is in pkg/app/fn/deliver, shared with the local stack.
package main

import (
	"github.com/hooksentry/hooksentry/pkg/app"
	"github.com/hooksentry/hooksentry/pkg/app/fn/deliver"
)

func main() {
	app.Start("deliver", deliver.Handler)
}

// Command ingest is the Lambda function behind the public route
// POST /ingest/{token}.
//
// Its wiring is in pkg/app/fn/ingest, shared with the local stack.
package main

import (
	"github.com/hooksentry/hooksentry/pkg/app"
	"github.com/hooksentry/hooksentry/pkg/app/fn/ingest"
)

func main() {
	app.Start("ingest", ingest.Handler)
}

// Command regenerate-ingest-token is the Lambda function behind one management route (see
// httpapi.Routes). It needs no KMS or SQS client, so it links neither.
//
// Its wiring is in pkg/app/fn/regenerateingesttoken, shared with the local stack.
package main

import (
	"github.com/hooksentry/hooksentry/pkg/app"
	"github.com/hooksentry/hooksentry/pkg/app/fn/regenerateingesttoken"
)

func main() {
	app.Start("regenerate-ingest-token", regenerateingesttoken.Handler)
}

// Command get-destination is the Lambda function behind one management route (see
// httpapi.Routes). It needs no KMS or SQS client, so it links neither.
//
// Its wiring is in pkg/app/fn/getdestination, shared with the local stack.
package main

import (
	"github.com/hooksentry/hooksentry/pkg/app"
	"github.com/hooksentry/hooksentry/pkg/app/fn/getdestination"
)

func main() {
	app.Start("get-destination", getdestination.Handler)
}

// Command update-destination is the Lambda function behind PATCH /api/v1/destinations/{id};
// it seals new credentials and re-drives held events on re-activation.
//
// Its wiring is in pkg/app/fn/updatedestination, shared with the local stack.
package main

import (
	"github.com/hooksentry/hooksentry/pkg/app"
	"github.com/hooksentry/hooksentry/pkg/app/fn/updatedestination"
)

func main() {
	app.Start("update-destination", updatedestination.Handler)
}

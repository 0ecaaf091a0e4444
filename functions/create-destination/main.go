// Command create-destination is the Lambda function behind POST /api/v1/destinations;
// it seals credentials with KMS.
//
// Its wiring is in pkg/app/fn/createdestination, shared with the local stack.
package main

import (
	"github.com/hooksentry/hooksentry/pkg/app"
	"github.com/hooksentry/hooksentry/pkg/app/fn/createdestination"
)

func main() {
	app.Start("create-destination", createdestination.Handler)
}

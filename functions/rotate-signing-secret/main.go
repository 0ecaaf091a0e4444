// Command rotate-signing-secret is the Lambda function behind POST
// /api/v1/destinations/{id}/signing-secret; it seals the new signing
// secret with KMS.
//
// Its wiring is in pkg/app/fn/rotatesigningsecret, shared with the local stack.
package main

import (
	"github.com/hooksentry/hooksentry/pkg/app"
	"github.com/hooksentry/hooksentry/pkg/app/fn/rotatesigningsecret"
)

func main() {
	app.Start("rotate-signing-secret", rotatesigningsecret.Handler)
}

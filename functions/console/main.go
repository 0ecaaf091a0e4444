// Command console is the Lambda function behind GET /console/ and
// GET /console/{proxy+}: the web console's embedded assets and its sign-in
// settings (CONTRACT §7). It links no AWS SDK client, and so not pkg/app
// (which links DynamoDB's): it reads its settings itself.
//
// Its wiring is in pkg/app/fn/console, shared with the local stack.
package main

import (
	"fmt"
	"log"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/hooksentry/hooksentry/pkg/app/fn/console"
	"github.com/hooksentry/hooksentry/pkg/config"
	"github.com/hooksentry/hooksentry/pkg/redact"
)

func main() {
	// As app.Start does for the other functions: no log line of this
	// process, its own or a library's, escapes redaction.
	log.SetOutput(redact.NewWriter(os.Stderr))
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		fail(err)
	}
	handler, err := console.Handler(cfg, slog.New(slog.NewJSONHandler(redact.NewWriter(os.Stderr), nil)))
	if err != nil {
		fail(err)
	}
	lambda.Start(handler)
}

// fail stops start-up with a message naming the function and the setting.
func fail(err error) {
	fmt.Fprintf(os.Stderr, "console: %v\n", err)
	os.Exit(1)
}

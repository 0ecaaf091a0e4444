// Package console_test drives the web console (CONTRACT §7) in Debian's
// headless chromium with the pinned playwright-core (tools/browser), against
// one whole local stack: the console at /console/, the local issuer's
// sign-in at /oauth/*, the API and the delivery workers, with HTTPS
// receivers that trust a test CA.
package console_test

import (
	"os"
	"testing"
	"time"

	localstack "github.com/hooksentry/hooksentry/pkg/local/stack"
	"github.com/hooksentry/hooksentry/pkg/local/stack/stacktest"
	"github.com/hooksentry/hooksentry/pkg/testkit"
)

var (
	stack *localstack.Stack
	ca    *testkit.CA
)

// maxAttempts is small so that a failing receiver makes an event Failed
// within a second; the breaker threshold is above it, so the destination
// stays Active.
const maxAttempts = 2

var settings = map[string]string{
	"HOOKSENTRY_DELIVERY_TIMEOUT":          "5s",
	"HOOKSENTRY_RETRY_BASE_DELAY":          "50ms",
	"HOOKSENTRY_RETRY_MAX_DELAY":           "200ms",
	"HOOKSENTRY_MAX_ATTEMPTS":              "2",
	"HOOKSENTRY_BREAKER_FAILURE_THRESHOLD": "20",
	"HOOKSENTRY_BREAKER_COOLDOWN":          "500ms",
}

func TestMain(m *testing.M) {
	os.Exit(stacktest.Run(m, "console", settings, localstack.Options{Workers: 2, SweepInterval: 300 * time.Millisecond}, func(st *localstack.Stack, c *testkit.CA) {
		stack, ca = st, c
	}))
}

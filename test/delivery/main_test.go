// Package delivery_test proves the delivery promises end to end: one local
// stack (emulators, gateway, four delivery workers, sweeper) serves every
// test in this binary, with HTTPS receivers that trust a test CA.
package delivery_test

import (
	"net/http"
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

// Settings small enough that retries, suspension and recovery happen within
// seconds.
var settings = map[string]string{
	"HOOKSENTRY_DELIVERY_TIMEOUT":          "2s",
	"HOOKSENTRY_RETRY_BASE_DELAY":          "100ms",
	"HOOKSENTRY_RETRY_MAX_DELAY":           "400ms",
	"HOOKSENTRY_MAX_ATTEMPTS":              "6",
	"HOOKSENTRY_BREAKER_FAILURE_THRESHOLD": "4",
	"HOOKSENTRY_BREAKER_COOLDOWN":          "500ms",
}

func TestMain(m *testing.M) {
	os.Exit(stacktest.Run(m, "delivery", settings, localstack.Options{Workers: 4, SweepInterval: 300 * time.Millisecond}, func(st *localstack.Stack, c *testkit.CA) {
		stack, ca = st, c
	}))
}

// The suite's stack, in the shared helpers' words.
func newTenant(t *testing.T) *testkit.Client { return stacktest.NewTenant(t, stack) }

type created = stacktest.Destination

func createDestination(t *testing.T, c *testkit.Client, body map[string]any) created {
	t.Helper()
	return stacktest.CreateDestination(t, c, body)
}

func status(t *testing.T, c *testkit.Client, id string) string {
	t.Helper()
	resp := c.Do(t, http.MethodGet, "/api/v1/destinations/"+id, nil, nil)
	var d created
	resp.JSON(t, &d)
	return d.Status
}

func ingest(t *testing.T, token string, body []byte, header http.Header) string {
	t.Helper()
	return stacktest.Ingest(t, stack, token, body, header)
}

// byEventID groups received requests by HookSentry-Event-Id.
func byEventID(reqs []testkit.Request) map[string][]testkit.Request {
	m := map[string][]testkit.Request{}
	for _, r := range reqs {
		id := r.Header.Get("HookSentry-Event-Id")
		m[id] = append(m[id], r)
	}
	return m
}

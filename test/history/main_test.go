// Package history_test proves the events API end to end (CONTRACT §5):
// one local stack (emulators, gateway, four delivery workers, sweeper)
// serves every test of this binary over HTTP with real JWTs; HTTPS
// receivers trust a test CA. Retention is short, so that expiry can be
// seen, and the breaker threshold high, so that failing destinations fail
// their events rather than suspend.
package history_test

import (
	"net/http"
	"net/url"
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

// retention is short enough to wait for, long enough for every other test
// to read its events before they expire.
const retention = 25 * time.Second

var settings = map[string]string{
	"HOOKSENTRY_DELIVERY_TIMEOUT":          "3s",
	"HOOKSENTRY_RETRY_BASE_DELAY":          "100ms",
	"HOOKSENTRY_RETRY_MAX_DELAY":           "300ms",
	"HOOKSENTRY_MAX_ATTEMPTS":              "3",
	"HOOKSENTRY_BREAKER_FAILURE_THRESHOLD": "1000",
	"HOOKSENTRY_EVENT_RETENTION":           retention.String(),
}

func TestMain(m *testing.M) {
	os.Exit(stacktest.Run(m, "history", settings, localstack.Options{Workers: 4, SweepInterval: time.Second}, func(st *localstack.Stack, c *testkit.CA) {
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

func ingest(t *testing.T, token string, body []byte, header http.Header) string {
	t.Helper()
	return stacktest.Ingest(t, stack, token, body, header)
}

// eventView is the event JSON of CONTRACT §5.
type eventView struct {
	ID            string              `json:"id"`
	DestinationID string              `json:"destinationId"`
	TenantID      string              `json:"tenantId"`
	Status        string              `json:"status"`
	AttemptCount  int                 `json:"attemptCount"`
	ReceivedAt    string              `json:"receivedAt"`
	LastAttemptAt *string             `json:"lastAttemptAt"`
	NextAttemptAt *string             `json:"nextAttemptAt"`
	DeliveredAt   *string             `json:"deliveredAt"`
	ContentType   *string             `json:"contentType"`
	Headers       map[string][]string `json:"headers"`
	Body          string              `json:"body"`
	BodyEncoding  string              `json:"bodyEncoding"`
	Attempts      []attemptView       `json:"attempts"`
}

type attemptView struct {
	Number       int     `json:"number"`
	StartedAt    string  `json:"startedAt"`
	DurationMs   int64   `json:"durationMs"`
	Trigger      string  `json:"trigger"`
	Outcome      string  `json:"outcome"`
	StatusCode   *int    `json:"statusCode"`
	Error        *string `json:"error"`
	ResponseBody *string `json:"responseBody"`
}

type listView struct {
	Total       int         `json:"total"`
	TotalCapped bool        `json:"totalCapped"`
	Items       []eventView `json:"items"`
}

// getEvent reads an event; ok is false on a 404.
func getEvent(t *testing.T, c *testkit.Client, id string) (eventView, bool) {
	t.Helper()
	resp := c.Do(t, http.MethodGet, "/api/v1/events/"+id, nil, nil)
	if resp.Status == http.StatusNotFound {
		return eventView{}, false
	}
	if resp.Status != http.StatusOK {
		t.Fatalf("get event %s: got %d %s, want 200", id, resp.Status, resp.Body)
	}
	var v eventView
	resp.JSON(t, &v)
	return v, true
}

// waitStatus polls an event until it has status, and returns it.
func waitStatus(t *testing.T, c *testkit.Client, id, status string, timeout time.Duration) eventView {
	t.Helper()
	var v eventView
	testkit.WaitFor(t, timeout, "event "+id+" to be "+status, func() bool {
		var ok bool
		v, ok = getEvent(t, c, id)
		return ok && v.Status == status
	})
	return v
}

func list(t *testing.T, c *testkit.Client, destID string, query url.Values) listView {
	t.Helper()
	resp := c.Do(t, http.MethodGet, "/api/v1/destinations/"+destID+"/events?"+query.Encode(), nil, nil)
	if resp.Status != http.StatusOK {
		t.Fatalf("list events %s: got %d %s, want 200", query.Encode(), resp.Status, resp.Body)
	}
	var v listView
	resp.JSON(t, &v)
	return v
}

// eventIDOf is the event id a destination received (CONTRACT §3).
func eventIDOf(r testkit.Request) string { return r.Header.Get("HookSentry-Event-Id") }

// byEventID groups received requests by event id.
func byEventID(reqs []testkit.Request) map[string][]testkit.Request {
	m := map[string][]testkit.Request{}
	for _, r := range reqs {
		m[eventIDOf(r)] = append(m[eventIDOf(r)], r)
	}
	return m
}

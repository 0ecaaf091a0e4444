// Package delivery_test proves the delivery promises end to end: one local
// stack (emulators, gateway, four delivery workers, sweeper) serves every
// test in this binary, with HTTPS receivers that trust a test CA.
package delivery_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/google/uuid"

	localstack "github.com/hooksentry/hooksentry/pkg/local/stack"
	"github.com/hooksentry/hooksentry/pkg/store"
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
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "hooksentry-delivery-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	ca = testkit.NewCA(&setupTB{}, dir)
	settings["HOOKSENTRY_EXTRA_CA_FILE"] = ca.File
	names := localstack.DefaultNames()
	names.VisibilityTimeout = 30 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var logw *os.File
	if os.Getenv("HOOKSENTRY_TEST_LOGS") != "" {
		logw = os.Stderr
	}
	opts := localstack.Options{StateDir: dir, Addr: "127.0.0.1:0", Names: names, Settings: settings, Workers: 4, SweepInterval: 300 * time.Millisecond}
	if logw != nil {
		opts.Log = logw
	}
	stack, err = localstack.Start(ctx, opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "start local stack:", err)
		return 1
	}
	defer stack.Close()
	return m.Run()
}

// setupTB lets testkit helpers run before any test exists.
type setupTB struct{ testing.TB }

func (setupTB) Helper()                        {}
func (setupTB) Fatal(args ...any)              { panic(fmt.Sprint(args...)) }
func (setupTB) Fatalf(format string, a ...any) { panic(fmt.Sprintf(format, a...)) }

// newTenant creates a tenant and returns an API client acting for it.
func newTenant(t *testing.T) *testkit.Client {
	t.Helper()
	id := uuid.NewString()
	if err := stack.Env.Store().CreateTenant(context.Background(), store.Tenant{ID: id, Name: t.Name(), CreatedAt: store.NewTenantTime(time.Now())}); err != nil {
		t.Fatal(err)
	}
	tok, err := stack.Issuer.Mint(id, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return &testkit.Client{BaseURL: stack.URL, Token: tok}
}

type created struct {
	ID          string `json:"id"`
	Status      string `json:"status"`
	IngestToken string `json:"ingestToken"`
}

func createDestination(t *testing.T, c *testkit.Client, body map[string]any) created {
	t.Helper()
	resp := c.Do(t, http.MethodPost, "/api/v1/destinations", body, nil)
	if resp.Status != http.StatusCreated {
		t.Fatalf("create destination: got %d %s, want 201", resp.Status, resp.Body)
	}
	var d created
	resp.JSON(t, &d)
	return d
}

func status(t *testing.T, c *testkit.Client, id string) string {
	t.Helper()
	resp := c.Do(t, http.MethodGet, "/api/v1/destinations/"+id, nil, nil)
	var d created
	resp.JSON(t, &d)
	return d.Status
}

// ingest posts a webhook and returns its event id.
func ingest(t *testing.T, token string, body []byte, header http.Header) string {
	t.Helper()
	c := &testkit.Client{BaseURL: stack.URL}
	resp := c.Do(t, http.MethodPost, "/ingest/"+token, body, header)
	if resp.Status != http.StatusAccepted {
		t.Fatalf("ingest: got %d %s, want 202", resp.Status, resp.Body)
	}
	var out struct {
		EventID string `json:"eventId"`
	}
	resp.JSON(t, &out)
	if out.EventID == "" {
		t.Fatal("ingest returned no eventId")
	}
	return out.EventID
}

// byEventID groups received requests by webhook-id.
func byEventID(reqs []testkit.Request) map[string][]testkit.Request {
	m := map[string][]testkit.Request{}
	for _, r := range reqs {
		id := r.Header.Get("Webhook-Id")
		m[id] = append(m[id], r)
	}
	return m
}

// Package stacktest holds the helpers of the test suites that run a whole
// local stack and talk to it over HTTP like a user: a tenant with a token,
// a destination, an ingested webhook.
package stacktest

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/google/uuid"

	localstack "github.com/hooksentry/hooksentry/pkg/local/stack"
	"github.com/hooksentry/hooksentry/pkg/openapi/openapitest"
	"github.com/hooksentry/hooksentry/pkg/store"
	"github.com/hooksentry/hooksentry/pkg/testkit"
)

// NewTenant creates a tenant and returns an API client acting for it.
func NewTenant(t testing.TB, st *localstack.Stack) *testkit.Client {
	t.Helper()
	id := uuid.NewString()
	if err := st.Env.Store().CreateTenant(context.Background(), store.Tenant{ID: id, Name: t.Name(), CreatedAt: store.NewTenantTime(time.Now())}); err != nil {
		t.Fatal(err)
	}
	tok, err := st.Issuer.Mint(id, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return &testkit.Client{BaseURL: st.URL, Token: tok}
}

// Destination is what a create answered.
type Destination struct {
	ID          string `json:"id"`
	Status      string `json:"status"`
	IngestToken string `json:"ingestToken"`
	// SigningSecret is in the 201 of create only.
	SigningSecret string `json:"signingSecret"`
}

// CreateDestination creates a destination from body and fails the test
// unless the answer is 201.
func CreateDestination(t testing.TB, c *testkit.Client, body map[string]any) Destination {
	t.Helper()
	resp := c.Do(t, http.MethodPost, "/api/v1/destinations", body, nil)
	if resp.Status != http.StatusCreated {
		t.Fatalf("create destination: got %d %s, want 201", resp.Status, resp.Body)
	}
	var d Destination
	resp.JSON(t, &d)
	return d
}

// Ingest posts a webhook as an external sender would and returns its
// event id; anything but a 202 fails the test.
func Ingest(t testing.TB, st *localstack.Stack, token string, body []byte, header http.Header) string {
	t.Helper()
	c := &testkit.Client{BaseURL: st.URL}
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

// CheckAPIDocument validates every exchange of every testkit.Client
// against docs/openapi.yaml from now on (testkit.ExchangeCheck), so a test
// fails when the API and its document disagree. Call it from TestMain.
func CheckAPIDocument() (*openapitest.Validator, error) {
	v, err := openapitest.NewValidator()
	if err != nil {
		return nil, err
	}
	testkit.ExchangeCheck = func(req *http.Request, body []byte, r testkit.Response) error {
		return v.Check(req, body, r.Status, r.Header, r.Body)
	}
	return v, nil
}

// SetupTB lets testkit helpers run in TestMain, before any test exists: a
// failure panics.
type SetupTB struct{ testing.TB }

func (SetupTB) Helper()                        {}
func (SetupTB) Fatal(args ...any)              { panic(fmt.Sprint(args...)) }
func (SetupTB) Fatalf(format string, a ...any) { panic(fmt.Sprintf(format, a...)) }

// Run is a TestMain for a suite that runs one whole stack: a state
// directory, a test CA that deliveries trust (HOOKSENTRY_EXTRA_CA_FILE is
// added to settings), the stack started with opts (its StateDir, Addr,
// Names and Settings filled in; HOOKSENTRY_TEST_LOGS=1 shows its logs),
// started called with them, then the tests, every client exchange checked
// against the API document (CheckAPIDocument); it tears everything down and
// returns the exit code.
func Run(m *testing.M, name string, settings map[string]string, opts localstack.Options, started func(*localstack.Stack, *testkit.CA)) int {
	dir, err := os.MkdirTemp("", "hooksentry-"+name+"-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	if _, err := CheckAPIDocument(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ca := testkit.NewCA(&SetupTB{}, dir)
	settings["HOOKSENTRY_EXTRA_CA_FILE"] = ca.File
	names := localstack.DefaultNames()
	names.VisibilityTimeout = 30 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	opts.StateDir, opts.Addr, opts.Names, opts.Settings = dir, "127.0.0.1:0", names, settings
	if os.Getenv("HOOKSENTRY_TEST_LOGS") != "" {
		opts.Log = os.Stderr
	}
	st, err := localstack.Start(ctx, opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "start local stack:", err)
		return 1
	}
	defer st.Close()
	started(st, ca)
	return m.Run()
}

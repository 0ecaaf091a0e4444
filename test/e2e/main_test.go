// Package e2e_test tests the management API against the emulators: at the
// Lambda boundary (API Gateway v2 events through localstack.Functions,
// the entry point functions/*/main.go run) and over HTTP through the local
// gateway with real JWTs. One local stack serves every test of this binary;
// tests use fresh tenants, so they never see each other's destinations.
//
// Set HOOKSENTRY_TEST_LOGS=1 to see emulator and function logs.
package e2e_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/uuid"

	"github.com/hooksentry/hooksentry/pkg/app"
	"github.com/hooksentry/hooksentry/pkg/httpapi"
	"github.com/hooksentry/hooksentry/pkg/lambdahttp"
	localstack "github.com/hooksentry/hooksentry/pkg/local/stack"
	"github.com/hooksentry/hooksentry/pkg/local/stack/stacktest"
	"github.com/hooksentry/hooksentry/pkg/openapi/openapitest"
	"github.com/hooksentry/hooksentry/pkg/store"
	"github.com/hooksentry/hooksentry/pkg/testkit"
)

var (
	// apiDoc validates every exchange of the tests, through the gateway and
	// at the Lambda boundary, against docs/openapi.yaml.
	apiDoc   *openapitest.Validator
	stack    *localstack.Stack
	stateDir string
	// stackLogs receives everything the stack logs: emulators, gateway and
	// the functions it serves.
	stackLogs = &syncBuffer{}
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	var err error
	stateDir, err = os.MkdirTemp("", "hooksentry-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(stateDir)
	if apiDoc, err = stacktest.CheckAPIDocument(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	var logw io.Writer = stackLogs
	if os.Getenv("HOOKSENTRY_TEST_LOGS") != "" {
		logw = io.MultiWriter(stackLogs, os.Stderr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	stack, err = localstack.Start(ctx, localstack.Options{
		StateDir: stateDir, Addr: "127.0.0.1:0", Log: logw,
		Workers: -1, SweepInterval: -1, // the management API needs no delivery
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "start local stack:", err)
		return 1
	}
	defer func() {
		if err := stack.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "stop local stack:", err)
		}
	}()
	return m.Run()
}

type syncBuffer = testkit.LogBuffer

// newTenant stores a tenant with a fresh id.
func newTenant(t *testing.T) string {
	t.Helper()
	id := uuid.NewString()
	err := stack.Env.Store().CreateTenant(context.Background(), store.Tenant{ID: id, Name: "e2e " + t.Name(), CreatedAt: store.NewTenantTime(time.Now())})
	if err != nil {
		t.Fatalf("CreateTenant: %v", err)
	}
	return id
}

// functions are the management Lambda handlers, built from an Env of their
// own whose logger writes to logs.
type functions struct {
	handlers map[string]lambdahttp.Handler
	logs     *syncBuffer
}

func newFunctions(t *testing.T) *functions {
	t.Helper()
	return newFunctionsWith(t, stack.Env.Config.AllowPrivateNetworks)
}

// newFunctionsWith is newFunctions with local mode set as given: the
// stack itself runs with private networks allowed.
func newFunctionsWith(t *testing.T, allowPrivateNetworks bool) *functions {
	t.Helper()
	logs := &syncBuffer{}
	cfg := stack.Env.Config
	cfg.AllowPrivateNetworks = allowPrivateNetworks
	env := &app.Env{
		Config: cfg, AWS: stack.Env.AWS,
		Log: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	f := &functions{handlers: map[string]lambdahttp.Handler{}, logs: logs}
	for _, r := range httpapi.Routes {
		f.handlers[r.Function] = localstack.Functions{Env: env}.Management(r.Function)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("function logs:\n%s", logs.String())
		}
	})
	return f
}

// response is a function's answer, decoded like API Gateway would.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r response) String() string { return fmt.Sprintf("%d %s", r.Status, r.Body) }

// apiEvent builds the event API Gateway sends for a request that passed the
// JWT authorizer with the given tenant claim (none if tenant is "").
func apiEvent(route httpapi.Route, id, query, body, tenant string) events.APIGatewayV2HTTPRequest {
	path := strings.ReplaceAll(route.Path, "{id}", id)
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: route.Method + " " + route.Path,
		RawPath: path, RawQueryString: query, Body: body,
		Headers: map[string]string{
			"content-type":    "application/json",
			"accept":          "application/json, application/problem+json",
			"content-length":  fmt.Sprint(len(body)),
			"host":            "api.hooksentry.test",
			"x-forwarded-for": "203.0.113.7",
		},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey: route.Method + " " + route.Path, AccountID: "123456789012", Stage: "$default",
			RequestID: uuid.NewString(), APIID: "e2e", DomainName: "api.hooksentry.test", DomainPrefix: "api",
			TimeEpoch: time.Now().UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method: route.Method, Path: path, Protocol: "HTTP/1.1", SourceIP: "203.0.113.7", UserAgent: "e2e",
			},
		},
	}
	if id != "" {
		ev.PathParameters = map[string]string{"id": id}
	}
	if query != "" {
		ev.QueryStringParameters = map[string]string{}
		for _, kv := range strings.Split(query, "&") {
			k, v, _ := strings.Cut(kv, "=")
			ev.QueryStringParameters[k] = v
		}
	}
	if tenant != "" {
		ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: map[string]string{
				"tenant_id": tenant, "sub": tenant, "iss": "https://auth.hooksentry.local", "aud": "hooksentry-local",
			}},
		}
	}
	return ev
}

func routeOf(t *testing.T, function string) httpapi.Route {
	t.Helper()
	for _, r := range httpapi.Routes {
		if r.Function == function {
			return r
		}
	}
	t.Fatalf("no route for function %q", function)
	return httpapi.Route{}
}

// invoke runs a function on an event.
func (f *functions) invoke(t *testing.T, function string, ev events.APIGatewayV2HTTPRequest) response {
	t.Helper()
	resp, err := f.handlers[function](context.Background(), ev)
	if err != nil {
		t.Fatalf("%s: invocation error: %v", function, err)
	}
	if err := apiDoc.CheckLambda(ev, resp); err != nil {
		t.Errorf("%s: %v", function, err)
	}
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		if body, err = base64.StdEncoding.DecodeString(resp.Body); err != nil {
			t.Fatalf("%s: response body is not base64: %v", function, err)
		}
	}
	h := http.Header{}
	for k, v := range resp.Headers {
		h.Set(k, v)
	}
	return response{Status: resp.StatusCode, Header: h, Body: body}
}

// call invokes the function of one route for tenant.
func (f *functions) call(t *testing.T, function, tenant, id, query, body string) response {
	t.Helper()
	return f.invoke(t, function, apiEvent(routeOf(t, function), id, query, body, tenant))
}

func (f *functions) create(t *testing.T, tenant, body string) map[string]any {
	t.Helper()
	r := f.call(t, "create-destination", tenant, "", "", body)
	if r.Status != http.StatusCreated {
		t.Fatalf("create %s: got %v, want 201", body, r)
	}
	return checkDestination(t, r.Body, true)
}

var timestampRE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)
var ingestTokenRE = regexp.MustCompile(`^dst_[0-9a-f]{32}$`)

var signingSecretRE = regexp.MustCompile(`^whsec_[A-Za-z0-9+/]{43}=$`)

// checkDestination decodes a destination and checks its shape: exactly the
// keys of CONTRACT §1 (plus ingestToken only on create) and valid values.
func checkDestination(t *testing.T, body []byte, withToken bool) map[string]any {
	t.Helper()
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("destination %q: %v", body, err)
	}
	checkDestinationMap(t, m, withToken)
	return m
}

func checkDestinationMap(t *testing.T, m map[string]any, withToken bool) {
	t.Helper()
	want := []string{"alerts", "authType", "createdAt", "deduplication", "id", "serverRateLimit", "status", "tenantId", "updatedAt", "url", "verification"}
	if withToken {
		want = append(want, "ingestToken", "signingSecret")
	}
	slices.Sort(want)
	if got := slices.Sorted(maps.Keys(m)); !slices.Equal(got, want) {
		t.Errorf("keys: got %v, want %v", got, want)
	}
	if id, err := uuid.Parse(str(m["id"])); err != nil || id.Version() != 4 || id.String() != m["id"] {
		t.Errorf("id %v: want a lower-case UUID v4", m["id"])
	}
	for _, k := range []string{"createdAt", "updatedAt"} {
		if !timestampRE.MatchString(str(m[k])) {
			t.Errorf("%s %v: want UTC with three fractional digits", k, m[k])
		}
	}
	if s := str(m["status"]); s != "Active" && s != "Inactive" && s != "Suspended" {
		t.Errorf("status %v: want Active, Inactive or Suspended", m["status"])
	}
	if at, ok := m["authType"]; ok && at != nil && !slices.Contains([]string{"ApiKey", "BearerToken", "JwtBearer", "BasicAuth"}, str(at)) {
		t.Errorf("authType %v: want null or a canonical auth type", at)
	}
	if n, ok := m["serverRateLimit"].(json.Number); !ok || !regexp.MustCompile(`^\d+$`).MatchString(n.String()) {
		t.Errorf("serverRateLimit %v: want an integer", m["serverRateLimit"])
	}
	if withToken && !ingestTokenRE.MatchString(str(m["ingestToken"])) {
		t.Errorf("ingestToken %v: want dst_ and 32 lowercase hex digits", m["ingestToken"])
	}
	if withToken && !signingSecretRE.MatchString(str(m["signingSecret"])) {
		t.Errorf("signingSecret %v: want whsec_ and the standard base64 of 32 bytes", m["signingSecret"])
	}
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func num(t *testing.T, v any) int {
	t.Helper()
	n, ok := v.(json.Number)
	if !ok {
		t.Fatalf("%v (%T) is not a number", v, v)
	}
	i, err := n.Int64()
	if err != nil {
		t.Fatalf("%v is not an integer", v)
	}
	return int(i)
}

// problem is the RFC 9457 body the API writes.
type problem = httpapi.Problem

// wantProblem checks that r is a problem+json answer with the status, and
// returns the problem.
func wantProblem(t *testing.T, r response, status int) problem {
	t.Helper()
	if r.Status != status {
		t.Fatalf("got %v, want status %d", r, status)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type: got %q, want application/problem+json", ct)
	}
	var p problem
	if err := json.Unmarshal(r.Body, &p); err != nil {
		t.Fatalf("problem %q: %v", r.Body, err)
	}
	var m map[string]any
	_ = json.Unmarshal(r.Body, &m)
	for _, k := range []string{"type", "title", "status", "detail"} {
		if _, ok := m[k]; !ok {
			t.Errorf("problem %s: missing %q", r.Body, k)
		}
	}
	if p.Status != status || p.Title != http.StatusText(status) || p.Type == "" || p.Detail == "" {
		t.Errorf("problem: got %+v, want status %d, title %q, a type and a detail", p, status, http.StatusText(status))
	}
	return p
}

func problemFields(t *testing.T, p problem) []string {
	t.Helper()
	var fields []string
	for _, e := range p.Errors {
		if e.Field == "" || e.Message == "" {
			t.Errorf("error entry %+v: want a field and a message", e)
		}
		fields = append(fields, e.Field)
	}
	slices.Sort(fields)
	return fields
}

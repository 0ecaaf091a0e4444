package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/hooksentry/hooksentry/pkg/dedup"
	"github.com/hooksentry/hooksentry/pkg/destination"
	"github.com/hooksentry/hooksentry/pkg/destination/destinationtest"
	hsevent "github.com/hooksentry/hooksentry/pkg/event"
	"github.com/hooksentry/hooksentry/pkg/history"
	"github.com/hooksentry/hooksentry/pkg/history/historytest"
	"github.com/hooksentry/hooksentry/pkg/httpapi"
	"github.com/hooksentry/hooksentry/pkg/lambdahttp"
	"github.com/hooksentry/hooksentry/pkg/testkit"
	"github.com/hooksentry/hooksentry/pkg/verify"
)

const (
	tenantA = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
	tenantB = "9b2f1c1e-0000-4000-8000-00000000000b"
	// destA belongs to tenantA and has BearerToken credentials; destB
	// belongs to tenantB.
	destA = "7d8e9f0a-1b2c-4d3e-8f5a-6b7c8d9e0f1a"
	destB = "7d8e9f0a-1b2c-4d3e-8f5a-6b7c8d9e0f1b"
)

type syncBuffer = testkit.LogBuffer

type testAPI struct {
	api    *httpapi.API
	store  *destinationtest.Store
	sealer *destinationtest.Sealer
	logs   *syncBuffer
}

// newTestAPI wires the API to in-memory fakes holding two tenants with one
// destination each.
// failingHistory is the history fake, failing with the destination
// store's error while that is set (an unavailable table fails both).
type failingHistory struct {
	*historytest.Fake
	err *error
}

func (f failingHistory) GetRecord(ctx context.Context, id string, now time.Time) (history.Record, bool, error) {
	if *f.err != nil {
		return history.Record{}, false, *f.err
	}
	return f.Fake.GetRecord(ctx, id, now)
}

func (f failingHistory) ListRecords(ctx context.Context, q history.Query) (history.Page, error) {
	if *f.err != nil {
		return history.Page{}, *f.err
	}
	return f.Fake.ListRecords(ctx, q)
}

func newTestAPI(tb testing.TB) *testAPI {
	tb.Helper()
	ctx := context.Background()
	st, sealer, logs := destinationtest.NewStore(), &destinationtest.Sealer{}, &syncBuffer{}
	for _, tenant := range []string{tenantA, tenantB} {
		if err := st.AddTenant(ctx, tenant); err != nil {
			tb.Fatal(err)
		}
	}
	sealedA, err := sealer.Seal(ctx, []byte(`{"token":"t"}`), destination.EncryptionContext(tenantA, destA))
	if err != nil {
		tb.Fatal(err)
	}
	for _, d := range []destination.Destination{
		destinationtest.NewDestination(tenantA, destinationtestNow, func(d *destination.Destination) {
			d.ID, d.AuthType, d.Sealed = destA, destination.AuthBearerToken, &sealedA
		}),
		destinationtest.NewDestination(tenantB, destinationtestNow, func(d *destination.Destination) { d.ID = destB }),
	} {
		if err := st.CreateDestination(ctx, d); err != nil {
			tb.Fatal(err)
		}
	}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	svc := &destination.Service{Store: st, Sealer: sealer}
	eventsAPI := &history.Service{Store: failingHistory{historytest.NewFake(), &st.Err}, Destinations: svc, Publisher: &hsevent.Publisher{}}
	return &testAPI{
		api:   &httpapi.API{Destinations: svc, Events: eventsAPI, TenantClaim: "tenant_id", Log: log},
		store: st, sealer: sealer, logs: logs,
	}
}

// invoke runs the Lambda handler of function, exactly as Lambda would.
func (a *testAPI) invoke(tb testing.TB, function string, ev events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	tb.Helper()
	h := lambdahttp.Adapt(a.api.Handler(function), a.api.Log)
	resp, err := h(context.Background(), ev)
	if err != nil {
		tb.Fatalf("handler returned an invocation error: %v", err)
	}
	return resp
}

func event(method, path, query, body, tenant string) events.APIGatewayV2HTTPRequest {
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RawPath: path, RawQueryString: query, Body: body,
		Headers: map[string]string{"content-type": "application/json"},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			DomainName: "api.hooksentry.test",
			HTTP:       events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: path},
		},
	}
	if tenant != "" {
		ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: map[string]string{"tenant_id": tenant, "sub": tenant}},
		}
	}
	return ev
}

// problem is the RFC 9457 body the API writes.
type problem = httpapi.Problem

func wantProblem(t *testing.T, resp events.APIGatewayV2HTTPResponse, status int) problem {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status: got %d, want %d (body %s)", resp.StatusCode, status, resp.Body)
	}
	if ct := resp.Headers["Content-Type"]; ct != "application/problem+json" {
		t.Errorf("Content-Type: got %q, want application/problem+json", ct)
	}
	var p problem
	if err := json.Unmarshal([]byte(resp.Body), &p); err != nil {
		t.Fatalf("body %q: %v", resp.Body, err)
	}
	if p.Status != status || p.Title != http.StatusText(status) || p.Type == "" || p.Detail == "" {
		t.Errorf("problem: got %+v, want status %d, title %q, a type and a detail", p, status, http.StatusText(status))
	}
	return p
}

func TestInternalErrorsAreGenericAndLogged(t *testing.T) {
	for _, r := range httpapi.Routes {
		t.Run(r.Function, func(t *testing.T) {
			a := newTestAPI(t)
			a.store.Err = errors.New("dynamodb exploded: table hooksentry-secret-internal")
			path := strings.ReplaceAll(r.Path, "{id}", destA)
			body := ""
			if r.Method != http.MethodGet && r.Method != http.MethodDelete {
				body = `{"url":"https://example.com"}`
			}
			p := wantProblem(t, a.invoke(t, r.Function, event(r.Method, path, "", body, tenantA)), http.StatusInternalServerError)
			if strings.Contains(p.Detail, "exploded") || strings.Contains(p.Detail, "hooksentry-secret-internal") {
				t.Errorf("detail leaks the cause: %q", p.Detail)
			}
			if logs := a.logs.String(); !strings.Contains(logs, "exploded") || !strings.Contains(logs, "request failed") {
				t.Errorf("logs: got %q, want the cause logged", logs)
			}
		})
	}
}

func TestMissingTenantClaim(t *testing.T) {
	a := newTestAPI(t)
	for _, r := range httpapi.Routes {
		path := strings.ReplaceAll(r.Path, "{id}", destA)
		t.Run(r.Function, func(t *testing.T) {
			wantProblem(t, a.invoke(t, r.Function, event(r.Method, path, "", `{}`, "")), http.StatusUnauthorized)
		})
	}
}

// TestFunctionServesOnlyItsRoute: every function answers other routes with
// a problem+json 404, as a misconfigured integration would reach it.
func TestFunctionServesOnlyItsRoute(t *testing.T) {
	a := newTestAPI(t)
	for _, fn := range httpapi.Routes {
		for _, r := range httpapi.Routes {
			if r == fn || (r.Method == fn.Method && r.Path == fn.Path) {
				continue
			}
			path := strings.ReplaceAll(r.Path, "{id}", destA)
			resp := a.invoke(t, fn.Function, event(r.Method, path, "", `{}`, tenantA))
			if resp.StatusCode != http.StatusNotFound || resp.Headers["Content-Type"] != "application/problem+json" {
				t.Errorf("%s given %s %s: got %d %q, want a problem+json 404", fn.Function, r.Method, path, resp.StatusCode, resp.Headers["Content-Type"])
			}
		}
	}
}

func TestBodyTooLarge(t *testing.T) {
	a := newTestAPI(t)
	body := `{"url":"https://example.com","x":"` + strings.Repeat("a", 70<<10) + `"}`
	wantProblem(t, a.invoke(t, "create-destination", event("POST", "/api/v1/destinations", "", body, tenantA)), http.StatusRequestEntityTooLarge)
	wantProblem(t, a.invoke(t, "update-destination", event("PATCH", "/api/v1/destinations/"+destA, "", body, tenantA)), http.StatusRequestEntityTooLarge)
}

func TestValidationProblem(t *testing.T) {
	a := newTestAPI(t)
	resp := a.invoke(t, "create-destination", event("POST", "/api/v1/destinations", "", `{"url":"http://x","serverRateLimit":0}`, tenantA))
	p := wantProblem(t, resp, http.StatusBadRequest)
	var fields []string
	for _, e := range p.Errors {
		if e.Message == "" {
			t.Errorf("error for %q has no message", e.Field)
		}
		fields = append(fields, e.Field)
	}
	if got := strings.Join(fields, ","); got != "url,serverRateLimit" {
		t.Errorf("fields: got %q, want url,serverRateLimit", got)
	}
	if p.Type == "about:blank" {
		t.Errorf("type: got about:blank, want a validation problem type")
	}
}

func TestNewView(t *testing.T) {
	d := destinationtest.NewDestination(tenantA, destinationtestNow, nil)
	b, err := json.Marshal(httpapi.NewView(d))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if v, ok := m["authType"]; !ok || v != nil {
		t.Errorf("authType without auth: got %v (present %v), want null", v, ok)
	}
	if _, ok := m["ingestToken"]; ok {
		t.Errorf("ingestToken present in a plain view")
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if got, want := strings.Join(keys, ","), "alerts,authType,createdAt,deduplication,id,serverRateLimit,status,tenantId,updatedAt,url,verification"; got != want {
		t.Errorf("keys: got %s, want %s (CONTRACT §1)", got, want)
	}
	for _, k := range []string{"verification", "deduplication"} {
		if m[k] != nil {
			t.Errorf("%s without one: got %v, want null", k, m[k])
		}
	}
	if a, ok := m["alerts"].([]any); !ok || len(a) != 0 {
		t.Errorf("alerts: got %#v, want []", m["alerts"])
	}
}

func TestNewViewOfChecks(t *testing.T) {
	d := destinationtest.NewDestination(tenantA, destinationtestNow, func(d *destination.Destination) {
		d.Verification = &destination.Verification{
			Config: verify.Config{Scheme: verify.Hmac, Header: "X-Sig", Algorithm: "sha1", Encoding: "hex"},
			Secret: destination.Sealed{Ciphertext: []byte("sealed-secret"), EncryptedKey: []byte("sealed-key")},
		}
		k, _ := dedup.ParseKey("body:data.id")
		d.Deduplication = &destination.Deduplication{Key: k, Window: 90 * time.Minute}
	})
	b, err := json.Marshal(httpapi.NewView(d))
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Verification  map[string]any `json:"verification"`
		Deduplication map[string]any `json:"deduplication"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if want := map[string]any{"type": "Hmac"}; !reflect.DeepEqual(got.Verification, want) {
		t.Errorf("verification: got %v, want %v", got.Verification, want)
	}
	if want := map[string]any{"key": "body:data.id", "window": "1h30m"}; !reflect.DeepEqual(got.Deduplication, want) {
		t.Errorf("deduplication: got %v, want %v", got.Deduplication, want)
	}
	if strings.Contains(string(b), "c2VhbGVk") || strings.Contains(string(b), "sealed") {
		t.Errorf("the view shows the sealed secret: %s", b)
	}
}

var destinationtestNow = mustTime("2026-07-03T14:32:00.000Z")

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestListQueryDecoding(t *testing.T) {
	a := newTestAPI(t)
	for _, tc := range []struct {
		query  string
		status int
		fields string
	}{
		{"Qt=1&Pg=1", http.StatusOK, ""},
		{"qt=1;pg=2", http.StatusBadRequest, "Qt"}, // ';' is no separator: Qt is "1;pg=2"
		{"Qt=%zz", http.StatusBadRequest, "Qt"},
		{"Qt=1&other=%", http.StatusBadRequest, "other"},
		{"%zz=1", http.StatusBadRequest, "query"},
		{"url=a+b%20c&status=active", http.StatusOK, ""},
	} {
		resp := a.invoke(t, "list-destinations", event("GET", "/api/v1/destinations", tc.query, "", tenantA))
		if resp.StatusCode != tc.status {
			t.Errorf("%s: got %d %s, want %d", tc.query, resp.StatusCode, resp.Body, tc.status)
			continue
		}
		if tc.status == http.StatusBadRequest {
			p := wantProblem(t, resp, http.StatusBadRequest)
			var fields []string
			for _, e := range p.Errors {
				fields = append(fields, e.Field)
			}
			if got := strings.Join(fields, ","); got != tc.fields {
				t.Errorf("%s: fields got %q, want %q", tc.query, got, tc.fields)
			}
		}
	}
}

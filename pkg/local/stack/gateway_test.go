package stack

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/hooksentry/hooksentry/pkg/app"
	"github.com/hooksentry/hooksentry/pkg/config"
	"github.com/hooksentry/hooksentry/pkg/destination"
	"github.com/hooksentry/hooksentry/pkg/event"
	"github.com/hooksentry/hooksentry/pkg/httpapi"
	"github.com/hooksentry/hooksentry/pkg/local/devauth"
	"github.com/hooksentry/hooksentry/pkg/local/gateway"
	"github.com/hooksentry/hooksentry/pkg/store"
)

// TestEventRoutesThroughTheGateway: the five event routes of CONTRACT §5
// are served by the local gateway, as `make run` assembles it (Routes and
// the dev issuer's JWTs), each by its own function. Without a JWT the
// gateway answers 401 itself; with one, the answer is the function's
// (problem+json for an unknown event, not the gateway's {"message"} 404).
func TestEventRoutesThroughTheGateway(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	env := provisionedEnv(ctx, t, "gateway-events")

	tenant, dest := uuid.NewString(), uuid.NewString()
	st := env.Store()
	if err := st.CreateTenant(ctx, store.Tenant{ID: tenant, Name: "gateway-events", CreatedAt: store.NewTenantTime(time.Now())}); err != nil {
		t.Fatal(err)
	}
	now := destination.Timestamp(time.Now())
	if err := st.CreateDestination(ctx, destination.Destination{
		ID: dest, TenantID: tenant, URL: "https://receiver.example/webhook", Status: destination.Active,
		ServerRateLimit: 5, CreatedAt: now, UpdatedAt: now,
		TokenHash: destination.HashIngestToken("dst_" + strings.ReplaceAll(uuid.NewString(), "-", "")), Version: 1,
	}); err != nil {
		t.Fatal(err)
	}

	issuer, err := devauth.LoadOrCreateIssuer(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	validator, err := devauth.NewValidator(issuer.JWKS(), issuer.IssuerURL, []string{issuer.Audience}, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	routes, err := Routes(env)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(&gateway.Gateway{Routes: routes, Authorizer: validator, Log: env.Log})
	defer srv.Close()
	token, err := issuer.Mint(tenant, time.Hour)
	if err != nil {
		t.Fatal(err)
	}

	unknown := event.NewID(dest, time.Now()) // a well-formed id of this destination, never ingested
	cases := []struct {
		function, method, path, body string
		status                       int
		check                        func(t *testing.T, v map[string]any)
	}{
		{"list-events", http.MethodGet, "/api/v1/destinations/" + dest + "/events", "", http.StatusOK, func(t *testing.T, v map[string]any) {
			if items, ok := v["items"].([]any); v["total"] != 0.0 || !ok || len(items) != 0 {
				t.Errorf("want total 0 and no items")
			}
		}},
		{"get-event", http.MethodGet, "/api/v1/events/" + unknown, "", http.StatusNotFound, checkProblem(http.StatusNotFound)},
		{"replay-event", http.MethodPost, "/api/v1/events/" + unknown + "/replay", "", http.StatusNotFound, checkProblem(http.StatusNotFound)},
		{"replay-events", http.MethodPost, "/api/v1/destinations/" + dest + "/events/replay", `{"status":"Failed"}`, http.StatusAccepted, func(t *testing.T, v map[string]any) {
			if v["replayed"] != 0.0 || v["remaining"] != 0.0 {
				t.Errorf("want replayed 0, remaining 0")
			}
		}},
		{"event-stats", http.MethodGet, "/api/v1/destinations/" + dest + "/events/stats", "", http.StatusOK, func(t *testing.T, v map[string]any) {
			if buckets, ok := v["buckets"].([]any); !ok || len(buckets) != 24 {
				t.Errorf("want the 24 hourly buckets of the default range")
			}
		}},
	}
	served := map[string]bool{}
	for _, r := range routes {
		served[r.Method+" "+r.Path+" "+r.Function] = r.JWT
	}
	for _, c := range cases {
		t.Run(c.function, func(t *testing.T) {
			route := routeOf(t, c.function)
			if jwt, ok := served[route.Method+" "+route.Path+" "+c.function]; !ok || !jwt {
				t.Fatalf("the gateway does not serve %s %s with %s behind the JWT authorizer", route.Method, route.Path, c.function)
			}
			if status, body := send(t, srv.URL, c.method, c.path, "", c.body); status != http.StatusUnauthorized || !strings.Contains(body, `"Unauthorized"`) {
				t.Errorf("without a JWT: %d %s, want the gateway's 401", status, body)
			}
			status, body := send(t, srv.URL, c.method, c.path, "Bearer "+token, c.body)
			if status != c.status {
				t.Fatalf("with the dev JWT: %d %s, want %d", status, body, c.status)
			}
			var v map[string]any
			if err := json.Unmarshal([]byte(body), &v); err != nil {
				t.Fatalf("body %s: %v", body, err)
			}
			c.check(t, v)
			if t.Failed() {
				t.Logf("body: %s", body)
			}
		})
	}
}

// routeOf is function's route in httpapi.Routes.
func routeOf(t *testing.T, function string) httpapi.Route {
	t.Helper()
	for _, r := range httpapi.Routes {
		if r.Function == function {
			return r
		}
	}
	t.Fatalf("httpapi.Routes has no route for %s", function)
	return httpapi.Route{}
}

// checkProblem checks a problem+json body of status (the function's, not
// the gateway's {"message": ...}).
func checkProblem(status int) func(t *testing.T, v map[string]any) {
	return func(t *testing.T, v map[string]any) {
		if v["status"] != float64(status) || v["title"] == nil || v["type"] == nil || v["detail"] == nil {
			t.Errorf("want a problem+json body with status %d", status)
		}
	}
}

// send makes one request to the gateway and returns the status and body; a
// body other than JSON fails the test (every answer here is JSON).
func send(t *testing.T, base, method, path, auth, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	ct := resp.Header.Get("Content-Type")
	if !strings.HasPrefix(ct, "application/json") && !strings.HasPrefix(ct, "application/problem+json") {
		t.Errorf("%s %s: Content-Type %q", method, path, ct)
	}
	if resp.StatusCode >= 400 && auth != "" && !strings.HasPrefix(ct, "application/problem+json") {
		t.Errorf("%s %s: %d with Content-Type %q, want the function's application/problem+json", method, path, resp.StatusCode, ct)
	}
	return resp.StatusCode, string(b)
}

// provisionedEnv provisions a table, key and queues named after name on
// the emulators and returns the functions' Env for them.
func provisionedEnv(ctx context.Context, t *testing.T, name string) *app.Env {
	t.Helper()
	awsCfg, err := app.AWSFromEnvironment(os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Provision(ctx, awsCfg, Names{
		Table: name, KeyAlias: "alias/" + name, Queue: name + "-q",
		DeadLetter: name + "-dlq", VisibilityTimeout: DefaultVisibilityTimeout,
	})
	if err != nil {
		t.Fatal(err)
	}
	settings := map[string]string{
		"HOOKSENTRY_TABLE_NAME": res.TableName, "HOOKSENTRY_KMS_KEY_ID": res.KMSKeyID,
		"HOOKSENTRY_QUEUE_URL": res.QueueURL, "HOOKSENTRY_DLQ_URL": res.DLQURL,
	}
	cfg, err := config.Load(func(name string) string { return settings[name] })
	if err != nil {
		t.Fatal(err)
	}
	return &app.Env{Config: cfg, AWS: awsCfg, Log: slog.New(slog.NewJSONHandler(io.Discard, nil))}
}

package stack

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hooksentry/hooksentry/pkg/app"
	"github.com/hooksentry/hooksentry/pkg/config"
	"github.com/hooksentry/hooksentry/pkg/local/devauth"
)

const consoleTestOrigin = "http://127.0.0.1:8080"

// consoleGateway is the gateway as Start assembles it for the local
// issuer: the console's settings point at the gateway's /oauth endpoints.
func consoleGateway(t *testing.T, withAuth bool) (http.Handler, *devauth.Issuer) {
	t.Helper()
	issuer, err := devauth.LoadOrCreateIssuer(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var auth *devauth.AuthServer
	settings := map[string]string{}
	if withAuth {
		auth, err = devauth.NewAuthServer(issuer, consoleTestOrigin, nil)
		if err != nil {
			t.Fatal(err)
		}
		settings = ConsoleSettings(auth)
	}
	cfg, err := config.Load(func(name string) string { return settings[name] })
	if err != nil {
		t.Fatal(err)
	}
	env := &app.Env{Config: cfg, Log: slog.New(slog.NewJSONHandler(io.Discard, nil))}
	h, err := HandlerWith(context.Background(), env, issuer, nil, auth)
	if err != nil {
		t.Fatal(err)
	}
	return h, issuer
}

func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// TestConsoleThroughTheGateway: the console function answers /console/
// without a JWT, with its policy allowing the local issuer, and its
// config.json names the gateway's own /oauth endpoints, which sign a
// tenant in without a JWT and hand out a token the gateway accepts.
func TestConsoleThroughTheGateway(t *testing.T) {
	h, issuer := consoleGateway(t, true)

	index := serve(h, httptest.NewRequest(http.MethodGet, "/console/", nil))
	if index.Code != http.StatusOK || !strings.HasPrefix(index.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("GET /console/: %d %q", index.Code, index.Header().Get("Content-Type"))
	}
	csp := index.Header().Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "connect-src 'self' "+consoleTestOrigin+";") ||
		!strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("GET /console/ CSP %q", csp)
	}
	missing := serve(h, httptest.NewRequest(http.MethodGet, "/console/no-such-file.js", nil))
	if missing.Code != http.StatusNotFound || missing.Header().Get("Content-Type") != "application/problem+json" || missing.Header().Get("Content-Security-Policy") != csp {
		t.Errorf("GET a missing asset: %d %q CSP %q", missing.Code, missing.Header().Get("Content-Type"), missing.Header().Get("Content-Security-Policy"))
	}
	if w := serve(h, httptest.NewRequest(http.MethodGet, "/console", nil)); w.Code != http.StatusMovedPermanently || w.Header().Get("Location") != "/console/" {
		t.Errorf("GET /console: %d Location %q, want 301 to /console/", w.Code, w.Header().Get("Location"))
	}
	// API Gateway routes GET only: HEAD is the gateway's own 404.
	if w := serve(h, httptest.NewRequest(http.MethodHead, "/console/", nil)); w.Code != http.StatusNotFound {
		t.Errorf("HEAD /console/: %d, want 404", w.Code)
	}

	var cfg struct {
		Configured                       bool
		AuthorizeURL, TokenURL, ClientID string
	}
	if err := json.Unmarshal(serve(h, httptest.NewRequest(http.MethodGet, "/console/config.json", nil)).Body.Bytes(), &cfg); err != nil {
		t.Fatal(err)
	}
	if !cfg.Configured || cfg.AuthorizeURL != consoleTestOrigin+"/oauth/authorize" || cfg.TokenURL != consoleTestOrigin+"/oauth/token" || cfg.ClientID != "hooksentry-console" {
		t.Fatalf("config.json %+v, want the gateway's /oauth endpoints", cfg)
	}

	verifier := strings.Repeat("v", 64)
	sum := sha256.Sum256([]byte(verifier))
	params := url.Values{
		"response_type": {"code"}, "client_id": {cfg.ClientID}, "redirect_uri": {consoleTestOrigin + "/console/"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}, "state": {"s"},
	}
	page := serve(h, httptest.NewRequest(http.MethodGet, "/oauth/authorize?"+params.Encode(), nil))
	if page.Code != http.StatusOK || !strings.Contains(page.Body.String(), "Tenant ID") {
		t.Fatalf("GET /oauth/authorize: %d %s", page.Code, page.Body)
	}
	params.Set("tenant_id", "tenant-7")
	post := httptest.NewRequest(http.MethodPost, "/oauth/authorize", strings.NewReader(params.Encode()))
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	redirect := serve(h, post)
	loc, err := url.Parse(redirect.Header().Get("Location"))
	if redirect.Code != http.StatusFound || err != nil || loc.Query().Get("code") == "" {
		t.Fatalf("POST /oauth/authorize: %d Location %q", redirect.Code, redirect.Header().Get("Location"))
	}
	form := url.Values{
		"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")}, "redirect_uri": {consoleTestOrigin + "/console/"},
		"client_id": {cfg.ClientID}, "code_verifier": {verifier},
	}
	tokReq := httptest.NewRequest(http.MethodPost, "/oauth/token", strings.NewReader(form.Encode()))
	tokReq.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	tokResp := serve(h, tokReq)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(tokResp.Body.Bytes(), &tok); tokResp.Code != http.StatusOK || err != nil || tok.AccessToken == "" {
		t.Fatalf("POST /oauth/token: %d %s", tokResp.Code, tokResp.Body)
	}
	v, err := devauth.NewValidator(issuer.JWKS(), issuer.IssuerURL, []string{issuer.Audience}, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	if claims, err := v.Validate("Bearer " + tok.AccessToken); err != nil || claims["tenant_id"] != "tenant-7" {
		t.Errorf("the console's token: claims %v, error %v", claims, err)
	}
	// The API itself still wants a JWT.
	if w := serve(h, httptest.NewRequest(http.MethodGet, "/api/v1/destinations", nil)); w.Code != http.StatusUnauthorized {
		t.Errorf("GET /api/v1/destinations without a token: %d, want 401", w.Code)
	}
}

// TestNoOAuthWithoutTheLocalAuthServer: with an external issuer the stack
// passes no authorization server, and /oauth is not served; the console is
// still, unconfigured unless the user's settings say otherwise.
func TestNoOAuthWithoutTheLocalAuthServer(t *testing.T) {
	h, _ := consoleGateway(t, false)
	for _, p := range []string{"/oauth/authorize?client_id=hooksentry-console", "/oauth/token"} {
		if w := serve(h, httptest.NewRequest(http.MethodGet, p, nil)); w.Code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, w.Code)
		}
	}
	w := serve(h, httptest.NewRequest(http.MethodGet, "/console/config.json", nil))
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"configured":false`) {
		t.Errorf("config.json without settings: %d %s", w.Code, w.Body)
	}
}

func TestLocalSignInOnlyOnLoopback(t *testing.T) {
	for url, want := range map[string]bool{
		"http://127.0.0.1:8080": true, "http://[::1]:8080": true,
		"http://0.0.0.0:8080": false, "http://192.168.1.10:8080": false, "http://localhost:8080": false, "::": false,
	} {
		if got := loopbackURL(url); got != want {
			t.Errorf("loopbackURL(%q) = %v, want %v", url, got, want)
		}
	}
}

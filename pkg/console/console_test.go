package console

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

var testAssets = fstest.MapFS{
	"index.html":   {Data: []byte("<!doctype html><title>HookSentry</title>")},
	"app.js":       {Data: []byte("console.log(1)")},
	"app.css":      {Data: []byte("body{}")},
	"img/logo.svg": {Data: []byte("<svg/>")},
	"blob.bin":     {Data: []byte{0, 1, 2}},
}

var testSettings = Settings{
	AuthorizeURL: "https://auth.example.com/oauth2/authorize",
	TokenURL:     "https://tokens.example.com/oauth2/token",
	ClientID:     "client-1",
}

const wantCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self' https://auth.example.com https://tokens.example.com; " +
	"form-action 'self' https://auth.example.com https://tokens.example.com; " +
	"frame-ancestors 'none'; base-uri 'none'"

func newHandler(t *testing.T, s Settings) *Handler {
	t.Helper()
	h, err := New(testAssets, s)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func get(h http.Handler, method, target string, header ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func checkSecurityHeaders(t *testing.T, what string, w *httptest.ResponseRecorder) {
	t.Helper()
	if got := w.Header().Get("Content-Security-Policy"); got != wantCSP {
		t.Errorf("%s: Content-Security-Policy = %q, want %q", what, got, wantCSP)
	}
	if got := w.Header().Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("%s: X-Content-Type-Options = %q", what, got)
	}
	if got := w.Header().Get("Referrer-Policy"); got != "no-referrer" {
		t.Errorf("%s: Referrer-Policy = %q", what, got)
	}
}

func TestServesAssets(t *testing.T) {
	h := newHandler(t, testSettings)
	tests := []struct {
		path, contentType, cache, body string
	}{
		{"/console/", "text/html; charset=utf-8", "no-cache", "<!doctype html><title>HookSentry</title>"},
		{"/console/index.html", "text/html; charset=utf-8", "no-cache", "<!doctype html><title>HookSentry</title>"},
		{"/console/app.js", "text/javascript; charset=utf-8", "max-age=300", "console.log(1)"},
		{"/console/app.css", "text/css; charset=utf-8", "max-age=300", "body{}"},
		{"/console/img/logo.svg", "image/svg+xml", "max-age=300", "<svg/>"},
		{"/console/blob.bin", "application/octet-stream", "max-age=300", "\x00\x01\x02"},
	}
	for _, tc := range tests {
		w := get(h, http.MethodGet, tc.path)
		if w.Code != http.StatusOK {
			t.Errorf("GET %s: %d, want 200", tc.path, w.Code)
			continue
		}
		if got := w.Header().Get("Content-Type"); got != tc.contentType {
			t.Errorf("GET %s: Content-Type %q, want %q", tc.path, got, tc.contentType)
		}
		if got := w.Header().Get("Cache-Control"); got != tc.cache {
			t.Errorf("GET %s: Cache-Control %q, want %q", tc.path, got, tc.cache)
		}
		if w.Body.String() != tc.body {
			t.Errorf("GET %s: body %q, want %q", tc.path, w.Body, tc.body)
		}
		checkSecurityHeaders(t, "GET "+tc.path, w)
	}
}

func TestETagRevalidation(t *testing.T) {
	h := newHandler(t, testSettings)
	first := get(h, http.MethodGet, "/console/app.js")
	etag := first.Header().Get("ETag")
	if !strings.HasPrefix(etag, `"`) || len(etag) < 10 {
		t.Fatalf("ETag %q, want a strong quoted tag", etag)
	}
	if other := get(h, http.MethodGet, "/console/app.css").Header().Get("ETag"); other == etag {
		t.Errorf("app.js and app.css share ETag %s", etag)
	}
	w := get(h, http.MethodGet, "/console/app.js", "If-None-Match", etag)
	if w.Code != http.StatusNotModified || w.Body.Len() != 0 {
		t.Errorf("If-None-Match the ETag: %d with %d bytes, want 304 and no body", w.Code, w.Body.Len())
	}
	if w := get(h, http.MethodGet, "/console/app.js", "If-None-Match", `"stale"`); w.Code != http.StatusOK {
		t.Errorf("If-None-Match a stale tag: %d, want 200", w.Code)
	}
}

func TestRedirectsPrefixToIndex(t *testing.T) {
	w := get(newHandler(t, testSettings), http.MethodGet, "/console")
	if w.Code != http.StatusMovedPermanently || w.Header().Get("Location") != "/console/" {
		t.Errorf("GET /console: %d Location %q, want 301 to /console/", w.Code, w.Header().Get("Location"))
	}
	checkSecurityHeaders(t, "GET /console", w)
}

func TestUnknownFilesAndTraversalAre404(t *testing.T) {
	h := newHandler(t, testSettings)
	for _, p := range []string{
		"/console/missing.js",
		"/console/img/",
		"/console/img",
		"/console/../console/app.js",
		"/console/img/../app.js",
		"/console/./app.js",
		"/console//app.js",
		`/console/img\logo.svg`,
		"/console/%2e%2e/go.mod",
		"/consolex/app.js",
		"/other",
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.URL.Path = p // exactly this path, not what a client library would clean it to
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, w.Code)
			continue
		}
		if got := w.Header().Get("Content-Type"); got != "application/problem+json" {
			t.Errorf("GET %s: Content-Type %q, want application/problem+json", p, got)
		}
		var prob problem
		if err := json.Unmarshal(w.Body.Bytes(), &prob); err != nil || prob.Status != 404 || prob.Title == "" || prob.Detail == "" {
			t.Errorf("GET %s: body %s, want a 404 problem", p, w.Body)
		}
		checkSecurityHeaders(t, "GET "+p, w)
	}
}

func TestOnlyGET(t *testing.T) {
	h := newHandler(t, testSettings)
	for _, m := range []string{http.MethodHead, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodOptions} {
		w := get(h, m, "/console/app.js")
		if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != "GET" {
			t.Errorf("%s: %d Allow %q, want 405 Allow GET", m, w.Code, w.Header().Get("Allow"))
		}
		checkSecurityHeaders(t, m, w)
	}
}

func TestConfigJSON(t *testing.T) {
	s := testSettings
	s.LogoutURL = "https://auth.example.com/logout"
	w := get(newHandler(t, s), http.MethodGet, "/console/config.json")
	if w.Code != 200 || w.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("GET config.json: %d %q", w.Code, w.Header().Get("Content-Type"))
	}
	checkSecurityHeaders(t, "config.json", w)
	var got map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"configured": true, "apiBase": "", "scope": "openid",
		"authorizeUrl": s.AuthorizeURL, "tokenUrl": s.TokenURL, "clientId": "client-1",
		"logoutUrl": "https://auth.example.com/logout",
	}
	if len(got) != len(want) {
		t.Errorf("config.json keys %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("config.json %s = %v, want %v", k, got[k], v)
		}
	}

	// Without a logout URL it is null, not absent or "".
	w = get(newHandler(t, testSettings), http.MethodGet, "/console/config.json")
	if !strings.Contains(w.Body.String(), `"logoutUrl":null`) {
		t.Errorf("config.json without logout URL: %s", w.Body)
	}
}

func TestNotConfigured(t *testing.T) {
	h := newHandler(t, Settings{})
	w := get(h, http.MethodGet, "/console/config.json")
	want := `{"configured":false,"apiBase":"","authorizeUrl":"","tokenUrl":"","clientId":"","scope":"openid","logoutUrl":null}`
	if w.Body.String() != want {
		t.Errorf("config.json = %s, want %s", w.Body, want)
	}
	// No identity provider to talk to: the policy allows the own origin only.
	csp := w.Header().Get("Content-Security-Policy")
	if !strings.Contains(csp, "connect-src 'self';") || !strings.Contains(csp, "form-action 'self';") {
		t.Errorf("CSP without settings: %q", csp)
	}
}

func TestCSPDeduplicatesOneIssuerOrigin(t *testing.T) {
	got := csp(Settings{AuthorizeURL: "http://127.0.0.1:8080/oauth/authorize", TokenURL: "http://127.0.0.1:8080/oauth/token", ClientID: "c"})
	if !strings.Contains(got, "connect-src 'self' http://127.0.0.1:8080;") || strings.Count(got, "127.0.0.1") != 2 {
		t.Errorf("csp = %q, want the one origin once in connect-src and form-action", got)
	}
}

func TestNewNeedsAnIndex(t *testing.T) {
	if _, err := New(fstest.MapFS{"app.js": {Data: []byte("x")}}, Settings{}); err == nil {
		t.Error("New accepted assets without index.html")
	}
}

package devauth

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	testOrigin   = "http://127.0.0.1:8080"
	testRedirect = testOrigin + "/console/"
	testVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-a-longer-verifier"
)

func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// One issuer for every fixture: a 2048-bit key takes a while to generate.
var (
	sharedIssuer     *Issuer
	sharedIssuerOnce sync.Once
)

type oauthFixture struct {
	issuer *Issuer
	server *AuthServer
	now    time.Time
}

func newOAuthFixture(t *testing.T) *oauthFixture {
	t.Helper()
	sharedIssuerOnce.Do(func() { sharedIssuer = newTestIssuer(t) })
	f := &oauthFixture{issuer: sharedIssuer, now: time.Now()}
	var err error
	f.server, err = NewAuthServer(f.issuer, testOrigin, func() time.Time { return f.now })
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func authParams(change func(url.Values)) url.Values {
	v := url.Values{
		"response_type": {"code"}, "client_id": {ConsoleClientID}, "redirect_uri": {testRedirect},
		"code_challenge": {s256(testVerifier)}, "code_challenge_method": {"S256"},
		"state": {"st-1"}, "scope": {"openid"},
	}
	if change != nil {
		change(v)
	}
	return v
}

func (f *oauthFixture) do(method, target string, form url.Values) *httptest.ResponseRecorder {
	var r *http.Request
	if form != nil {
		r = httptest.NewRequest(method, target, strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		r = httptest.NewRequest(method, target, nil)
	}
	w := httptest.NewRecorder()
	f.server.ServeHTTP(w, r)
	return w
}

// signIn posts the sign-in form and returns the code of the redirect.
func (f *oauthFixture) signIn(t *testing.T, tenant string, change func(url.Values)) string {
	t.Helper()
	form := authParams(change)
	form.Set("tenant_id", tenant)
	w := f.do(http.MethodPost, AuthorizePath, form)
	if w.Code != http.StatusFound {
		t.Fatalf("POST authorize: %d %s", w.Code, w.Body)
	}
	loc, err := url.Parse(w.Header().Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if loc.Scheme+"://"+loc.Host+loc.Path != form.Get("redirect_uri") || loc.Query().Get("state") != form.Get("state") {
		t.Fatalf("redirect to %s, want %s with state %s", loc, form.Get("redirect_uri"), form.Get("state"))
	}
	code := loc.Query().Get("code")
	if len(code) < 20 {
		t.Fatalf("code %q is too short to be random", code)
	}
	return code
}

func (f *oauthFixture) redeem(code string, change func(url.Values)) *httptest.ResponseRecorder {
	v := url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {testRedirect},
		"client_id": {ConsoleClientID}, "code_verifier": {testVerifier},
	}
	if change != nil {
		change(v)
	}
	return f.do(http.MethodPost, TokenPath, v)
}

func tokenErrorCode(t *testing.T, w *httptest.ResponseRecorder) string {
	t.Helper()
	var body struct {
		Error string `json:"error"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatalf("token error body %q: %v", w.Body, err)
	}
	return body.Error
}

func TestAuthorizationCodeWithPKCE(t *testing.T) {
	f := newOAuthFixture(t)
	page := f.do(http.MethodGet, AuthorizePath+"?"+authParams(nil).Encode(), nil)
	if page.Code != http.StatusOK || !strings.HasPrefix(page.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("GET authorize: %d %s", page.Code, page.Header().Get("Content-Type"))
	}
	body := page.Body.String()
	for _, want := range []string{
		`<label for="tenant">Tenant ID</label>`, `id="tenant" name="tenant_id"`, `<button type="submit">Sign in</button>`,
		`name="code_challenge" value="` + s256(testVerifier) + `"`, `name="state" value="st-1"`,
		`name="redirect_uri" value="http://127.0.0.1:8080/console/"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("sign-in page lacks %s", want)
		}
	}
	if csp := page.Header().Get("Content-Security-Policy"); csp != pageCSP || !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("sign-in page CSP %q", csp)
	}

	code := f.signIn(t, "tenant-42", nil)
	w := f.redeem(code, nil)
	if w.Code != http.StatusOK {
		t.Fatalf("token: %d %s", w.Code, w.Body)
	}
	if w.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("token response Cache-Control %q, want no-store", w.Header().Get("Cache-Control"))
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &tok); err != nil {
		t.Fatal(err)
	}
	if tok.TokenType != "Bearer" || tok.ExpiresIn != 3600 {
		t.Errorf("token_type %q expires_in %d, want Bearer 3600", tok.TokenType, tok.ExpiresIn)
	}
	claims, err := newTestValidator(t, f.issuer).Validate("Bearer " + tok.AccessToken)
	if err != nil {
		t.Fatalf("the access token does not validate: %v", err)
	}
	if claims[DefaultTenantClaim] != "tenant-42" {
		t.Errorf("tenant claim %q, want tenant-42", claims[DefaultTenantClaim])
	}
	if exp, iat := claims["exp"], claims["iat"]; exp != strconv.FormatInt(testNow.Unix()+3600, 10) || iat != strconv.FormatInt(testNow.Unix(), 10) {
		t.Errorf("iat %s exp %s, want a token of one hour from %d", iat, exp, testNow.Unix())
	}

	// The code is single use, even after a success.
	if w := f.redeem(code, nil); w.Code != http.StatusBadRequest || tokenErrorCode(t, w) != "invalid_grant" {
		t.Errorf("reused code: %d %s, want 400 invalid_grant", w.Code, w.Body)
	}
}

func TestTokenRefusals(t *testing.T) {
	tests := []struct {
		name       string
		change     func(url.Values)
		status     int
		error      string
		advanceBy  time.Duration
		wrongCode  bool
		formHeader string
	}{
		{name: "wrong verifier", change: func(v url.Values) { v.Set("code_verifier", strings.Repeat("x", 50)) }, status: 400, error: "invalid_grant"},
		{name: "short verifier", change: func(v url.Values) { v.Set("code_verifier", "abc") }, status: 400, error: "invalid_grant"},
		{name: "challenge as verifier", change: func(v url.Values) { v.Set("code_verifier", s256(testVerifier)) }, status: 400, error: "invalid_grant"},
		{name: "other redirect_uri", change: func(v url.Values) { v.Set("redirect_uri", testOrigin+"/console/other") }, status: 400, error: "invalid_grant"},
		{name: "other client", change: func(v url.Values) { v.Set("client_id", "evil") }, status: 401, error: "invalid_client"},
		{name: "grant type", change: func(v url.Values) { v.Set("grant_type", "password") }, status: 400, error: "unsupported_grant_type"},
		{name: "no verifier", change: func(v url.Values) { v.Del("code_verifier") }, status: 400, error: "invalid_request"},
		{name: "expired", advanceBy: CodeTTL, status: 400, error: "invalid_grant"},
		{name: "unknown code", wrongCode: true, status: 400, error: "invalid_grant"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newOAuthFixture(t)
			code := f.signIn(t, "tenant-1", nil)
			f.now = f.now.Add(tc.advanceBy)
			if tc.wrongCode {
				code += "x"
			}
			w := f.redeem(code, tc.change)
			if w.Code != tc.status || tokenErrorCode(t, w) != tc.error {
				t.Errorf("%d %s, want %d %s", w.Code, w.Body, tc.status, tc.error)
			}
			if strings.Contains(w.Body.String(), "access_token") {
				t.Errorf("refusal carries a token: %s", w.Body)
			}
		})
	}
	// Just before expiry a code still works.
	f := newOAuthFixture(t)
	code := f.signIn(t, "tenant-1", nil)
	f.now = f.now.Add(CodeTTL - time.Second)
	if w := f.redeem(code, nil); w.Code != http.StatusOK {
		t.Errorf("code redeemed 59 s after issue: %d %s", w.Code, w.Body)
	}
	// A failed redemption burns the code: no second guess of the verifier.
	code = f.signIn(t, "tenant-1", nil)
	f.redeem(code, func(v url.Values) { v.Set("code_verifier", strings.Repeat("y", 43)) })
	if w := f.redeem(code, nil); w.Code != http.StatusBadRequest {
		t.Errorf("code after a wrong verifier: %d, want 400", w.Code)
	}
	// The token endpoint takes a form, not JSON.
	r := httptest.NewRequest(http.MethodPost, TokenPath, strings.NewReader(`{"grant_type":"authorization_code"}`))
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	f.server.ServeHTTP(w, r)
	if w.Code != http.StatusBadRequest || tokenErrorCode(t, w) != "invalid_request" {
		t.Errorf("JSON token request: %d %s", w.Code, w.Body)
	}
}

func TestAuthorizeRefusesWithoutRedirecting(t *testing.T) {
	tests := map[string]func(url.Values){
		"foreign origin":       func(v url.Values) { v.Set("redirect_uri", "https://evil.example.com/console/") },
		"other port":           func(v url.Values) { v.Set("redirect_uri", "http://127.0.0.1:8081/console/") },
		"localhost spelling":   func(v url.Values) { v.Set("redirect_uri", "http://localhost:8080/console/") },
		"outside console":      func(v url.Values) { v.Set("redirect_uri", testOrigin+"/api/v1/destinations") },
		"dot-dot":              func(v url.Values) { v.Set("redirect_uri", testOrigin+"/console/../ingest/x") },
		"user-info":            func(v url.Values) { v.Set("redirect_uri", "http://evil@127.0.0.1:8080/console/") },
		"relative":             func(v url.Values) { v.Set("redirect_uri", "/console/") },
		"missing redirect":     func(v url.Values) { v.Del("redirect_uri") },
		"plain method":         func(v url.Values) { v.Set("code_challenge_method", "plain") },
		"missing method":       func(v url.Values) { v.Del("code_challenge_method") },
		"missing challenge":    func(v url.Values) { v.Del("code_challenge") },
		"short challenge":      func(v url.Values) { v.Set("code_challenge", "abc") },
		"bad challenge chars":  func(v url.Values) { v.Set("code_challenge", strings.Repeat("+", 43)) },
		"response_type token":  func(v url.Values) { v.Set("response_type", "token") },
		"unknown client":       func(v url.Values) { v.Set("client_id", "other") },
		"challenge of 129 len": func(v url.Values) { v.Set("code_challenge", strings.Repeat("a", 129)) },
	}
	for name, change := range tests {
		t.Run(name, func(t *testing.T) {
			f := newOAuthFixture(t)
			params := authParams(change)
			for _, method := range []string{http.MethodGet, http.MethodPost} {
				var w *httptest.ResponseRecorder
				if method == http.MethodGet {
					w = f.do(method, AuthorizePath+"?"+params.Encode(), nil)
				} else {
					form := authParams(change)
					form.Set("tenant_id", "tenant-1")
					w = f.do(method, AuthorizePath, form)
				}
				if w.Code != http.StatusBadRequest || w.Header().Get("Location") != "" {
					t.Errorf("%s: %d Location %q, want 400 and no redirect", method, w.Code, w.Header().Get("Location"))
				}
				if !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") || w.Header().Get("Content-Security-Policy") != pageCSP {
					t.Errorf("%s: error page headers %v", method, w.Header())
				}
			}
		})
	}
}

func TestAuthorizeRefusesInvalidTenantIDs(t *testing.T) {
	f := newOAuthFixture(t)
	for _, tenant := range []string{"", "   ", "a b", "<script>", strings.Repeat("t", 129), "tenant/1"} {
		form := authParams(nil)
		form.Set("tenant_id", tenant)
		w := f.do(http.MethodPost, AuthorizePath, form)
		if w.Code != http.StatusBadRequest || w.Header().Get("Location") != "" {
			t.Errorf("tenant %q: %d Location %q, want 400 and no redirect", tenant, w.Code, w.Header().Get("Location"))
		}
		if strings.Contains(w.Body.String(), "<script>") {
			t.Errorf("tenant %q is echoed unescaped", tenant)
		}
	}
	// A UUID, as hooksentry tenant create makes, is fine.
	f.signIn(t, "7d8e9f0a-1b2c-4d3e-8f5a-6b7c8d9e0f1a", nil)
}

func TestAuthServerMethodsAndOrigin(t *testing.T) {
	f := newOAuthFixture(t)
	if w := f.do(http.MethodGet, TokenPath, nil); w.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET token: %d, want 405", w.Code)
	}
	if w := f.do(http.MethodDelete, AuthorizePath, nil); w.Code != http.StatusMethodNotAllowed {
		t.Errorf("DELETE authorize: %d, want 405", w.Code)
	}
	if f.server.AuthorizeURL() != testOrigin+"/oauth/authorize" || f.server.TokenURL() != testOrigin+"/oauth/token" || f.server.ClientID() != "hooksentry-console" {
		t.Errorf("endpoints %s %s %s", f.server.AuthorizeURL(), f.server.TokenURL(), f.server.ClientID())
	}
	for _, bad := range []string{"", "127.0.0.1:8080", "http://127.0.0.1:8080/x", "ftp://h"} {
		if _, err := NewAuthServer(f.issuer, bad, nil); err == nil {
			t.Errorf("NewAuthServer(%q) accepted", bad)
		}
	}
}

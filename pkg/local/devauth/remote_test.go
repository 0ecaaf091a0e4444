package devauth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// idpServer is a test identity provider's JWKS endpoint on 127.0.0.1 whose
// content and status can change between requests, counting fetches.
type idpServer struct {
	*httptest.Server
	mu      sync.Mutex
	body    []byte
	status  int
	fetches int
}

func newIDPServer(t *testing.T, body []byte) *idpServer {
	t.Helper()
	s := &idpServer{body: body, status: http.StatusOK}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.fetches++
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(s.status)
		w.Write(s.body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *idpServer) serve(status int, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status, s.body = status, body
}

func (s *idpServer) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fetches
}

// manualClock is a clock tests move by hand.
type manualClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *manualClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *manualClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// externalIdP is an issuer standing in for Cognito or Auth0: its own key,
// iss and aud, real time (the JWKS cache has its own clock in these tests).
func externalIdP(t *testing.T) *Issuer {
	t.Helper()
	idp, err := LoadOrCreateIssuer(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	idp.IssuerURL = "https://idp.example/tenant-pool"
	idp.Audience = "hooksentry-client"
	return idp
}

func TestCheckJWKSURL(t *testing.T) {
	for _, ok := range []string{"https://idp.example/.well-known/jwks.json", "http://127.0.0.1:8081/jwks", "http://[::1]:9/jwks", "http://127.0.0.2/jwks"} {
		if err := checkJWKSURL(ok); err != nil {
			t.Errorf("checkJWKSURL(%q) = %v, want nil", ok, err)
		}
	}
	// localhost is refused: only a loopback IP literal cannot resolve to
	// another machine.
	for _, bad := range []string{"", "idp.example/jwks", "http://idp.example/jwks", "http://localhost/jwks", "http://10.0.0.1/jwks", "ftp://idp.example/jwks", "https:///jwks"} {
		if err := checkJWKSURL(bad); err == nil {
			t.Errorf("checkJWKSURL(%q) = nil, want an error", bad)
		}
	}
}

func TestNewRemoteJWKSFailsFast(t *testing.T) {
	idp := externalIdP(t)
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	tests := []struct {
		name   string
		status int
		body   []byte
	}{
		{name: "not found", status: http.StatusNotFound, body: []byte(`{}`)},
		{name: "server error with keys", status: http.StatusInternalServerError, body: idp.JWKS()},
		{name: "not JSON", status: http.StatusOK, body: []byte("<html>")},
		{name: "no usable keys", status: http.StatusOK, body: []byte(`{"keys":[{"kty":"oct","kid":"k","k":"c2VjcmV0"}]}`)},
		{name: "too large", status: http.StatusOK, body: []byte(`{"keys":[],"pad":"` + strings.Repeat("x", MaxJWKSSize) + `"}`)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newIDPServer(t, tc.body)
			srv.serve(tc.status, tc.body)
			if _, err := NewRemoteJWKS(context.Background(), srv.URL+"/jwks", nil); err == nil || !strings.Contains(err.Error(), srv.URL) {
				t.Errorf("NewRemoteJWKS = %v, want an error naming the URL", err)
			}
		})
	}
	t.Run("unreachable", func(t *testing.T) {
		if _, err := NewRemoteJWKS(context.Background(), closed.URL+"/jwks", nil); err == nil {
			t.Error("NewRemoteJWKS of a closed server: nil error")
		}
	})
	t.Run("redirect to plain http elsewhere", func(t *testing.T) {
		srv := httptest.NewServer(http.RedirectHandler("http://idp.example/jwks", http.StatusFound))
		defer srv.Close()
		if _, err := NewRemoteJWKS(context.Background(), srv.URL, nil); err == nil {
			t.Error("NewRemoteJWKS followed a redirect to http://idp.example")
		}
	})
}

// TestRemoteValidator: tokens of the external issuer are accepted with the
// same claim checks as the local one's, and the local issuer's refused.
func TestRemoteValidator(t *testing.T) {
	idp := externalIdP(t)
	local := newTestIssuer(t)
	local.Now = time.Now
	srv := newIDPServer(t, idp.JWKS())
	jwks, err := NewRemoteJWKS(context.Background(), srv.URL+"/jwks", nil)
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewRemoteValidator(jwks, idp.IssuerURL, []string{"other", idp.Audience}, nil)
	if err != nil {
		t.Fatal(err)
	}
	good, err := idp.Mint("tenant-9", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	claims, err := v.Validate("Bearer " + good)
	if err != nil {
		t.Fatalf("token of the external issuer: %v", err)
	}
	if claims["tenant_id"] != "tenant-9" {
		t.Errorf("tenant_id = %q, want tenant-9", claims["tenant_id"])
	}

	wrongAud := *idp
	wrongAud.Audience = "someone-else"
	wrongIss := *idp
	wrongIss.IssuerURL = DefaultIssuer
	// The local issuer's key with the external iss and aud: the JWKS, not
	// the claims, must decide.
	localKeyExternalClaims := *local
	localKeyExternalClaims.IssuerURL, localKeyExternalClaims.Audience = idp.IssuerURL, idp.Audience
	expired := *idp
	expired.Now = func() time.Time { return time.Now().Add(-2 * time.Hour) }
	for _, tc := range []struct {
		name string
		iss  *Issuer
		want string
	}{
		{"wrong audience", &wrongAud, "the token does not have a valid audience"},
		{"wrong issuer", &wrongIss, "the token does not have a valid issuer"},
		{"local issuer", local, "the token kid does not match any signing key"},
		{"local key, external claims", &localKeyExternalClaims, "the token kid does not match any signing key"},
		{"expired", &expired, "the token has expired"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			token, err := tc.iss.Mint("tenant-9", time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			_, err = v.Validate("Bearer " + token)
			if !errors.Is(err, ErrUnauthorized) || err.Error() != "unauthorized: "+tc.want {
				t.Errorf("Validate = %v, want unauthorized: %s", err, tc.want)
			}
		})
	}
}

// TestRemoteJWKSRefetch: an unknown kid (key rotation at the IdP) causes
// one refetch, rate-limited; the cache expires after its TTL; a failed
// refetch keeps the known keys.
func TestRemoteJWKSRefetch(t *testing.T) {
	first, second := externalIdP(t), externalIdP(t)
	srv := newIDPServer(t, first.JWKS())
	clock := &manualClock{t: testNow}
	jwks, err := NewRemoteJWKS(context.Background(), srv.URL+"/jwks", clock.now)
	if err != nil {
		t.Fatal(err)
	}
	if n := srv.count(); n != 1 {
		t.Fatalf("start-up fetched %d times, want 1", n)
	}
	has := func(kid string) bool { _, ok := jwks.key(kid); return ok }
	step := func(name string, kid string, wantKnown bool, wantFetches int) {
		t.Helper()
		if got := has(kid); got != wantKnown {
			t.Errorf("%s: key known = %v, want %v", name, got, wantKnown)
		}
		if n := srv.count(); n != wantFetches {
			t.Errorf("%s: %d fetches in all, want %d", name, n, wantFetches)
		}
	}

	step("known kid", first.KeyID(), true, 1)
	clock.advance(time.Second)
	srv.serve(http.StatusOK, second.JWKS()) // the IdP rotates its key
	step("rotated kid", second.KeyID(), true, 2)
	step("rotated kid again", second.KeyID(), true, 2)
	// The old key is gone from the new JWKS, and the rotation's refetch was
	// just now: no new fetch.
	step("old kid within the rate limit", first.KeyID(), false, 2)
	step("unknown kid within the rate limit", "made-up", false, 2)
	clock.advance(JWKSMinRefetchInterval)
	step("unknown kid after the rate limit", "made-up", false, 3)

	// The last successful fetch was just now.
	clock.advance(JWKSCacheTTL - time.Nanosecond)
	step("before the TTL", second.KeyID(), true, 3)
	clock.advance(time.Nanosecond)
	step("after the TTL", second.KeyID(), true, 4)

	srv.serve(http.StatusServiceUnavailable, []byte(`{}`))
	clock.advance(JWKSCacheTTL)
	step("IdP down after the TTL", second.KeyID(), true, 5)
	step("IdP down, within the rate limit", second.KeyID(), true, 5)
	clock.advance(JWKSMinRefetchInterval)
	step("IdP down, after the rate limit", second.KeyID(), true, 6)
}

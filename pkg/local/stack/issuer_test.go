package stack

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hooksentry/hooksentry/pkg/app"
	"github.com/hooksentry/hooksentry/pkg/local/devauth"
)

func TestExternalIssuerFromSettings(t *testing.T) {
	tests := []struct {
		name     string
		settings map[string]string
		want     *ExternalIssuer
		wantErr  string // a variable the error must name
	}{
		{name: "unset", settings: map[string]string{}},
		{
			name: "complete",
			settings: map[string]string{
				"HOOKSENTRY_JWT_ISSUER": "https://idp.example/", "HOOKSENTRY_JWT_AUDIENCE": " a, b,,c ",
				"HOOKSENTRY_JWKS_URL": "https://idp.example/.well-known/jwks.json",
			},
			want: &ExternalIssuer{Issuer: "https://idp.example/", Audiences: []string{"a", "b", "c"}, JWKSURL: "https://idp.example/.well-known/jwks.json"},
		},
		{name: "no JWKS URL", settings: map[string]string{"HOOKSENTRY_JWT_ISSUER": "https://idp.example/", "HOOKSENTRY_JWT_AUDIENCE": "a"}, wantErr: "HOOKSENTRY_JWKS_URL"},
		{name: "no audience", settings: map[string]string{"HOOKSENTRY_JWT_ISSUER": "https://idp.example/", "HOOKSENTRY_JWKS_URL": "https://idp.example/jwks"}, wantErr: "HOOKSENTRY_JWT_AUDIENCE"},
		{name: "only commas", settings: map[string]string{"HOOKSENTRY_JWT_ISSUER": "https://idp.example/", "HOOKSENTRY_JWT_AUDIENCE": " , ", "HOOKSENTRY_JWKS_URL": "https://idp.example/jwks"}, wantErr: "HOOKSENTRY_JWT_AUDIENCE"},
		{name: "JWKS URL without issuer", settings: map[string]string{"HOOKSENTRY_JWKS_URL": "https://idp.example/jwks"}, wantErr: "HOOKSENTRY_JWT_ISSUER"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ExternalIssuerFromSettings(func(name string) string { return tc.settings[name] })
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want one naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (got == nil) != (tc.want == nil) || got != nil && (got.Issuer != tc.want.Issuer || got.JWKSURL != tc.want.JWKSURL || !slices.Equal(got.Audiences, tc.want.Audiences)) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestGatewayWithExternalIssuer: with HOOKSENTRY_JWT_ISSUER, the stack's
// handler accepts tokens signed by a key of that issuer's JWKS (here a
// second issuer served on 127.0.0.1) and refuses the local issuer's; a key
// rotation at the IdP is picked up by one refetch.
func TestGatewayWithExternalIssuer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	env := provisionedEnv(ctx, t, "external-issuer")

	newIssuer := func(issuerURL, audience string) *devauth.Issuer {
		iss, err := devauth.LoadOrCreateIssuer(t.TempDir()) // a fresh RSA key
		if err != nil {
			t.Fatal(err)
		}
		iss.IssuerURL, iss.Audience = issuerURL, audience
		return iss
	}
	local := newIssuer(devauth.DefaultIssuer, devauth.DefaultAudience)
	idp := newIssuer("https://idp.example/pool", "hooksentry-client")
	rotated := newIssuer(idp.IssuerURL, idp.Audience)

	var mu sync.Mutex
	jwks := idp.JWKS()
	var fetches atomic.Int32
	idpServer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		mu.Lock()
		defer mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write(jwks)
	}))
	defer idpServer.Close()

	ext, err := ExternalIssuerFromSettings(func(name string) string {
		return map[string]string{
			"HOOKSENTRY_JWT_ISSUER":   idp.IssuerURL,
			"HOOKSENTRY_JWT_AUDIENCE": "another-app," + idp.Audience,
			"HOOKSENTRY_JWKS_URL":     idpServer.URL + "/.well-known/jwks.json",
		}[name]
	})
	if err != nil {
		t.Fatal(err)
	}
	h, err := HandlerWith(ctx, env, local, ext, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	if n := fetches.Load(); n != 1 {
		t.Fatalf("start-up fetched the JWKS %d times, want 1", n)
	}

	mint := func(iss *devauth.Issuer) string {
		t.Helper()
		token, err := iss.Mint("unknown-tenant", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return "Bearer " + token
	}
	list := func(name, auth string, want int) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/destinations", nil)
		if err != nil {
			t.Fatal(err)
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		// An unknown tenant lists an empty page: 200 means the API answered.
		if resp.StatusCode != want {
			t.Errorf("%s: %d %s, want %d", name, resp.StatusCode, body, want)
		}
	}
	fetched := func(name string, want int32) {
		t.Helper()
		if n := fetches.Load(); n != want {
			t.Errorf("%s: %d JWKS fetches in all, want %d", name, n, want)
		}
	}

	list("external issuer's token", mint(idp), http.StatusOK)
	list("no token", "", http.StatusUnauthorized)
	// The IdP's key with the wrong aud: only the audience check can refuse it.
	wrongAud := *idp
	wrongAud.Audience = "someone-else"
	list("wrong audience", mint(&wrongAud), http.StatusUnauthorized)
	fetched("known kids", 1)

	// The IdP rotates its key: the new kid is unknown, one refetch finds it.
	mu.Lock()
	jwks = rotated.JWKS()
	mu.Unlock()
	list("token of the rotated key", mint(rotated), http.StatusOK)
	list("second token of the rotated key", mint(rotated), http.StatusOK)
	fetched("after the rotation", 2)

	// hooksentry token's tokens are refused (its kid is unknown to the
	// IdP; the refetch it may cause is rate-limited after the rotation's).
	list("local issuer's token", mint(local), http.StatusUnauthorized)
	fetched("after the local token", 2)
}

// TestHandlerWithUnusableJWKSFailsStartUp: a wrong JWKS URL stops start-up
// with a message naming HOOKSENTRY_JWKS_URL, rather than 401 for everyone.
func TestHandlerWithUnusableJWKSFailsStartUp(t *testing.T) {
	local, err := devauth.LoadOrCreateIssuer(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	notFound := httptest.NewServer(http.NotFoundHandler())
	defer notFound.Close()
	for _, url := range []string{notFound.URL + "/jwks", "http://idp.example/jwks"} {
		ext := &ExternalIssuer{Issuer: "https://idp.example/", Audiences: []string{"a"}, JWKSURL: url}
		if _, err := HandlerWith(context.Background(), &app.Env{}, local, ext, nil); err == nil || !strings.Contains(err.Error(), "HOOKSENTRY_JWKS_URL") {
			t.Errorf("JWKS %s: error %v, want one naming HOOKSENTRY_JWKS_URL", url, err)
		}
	}
}

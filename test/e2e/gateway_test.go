package e2e_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/hooksentry/hooksentry/pkg/destination"
	"github.com/hooksentry/hooksentry/pkg/local/devauth"
)

// httpDo sends a request to the local gateway. auth is the whole
// Authorization header ("" for none).
func httpDo(t *testing.T, method, path, auth, body string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, stack.URL+path, rd)
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
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if err := apiDoc.Check(req, []byte(body), resp.StatusCode, resp.Header, b); err != nil {
		t.Errorf("%s %s: %v", method, path, err)
	}
	return response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

func mint(t *testing.T, tenant string) string {
	t.Helper()
	token, err := stack.Issuer.Mint(tenant, time.Hour)
	if err != nil {
		t.Fatalf("Mint: %v", err)
	}
	return "Bearer " + token
}

func TestHealthz(t *testing.T) {
	r := httpDo(t, http.MethodGet, "/healthz", "", "")
	if r.Status != http.StatusOK {
		t.Fatalf("GET /healthz: got %v, want 200", r)
	}
	var body map[string]any
	if err := json.Unmarshal(r.Body, &body); err != nil || body["status"] != "ok" {
		t.Errorf("GET /healthz body: got %s, want {\"status\":\"ok\"}", r.Body)
	}
}

// TestWalkthrough is the README's curl session: create, list, get, patch,
// regenerate, delete, over HTTP with a real JWT.
func TestWalkthrough(t *testing.T) {
	ctx := context.Background()
	st := stack.Env.Store()
	tenant := newTenant(t)
	auth := mint(t, tenant)

	r := httpDo(t, "POST", "/api/v1/destinations", auth,
		`{"url":"https://my-server.com/webhook","serverRateLimit":5,"authType":"BearerToken","credentials":{"token":"my-secret-token"}}`)
	if r.Status != http.StatusCreated {
		t.Fatalf("create: got %v, want 201", r)
	}
	created := checkDestination(t, r.Body, true)
	id, firstToken := str(created["id"]), str(created["ingestToken"])
	if created["tenantId"] != tenant || created["authType"] != "BearerToken" || created["status"] != "Active" {
		t.Errorf("create: got %s", r.Body)
	}
	if strings.Contains(string(r.Body), "my-secret-token") {
		t.Errorf("create response contains the credentials: %s", r.Body)
	}

	r = httpDo(t, "GET", "/api/v1/destinations?Qt=10&Pg=1&CpOrd=id&TpOrd=Desc", auth, "")
	if r.Status != http.StatusOK {
		t.Fatalf("list: got %v, want 200", r)
	}
	if p := decodePage(t, r.Body); p.total != 1 || len(p.items) != 1 || p.items[0]["id"] != id {
		t.Errorf("list: got %s, want the one destination", r.Body)
	}

	r = httpDo(t, "GET", "/api/v1/destinations/"+id, auth, "")
	if r.Status != http.StatusOK {
		t.Fatalf("get: got %v, want 200", r)
	}
	checkDestination(t, r.Body, false)

	r = httpDo(t, "PATCH", "/api/v1/destinations/"+id, auth, `{"serverRateLimit":10,"status":"active"}`)
	if r.Status != http.StatusOK {
		t.Fatalf("patch: got %v, want 200", r)
	}
	if d := checkDestination(t, r.Body, false); num(t, d["serverRateLimit"]) != 10 || d["status"] != "Active" {
		t.Errorf("patch: got %s", r.Body)
	}

	r = httpDo(t, "PATCH", "/api/v1/destinations/"+id, auth, `{"status":"suspended"}`)
	wantProblem(t, r, http.StatusBadRequest)

	r = httpDo(t, "POST", "/api/v1/destinations/"+id+"/ingest-token", auth, "")
	if r.Status != http.StatusOK {
		t.Fatalf("regenerate: got %v, want 200", r)
	}
	var regen struct {
		IngestToken string `json:"ingestToken"`
	}
	if err := json.Unmarshal(r.Body, &regen); err != nil || !ingestTokenRE.MatchString(regen.IngestToken) {
		t.Fatalf("regenerate: got %s", r.Body)
	}
	if _, _, found, err := st.ResolveIngestToken(ctx, destination.HashIngestToken(firstToken)); err != nil || found {
		t.Errorf("old ingest token after regenerate: found %v (%v), want not found", found, err)
	}
	if destID, _, found, err := st.ResolveIngestToken(ctx, destination.HashIngestToken(regen.IngestToken)); err != nil || !found || destID != id {
		t.Errorf("new ingest token: got (%q, %v, %v), want (%s, true, nil)", destID, found, err, id)
	}

	// Another tenant's token sees 403; an unknown tenant's 404.
	other := newTenant(t)
	wantProblem(t, httpDo(t, "GET", "/api/v1/destinations/"+id, mint(t, other), ""), http.StatusForbidden)
	wantProblem(t, httpDo(t, "GET", "/api/v1/destinations/"+id, mint(t, "no-such-tenant"), ""), http.StatusNotFound)
	r = httpDo(t, "GET", "/api/v1/destinations", mint(t, "no-such-tenant"), "")
	if p := decodePage(t, r.Body); r.Status != http.StatusOK || p.total != 0 {
		t.Errorf("list for an unknown tenant: got %v, want 200 total 0", r)
	}

	r = httpDo(t, "DELETE", "/api/v1/destinations/"+id, auth, "")
	if r.Status != http.StatusNoContent || len(r.Body) != 0 {
		t.Errorf("delete: got %v, want 204 without a body", r)
	}
	wantProblem(t, httpDo(t, "GET", "/api/v1/destinations/"+id, auth, ""), http.StatusNotFound)
	wantProblem(t, httpDo(t, "GET", "/api/v1/destinations/not-a-uuid", auth, ""), http.StatusNotFound)
	if _, _, found, _ := st.ResolveIngestToken(ctx, destination.HashIngestToken(regen.IngestToken)); found {
		t.Errorf("ingest token of a deleted destination still resolves")
	}
}

// otherKey is an RSA key the gateway does not trust, made once.
var otherKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// issuerVariant loads the stack's signing key into a second Issuer whose
// fields can be changed without touching the stack's.
func issuerVariant(t *testing.T, change func(*devauth.Issuer)) string {
	t.Helper()
	iss, err := devauth.LoadOrCreateIssuer(stateDir)
	if err != nil {
		t.Fatal(err)
	}
	change(iss)
	token, err := iss.Mint("tenant-of-a-rejected-token", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return token
}

func signed(t *testing.T, method jwt.SigningMethod, key any, kid string) string {
	t.Helper()
	now := time.Now()
	tok := jwt.NewWithClaims(method, jwt.MapClaims{
		"iss": devauth.DefaultIssuer, "aud": devauth.DefaultAudience, "sub": "t", "tenant_id": "t",
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	})
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("sign %s: %v", method.Alg(), err)
	}
	return s
}

func TestJWTRejected(t *testing.T) {
	kid := stack.Issuer.KeyID()
	good := strings.TrimPrefix(mint(t, newTenant(t)), "Bearer ")
	parts := strings.Split(good, ".")
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		t.Fatal(err)
	}
	sig[len(sig)/2] ^= 0xff
	badSignature := parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(sig)
	pubPEM := func() []byte {
		der, err := x509.MarshalPKIXPublicKey(&otherKey().PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	}()
	// A claims-tampered token: the payload of another tenant under the
	// original signature.
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	payload = bytes.Replace(payload, []byte(`"tenant_id":"`), []byte(`"tenant_id":"x`), 1)
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString(payload) + "." + parts[2]

	for _, tc := range []struct {
		name string
		auth string
	}{
		{"no token", ""},
		{"empty bearer", "Bearer "},
		{"garbage", "Bearer abc.def.ghi"},
		{"not a JWT", "Bearer " + strings.Repeat("x", 40)},
		{"basic scheme", "Basic dXNlcjpwYXNz"},
		{"bad signature", "Bearer " + badSignature},
		{"tampered claims", "Bearer " + tampered},
		{"another key with the issuer's kid", "Bearer " + signed(t, jwt.SigningMethodRS256, otherKey(), kid)},
		{"another key with its own kid", "Bearer " + signed(t, jwt.SigningMethodRS256, otherKey(), "other-kid")},
		{"no kid", "Bearer " + signed(t, jwt.SigningMethodRS256, otherKey(), "")},
		{"expired", "Bearer " + issuerVariant(t, func(i *devauth.Issuer) { i.Now = func() time.Time { return time.Now().Add(-2 * time.Hour) } })},
		{"not yet valid", "Bearer " + issuerVariant(t, func(i *devauth.Issuer) { i.Now = func() time.Time { return time.Now().Add(time.Hour) } })},
		{"wrong audience", "Bearer " + issuerVariant(t, func(i *devauth.Issuer) { i.Audience = "someone-else" })},
		{"wrong issuer", "Bearer " + issuerVariant(t, func(i *devauth.Issuer) { i.IssuerURL = "https://evil.example" })},
		{"alg none", "Bearer " + signed(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, kid)},
		{"HS256 keyed with the public key", "Bearer " + signed(t, jwt.SigningMethodHS256, pubPEM, kid)},
		{"HS256 with a shared secret", "Bearer " + signed(t, jwt.SigningMethodHS256, []byte("secret"), kid)},
	} {
		for _, route := range []struct{ method, path, body string }{
			{"GET", "/api/v1/destinations", ""},
			{"POST", "/api/v1/destinations", `{"url":"https://example.com"}`},
			{"DELETE", "/api/v1/destinations/7d8e9f0a-1b2c-4d3e-8f5a-6b7c8d9e0f1a", ""},
		} {
			t.Run(tc.name+"/"+route.method, func(t *testing.T) {
				r := httpDo(t, route.method, route.path, tc.auth, route.body)
				if r.Status != http.StatusUnauthorized {
					t.Fatalf("got %v, want 401", r)
				}
				var body map[string]any
				if err := json.Unmarshal(r.Body, &body); err != nil || len(body) != 1 || body["message"] != "Unauthorized" {
					t.Errorf("body: got %s, want {\"message\":\"Unauthorized\"}", r.Body)
				}
				if wa := r.Header.Get("Www-Authenticate"); !strings.HasPrefix(wa, "Bearer") {
					t.Errorf("www-authenticate: got %q, want a Bearer challenge", wa)
				}
			})
		}
	}

	// Sanity: the variant issuer's unchanged tokens are accepted, so the
	// cases above fail for the reason they name.
	ok := issuerVariant(t, func(*devauth.Issuer) {})
	if r := httpDo(t, "GET", "/api/v1/destinations", "Bearer "+ok, ""); r.Status != http.StatusOK {
		t.Errorf("token of the unchanged variant issuer: got %v, want 200", r)
	}
}

// TestTokenWithoutTenantClaim: a valid JWT that names no tenant passes the
// authorizer but is refused by the function.
func TestTokenWithoutTenantClaim(t *testing.T) {
	token := issuerVariant(t, func(i *devauth.Issuer) { i.TenantClaim = "org_id" })
	r := httpDo(t, "GET", "/api/v1/destinations", "Bearer "+token, "")
	wantProblem(t, r, http.StatusUnauthorized)
}

func TestGatewayUnknownRoute(t *testing.T) {
	auth := mint(t, newTenant(t))
	for _, tc := range []struct{ method, path string }{
		{"GET", "/api/v1/destinations/"},
		{"PUT", "/api/v1/destinations/7d8e9f0a-1b2c-4d3e-8f5a-6b7c8d9e0f1a"},
		{"GET", "/api/v2/destinations"},
	} {
		if r := httpDo(t, tc.method, tc.path, auth, ""); r.Status != http.StatusNotFound {
			t.Errorf("%s %s: got %v, want 404", tc.method, tc.path, r)
		}
	}
}

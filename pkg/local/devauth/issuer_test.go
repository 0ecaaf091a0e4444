package devauth

import (
	"crypto/rsa"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

var testNow = time.Date(2030, time.January, 2, 3, 4, 5, 0, time.UTC)

func fixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }

// newTestIssuer returns an issuer with a fresh key in its own state dir and
// a fixed clock.
func newTestIssuer(t *testing.T) *Issuer {
	t.Helper()
	iss, err := LoadOrCreateIssuer(t.TempDir())
	if err != nil {
		t.Fatalf("LoadOrCreateIssuer: %v", err)
	}
	iss.Now = fixedClock(testNow)
	return iss
}

func newTestValidator(t *testing.T, iss *Issuer, audiences ...string) *Validator {
	t.Helper()
	if len(audiences) == 0 {
		audiences = []string{DefaultAudience}
	}
	v, err := NewValidator(iss.JWKS(), DefaultIssuer, audiences, fixedClock(testNow))
	if err != nil {
		t.Fatalf("NewValidator: %v", err)
	}
	return v
}

func TestLoadOrCreateIssuerReusesKey(t *testing.T) {
	dir := t.TempDir()
	first, err := LoadOrCreateIssuer(dir)
	if err != nil {
		t.Fatalf("first LoadOrCreateIssuer: %v", err)
	}
	second, err := LoadOrCreateIssuer(dir)
	if err != nil {
		t.Fatalf("second LoadOrCreateIssuer: %v", err)
	}
	if got, want := second.KeyID(), first.KeyID(); got != want {
		t.Errorf("second kid = %q, want %q", got, want)
	}

	first.Now = fixedClock(testNow)
	token, err := first.Mint("tenant-1", time.Hour)
	if err != nil {
		t.Fatalf("Mint: %v", err)
	}
	if _, err := newTestValidator(t, second).Validate("Bearer " + token); err != nil {
		t.Errorf("token from first issuer rejected with second issuer's JWKS: %v", err)
	}

	for _, tc := range []struct {
		path string
		want os.FileMode
	}{
		{filepath.Join(dir, "jwt"), 0o700},
		{filepath.Join(dir, "jwt", "signing-key.pem"), 0o600},
	} {
		info, err := os.Stat(tc.path)
		if err != nil {
			t.Fatalf("stat: %v", err)
		}
		if got := info.Mode().Perm(); got != tc.want {
			t.Errorf("%s mode = %o, want %o", tc.path, got, tc.want)
		}
	}
	entries, err := os.ReadDir(filepath.Join(dir, "jwt"))
	if err != nil {
		t.Fatalf("ReadDir: %v", err)
	}
	if got, want := len(entries), 1; got != want {
		t.Errorf("key dir has %d entries, want %d (temp file left behind?)", got, want)
	}
}

func TestLoadOrCreateIssuerConcurrentStartsAgree(t *testing.T) {
	dir := t.TempDir()
	kids := make([]string, 2)
	var wg sync.WaitGroup
	for n := range kids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			iss, err := LoadOrCreateIssuer(dir)
			if err != nil {
				t.Errorf("LoadOrCreateIssuer: %v", err)
				return
			}
			kids[n] = iss.KeyID()
		}()
	}
	wg.Wait()
	if kids[0] != kids[1] {
		t.Errorf("concurrent starts got different kids %q and %q", kids[0], kids[1])
	}
}

func TestLoadOrCreateIssuerRejectsCorruptKey(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "jwt"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "jwt", "signing-key.pem"), []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateIssuer(dir); err == nil {
		t.Error("LoadOrCreateIssuer with corrupt key file: got nil error, want error")
	}
}

func TestMintRejectsBadInput(t *testing.T) {
	iss := newTestIssuer(t)
	tests := []struct {
		name        string
		tenant      string
		ttl         time.Duration
		tenantClaim string
	}{
		{name: "empty tenant", tenant: "", ttl: time.Hour},
		{name: "zero ttl", tenant: "t", ttl: 0},
		{name: "sub-second ttl", tenant: "t", ttl: 500 * time.Millisecond},
		{name: "tenant claim clashes with exp", tenant: "t", ttl: time.Hour, tenantClaim: "exp"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			iss.TenantClaim = tc.tenantClaim
			if _, err := iss.Mint(tc.tenant, tc.ttl); err == nil {
				t.Error("Mint: got nil error, want error")
			}
		})
	}
}

// TestThumbprintRFC7638 checks the kid derivation against the example in
// RFC 7638 section 3.1.
func TestThumbprintRFC7638(t *testing.T) {
	n, err := jwkBigInt("0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw")
	if err != nil {
		t.Fatal(err)
	}
	got := thumbprint(&rsa.PublicKey{N: n, E: 65537})
	want := "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
	if got != want {
		t.Errorf("thumbprint = %q, want %q", got, want)
	}
}

func jwkBigInt(s string) (*big.Int, error) {
	k, err := rsaPublicKey(jwk{N: s, E: "AQAB"})
	if err != nil {
		return nil, err
	}
	return k.N, nil
}

func TestJWKSAndHandler(t *testing.T) {
	iss := newTestIssuer(t)

	var set struct {
		Keys []map[string]string `json:"keys"`
	}
	if err := json.Unmarshal(iss.JWKS(), &set); err != nil {
		t.Fatalf("JWKS is not valid JSON: %v", err)
	}
	if got, want := len(set.Keys), 1; got != want {
		t.Fatalf("JWKS has %d keys, want %d", got, want)
	}
	key := set.Keys[0]
	for field, want := range map[string]string{"kty": "RSA", "kid": iss.KeyID(), "use": "sig", "alg": "RS256", "e": "AQAB"} {
		if got := key[field]; got != want {
			t.Errorf("JWKS %s = %q, want %q", field, got, want)
		}
	}
	if key["n"] == "" {
		t.Error("JWKS n is empty")
	}

	rec := httptest.NewRecorder()
	iss.JWKSHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/.well-known/jwks.json", nil))
	if got, want := rec.Code, http.StatusOK; got != want {
		t.Errorf("status = %d, want %d", got, want)
	}
	if got, want := rec.Header().Get("Content-Type"), "application/json"; got != want {
		t.Errorf("Content-Type = %q, want %q", got, want)
	}
	if got, want := rec.Body.String(), string(iss.JWKS()); got != want {
		t.Errorf("body = %s, want %s", got, want)
	}
}

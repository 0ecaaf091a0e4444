package devauth

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// validClaims returns a claim set the test validator accepts; cases change
// one thing at a time.
func validClaims(change func(jwt.MapClaims)) jwt.MapClaims {
	c := jwt.MapClaims{
		"iss":       DefaultIssuer,
		"aud":       DefaultAudience,
		"sub":       "tenant-1",
		"tenant_id": "tenant-1",
		"iat":       testNow.Unix(),
		"nbf":       testNow.Unix(),
		"exp":       testNow.Add(time.Hour).Unix(),
	}
	if change != nil {
		change(c)
	}
	return c
}

func mustSign(t *testing.T, iss *Issuer, claims jwt.MapClaims) string {
	t.Helper()
	token, err := iss.sign(claims)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return token
}

// signWith signs claims with an arbitrary method and key, for algorithm
// confusion cases the Issuer would never produce.
func signWith(t *testing.T, method jwt.SigningMethod, key any, kid string, claims jwt.MapClaims) string {
	t.Helper()
	token := jwt.NewWithClaims(method, claims)
	token.Header["kid"] = kid
	signed, err := token.SignedString(key)
	if err != nil {
		t.Fatalf("sign %s: %v", method.Alg(), err)
	}
	return signed
}

// handBuilt assembles a token from raw parts, for shapes no library emits.
func handBuilt(t *testing.T, header map[string]any, claims jwt.MapClaims, signature []byte) string {
	t.Helper()
	enc := func(v any) string {
		data, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		return base64.RawURLEncoding.EncodeToString(data)
	}
	return enc(header) + "." + enc(claims) + "." + base64.RawURLEncoding.EncodeToString(signature)
}

func flipSignatureByte(t *testing.T, token string) string {
	t.Helper()
	cut := strings.LastIndex(token, ".")
	sig, err := base64.RawURLEncoding.DecodeString(token[cut+1:])
	if err != nil {
		t.Fatalf("decode signature: %v", err)
	}
	sig[len(sig)/2] ^= 0x01
	return token[:cut+1] + base64.RawURLEncoding.EncodeToString(sig)
}

func TestValidateRejects(t *testing.T) {
	iss := newTestIssuer(t)
	v := newTestValidator(t, iss)
	kid := iss.KeyID()

	otherKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	impostor := newIssuer(otherKey)
	impostor.kid = kid // same kid, different key

	pubDER, err := x509.MarshalPKIXPublicKey(&iss.key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	randomSecret := make([]byte, 32)
	rand.Read(randomSecret)

	valid := mustSign(t, iss, validClaims(nil))
	noneHeader := map[string]any{"alg": "none", "typ": "JWT", "kid": kid}

	tests := []struct {
		name   string
		header string
		want   string // reason after "unauthorized: "
	}{
		{name: "no header", header: "", want: "missing token"},
		{name: "scheme only", header: "Bearer", want: "missing token"},
		{name: "empty token", header: "Bearer   ", want: "missing token"},
		{name: "wrong scheme", header: "Basic " + valid, want: "the authorization header is not a bearer token"},
		{name: "garbage", header: "Bearer not-a-jwt", want: "the token is malformed"},
		{name: "garbage three segments", header: "Bearer a.b.c", want: "the token is malformed"},
		{name: "bad signature", header: "Bearer " + flipSignatureByte(t, valid), want: "the token signature is invalid"},
		{name: "other key same kid", header: "Bearer " + mustSign(t, impostor, validClaims(nil)), want: "the token signature is invalid"},
		{
			name:   "expired",
			header: "Bearer " + mustSign(t, iss, validClaims(func(c jwt.MapClaims) { c["exp"] = testNow.Add(-time.Second).Unix() })),
			want:   "the token has expired",
		},
		{
			name:   "expires this second",
			header: "Bearer " + mustSign(t, iss, validClaims(func(c jwt.MapClaims) { c["exp"] = testNow.Unix() })),
			want:   "the token has expired",
		},
		{
			name:   "nbf in future",
			header: "Bearer " + mustSign(t, iss, validClaims(func(c jwt.MapClaims) { c["nbf"] = testNow.Add(time.Second).Unix() })),
			want:   "the token is not valid yet",
		},
		{
			name:   "iat in future",
			header: "Bearer " + mustSign(t, iss, validClaims(func(c jwt.MapClaims) { c["iat"] = testNow.Add(time.Second).Unix() })),
			want:   "the token was issued in the future",
		},
		{
			name:   "missing exp",
			header: "Bearer " + mustSign(t, iss, validClaims(func(c jwt.MapClaims) { delete(c, "exp") })),
			want:   "the token has no expiration time",
		},
		{
			name:   "exp not a number",
			header: "Bearer " + mustSign(t, iss, validClaims(func(c jwt.MapClaims) { c["exp"] = "tomorrow" })),
			want:   "the token has invalid claims",
		},
		{
			name:   "wrong iss",
			header: "Bearer " + mustSign(t, iss, validClaims(func(c jwt.MapClaims) { c["iss"] = DefaultIssuer + "/" })),
			want:   "the token does not have a valid issuer",
		},
		{
			name:   "missing iss",
			header: "Bearer " + mustSign(t, iss, validClaims(func(c jwt.MapClaims) { delete(c, "iss") })),
			want:   "the token does not have a valid issuer",
		},
		{
			name:   "wrong aud",
			header: "Bearer " + mustSign(t, iss, validClaims(func(c jwt.MapClaims) { c["aud"] = "someone-else" })),
			want:   "the token does not have a valid audience",
		},
		{
			name:   "aud array without match",
			header: "Bearer " + mustSign(t, iss, validClaims(func(c jwt.MapClaims) { c["aud"] = []string{"a", "b"} })),
			want:   "the token does not have a valid audience",
		},
		{
			name: "wrong aud with matching client_id",
			header: "Bearer " + mustSign(t, iss, validClaims(func(c jwt.MapClaims) {
				c["aud"] = "someone-else"
				c["client_id"] = DefaultAudience // AWS only looks at client_id when aud is absent
			})),
			want: "the token does not have a valid audience",
		},
		{
			name:   "no aud and wrong client_id",
			header: "Bearer " + mustSign(t, iss, validClaims(func(c jwt.MapClaims) { delete(c, "aud"); c["client_id"] = "x" })),
			want:   "the token does not have a valid audience",
		},
		{
			name:   "no aud and no client_id",
			header: "Bearer " + mustSign(t, iss, validClaims(func(c jwt.MapClaims) { delete(c, "aud") })),
			want:   "the token does not have a valid audience",
		},
		{
			name:   "alg none",
			header: "Bearer " + handBuilt(t, noneHeader, validClaims(nil), nil),
			want:   "the token signing algorithm is not supported",
		},
		{
			name:   "alg none with signature of a valid token",
			header: "Bearer " + handBuilt(t, noneHeader, validClaims(nil), []byte("x")),
			want:   "the token signing algorithm is not supported",
		},
		{
			name:   "alg None",
			header: "Bearer " + handBuilt(t, map[string]any{"alg": "None", "kid": kid}, validClaims(nil), nil),
			want:   "the token signing algorithm is not supported",
		},
		{
			name:   "HS256 keyed with public key PEM",
			header: "Bearer " + signWith(t, jwt.SigningMethodHS256, pubPEM, kid, validClaims(nil)),
			want:   "the token signing algorithm is not supported",
		},
		{
			name:   "HS256 keyed with public key DER",
			header: "Bearer " + signWith(t, jwt.SigningMethodHS256, pubDER, kid, validClaims(nil)),
			want:   "the token signing algorithm is not supported",
		},
		{
			name:   "HS256 random secret",
			header: "Bearer " + signWith(t, jwt.SigningMethodHS256, randomSecret, kid, validClaims(nil)),
			want:   "the token signing algorithm is not supported",
		},
		{
			name:   "RS512 with the right key",
			header: "Bearer " + signWith(t, jwt.SigningMethodRS512, iss.key, kid, validClaims(nil)),
			want:   "the token signing algorithm is not supported",
		},
		{
			name:   "PS256 with the right key",
			header: "Bearer " + signWith(t, jwt.SigningMethodPS256, iss.key, kid, validClaims(nil)),
			want:   "the token signing algorithm is not supported",
		},
		{
			name:   "unknown kid",
			header: "Bearer " + signWith(t, jwt.SigningMethodRS256, iss.key, "unknown", validClaims(nil)),
			want:   "the token kid does not match any signing key",
		},
		{
			name:   "missing kid",
			header: "Bearer " + handBuiltRS256NoKid(t, iss),
			want:   "the token has no kid",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			claims, err := v.Validate(tc.header)
			if !errors.Is(err, ErrUnauthorized) {
				t.Fatalf("Validate error = %v, want one wrapping ErrUnauthorized", err)
			}
			if claims != nil {
				t.Errorf("Validate claims = %v, want nil", claims)
			}
			if got, want := err.Error(), "unauthorized: "+tc.want; got != want {
				t.Errorf("Validate error = %q, want %q", got, want)
			}
			if token := strings.TrimSpace(strings.TrimPrefix(tc.header, "Bearer")); len(token) > 8 && strings.Contains(err.Error(), token) {
				t.Errorf("error %q contains the token", err)
			}
		})
	}
}

func handBuiltRS256NoKid(t *testing.T, iss *Issuer) string {
	t.Helper()
	token := jwt.NewWithClaims(jwt.SigningMethodRS256, validClaims(nil))
	signed, err := token.SignedString(iss.key)
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

func TestValidateAccepts(t *testing.T) {
	iss := newTestIssuer(t)
	v := newTestValidator(t, iss, "another-audience", DefaultAudience)
	minted, err := iss.Mint("tenant-42", time.Hour)
	if err != nil {
		t.Fatalf("Mint: %v", err)
	}

	custom := newIssuer(iss.key)
	custom.Now = fixedClock(testNow)
	custom.TenantClaim = "custom:tenant"
	customToken, err := custom.Mint("tenant-7", time.Hour)
	if err != nil {
		t.Fatalf("Mint: %v", err)
	}

	tests := []struct {
		name   string
		header string
		want   map[string]string // subset of the returned claims
	}{
		{
			name:   "minted token",
			header: "Bearer " + minted,
			want:   map[string]string{"tenant_id": "tenant-42", "sub": "tenant-42", "iss": DefaultIssuer, "aud": DefaultAudience},
		},
		{
			name:   "configurable tenant claim",
			header: "Bearer " + customToken,
			want:   map[string]string{"custom:tenant": "tenant-7", "sub": "tenant-7"},
		},
		{name: "lower-case scheme", header: "bearer " + minted, want: map[string]string{"sub": "tenant-42"}},
		{name: "bare token", header: minted, want: map[string]string{"sub": "tenant-42"}},
		{
			name:   "expires next second",
			header: "Bearer " + mustSign(t, iss, validClaims(func(c jwt.MapClaims) { c["exp"] = testNow.Add(time.Second).Unix() })),
			want:   map[string]string{"sub": "tenant-1"},
		},
		{
			name:   "no iat and no nbf",
			header: "Bearer " + mustSign(t, iss, validClaims(func(c jwt.MapClaims) { delete(c, "iat"); delete(c, "nbf") })),
			want:   map[string]string{"sub": "tenant-1"},
		},
		{
			name:   "aud array with second configured audience",
			header: "Bearer " + mustSign(t, iss, validClaims(func(c jwt.MapClaims) { c["aud"] = []string{"x", "another-audience"} })),
			want:   map[string]string{"aud": "[x another-audience]"},
		},
		{
			name:   "client_id when aud is absent",
			header: "Bearer " + mustSign(t, iss, validClaims(func(c jwt.MapClaims) { delete(c, "aud"); c["client_id"] = DefaultAudience })),
			want:   map[string]string{"client_id": DefaultAudience},
		},
		{
			name: "non-string claims are stringified",
			header: "Bearer " + mustSign(t, iss, validClaims(func(c jwt.MapClaims) {
				c["groups"] = []string{"admin", "dev"}
				c["admin"] = true
				c["scope"] = "hooks:read hooks:write"
			})),
			want: map[string]string{
				"exp":    fmt.Sprint(testNow.Add(time.Hour).Unix()),
				"iat":    fmt.Sprint(testNow.Unix()),
				"groups": "[admin dev]",
				"admin":  "true",
				"scope":  "hooks:read hooks:write",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			claims, err := v.Validate(tc.header)
			if err != nil {
				t.Fatalf("Validate: %v", err)
			}
			for name, want := range tc.want {
				if got := claims[name]; got != want {
					t.Errorf("claims[%q] = %q, want %q", name, got, want)
				}
			}
		})
	}
}

func TestNewValidatorRejectsBadConfig(t *testing.T) {
	iss := newTestIssuer(t)
	tests := []struct {
		name      string
		jwks      string
		issuer    string
		audiences []string
	}{
		{name: "not JSON", jwks: "nope", issuer: DefaultIssuer, audiences: []string{DefaultAudience}},
		{name: "no keys", jwks: `{"keys":[]}`, issuer: DefaultIssuer, audiences: []string{DefaultAudience}},
		{name: "only an HS256 key", jwks: `{"keys":[{"kty":"oct","kid":"k","k":"c2VjcmV0"}]}`, issuer: DefaultIssuer, audiences: []string{DefaultAudience}},
		{name: "only an encryption key", jwks: strings.Replace(string(iss.JWKS()), `"use":"sig"`, `"use":"enc"`, 1), issuer: DefaultIssuer, audiences: []string{DefaultAudience}},
		{name: "empty issuer", jwks: string(iss.JWKS()), issuer: "", audiences: []string{DefaultAudience}},
		{name: "no audiences", jwks: string(iss.JWKS()), issuer: DefaultIssuer, audiences: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewValidator([]byte(tc.jwks), tc.issuer, tc.audiences, fixedClock(testNow)); err == nil {
				t.Error("NewValidator: got nil error, want error")
			}
		})
	}
}

func TestClaimString(t *testing.T) {
	tests := []struct {
		json string
		want string
	}{
		{json: `"abc"`, want: "abc"},
		{json: `1700000000`, want: "1700000000"},
		{json: `1.7e9`, want: "1700000000"},
		{json: `1.5`, want: "1.5"},
		{json: `true`, want: "true"},
		{json: `null`, want: "<nil>"},
		{json: `["a","b"]`, want: "[a b]"},
		{json: `["a",1,["b"]]`, want: "[a 1 [b]]"},
		{json: `{"z":"1","a":2}`, want: "map[a:2 z:1]"},
	}
	for _, tc := range tests {
		t.Run(tc.json, func(t *testing.T) {
			dec := json.NewDecoder(strings.NewReader(tc.json))
			dec.UseNumber()
			var value any
			if err := dec.Decode(&value); err != nil {
				t.Fatal(err)
			}
			if got := claimString(value); got != tc.want {
				t.Errorf("claimString(%s) = %q, want %q", tc.json, got, tc.want)
			}
		})
	}
}

func TestScopes(t *testing.T) {
	tests := []struct {
		name   string
		claims map[string]string
		want   []string
	}{
		{name: "none", claims: map[string]string{}, want: []string{}},
		{name: "scope", claims: map[string]string{"scope": "a b  c"}, want: []string{"a", "b", "c"}},
		{name: "scp string", claims: map[string]string{"scp": "a b"}, want: []string{"a", "b"}},
		{name: "scp array", claims: map[string]string{"scp": "[a b]"}, want: []string{"a", "b"}},
		{name: "scope wins over scp", claims: map[string]string{"scope": "a", "scp": "b"}, want: []string{"a"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Scopes(tc.claims); !slices.Equal(got, tc.want) {
				t.Errorf("Scopes(%v) = %q, want %q", tc.claims, got, tc.want)
			}
		})
	}
}

func TestWWWAuthenticate(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{name: "missing token", err: &authError{description: "missing token", missingToken: true}, want: "Bearer"},
		{
			name: "bad audience",
			err:  fmt.Errorf("gateway: %w", unauthorized("the token does not have a valid audience")),
			want: `Bearer scope="" error="invalid_token" error_description="the token does not have a valid audience"`,
		},
		{name: "foreign error", err: errors.New("boom"), want: `Bearer scope="" error="invalid_token" error_description="the token is invalid"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := WWWAuthenticate(tc.err); got != tc.want {
				t.Errorf("WWWAuthenticate = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestValidateReturnsAllClaims guards against the claims map silently
// dropping claims the handlers may rely on.
func TestValidateReturnsAllClaims(t *testing.T) {
	iss := newTestIssuer(t)
	token, err := iss.Mint("tenant-1", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	claims, err := newTestValidator(t, iss).Validate("Bearer " + token)
	if err != nil {
		t.Fatalf("Validate: %v", err)
	}
	got := slices.Sorted(maps.Keys(claims))
	want := []string{"aud", "exp", "iat", "iss", "jti", "nbf", "sub", "tenant_id"}
	if !slices.Equal(got, want) {
		t.Errorf("claim names = %q, want %q", got, want)
	}
}

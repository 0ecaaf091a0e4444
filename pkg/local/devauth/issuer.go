package devauth

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const (
	// DefaultIssuer is the iss claim of locally minted tokens.
	DefaultIssuer = "https://auth.hooksentry.local"
	// DefaultAudience is the aud claim of locally minted tokens.
	DefaultAudience = "hooksentry-local"
	// DefaultTenantClaim is the claim that carries the tenant id.
	DefaultTenantClaim = "tenant_id"

	// keyBits matches what hosted identity providers issue; API Gateway
	// only supports RSA keys.
	keyBits     = 2048
	keyDirName  = "jwt"
	keyFileName = "signing-key.pem"
)

// Issuer is the local stand-in for the identity provider. Its exported fields
// may be changed after LoadOrCreateIssuer and before use; they are not safe
// to change concurrently with Mint.
type Issuer struct {
	IssuerURL   string           // iss claim; DefaultIssuer by default
	Audience    string           // aud claim; DefaultAudience by default
	TenantClaim string           // tenant id claim name; DefaultTenantClaim by default
	Now         func() time.Time // clock for iat/nbf/exp; time.Now by default

	key *rsa.PrivateKey
	kid string
}

// LoadOrCreateIssuer returns the issuer whose signing key is stored in
// <stateDir>/jwt/signing-key.pem, generating the key on first use. Reusing
// the key keeps previously minted tokens valid across restarts.
func LoadOrCreateIssuer(stateDir string) (*Issuer, error) {
	dir := filepath.Join(stateDir, keyDirName)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("devauth: create key dir: %w", err)
	}
	path := filepath.Join(dir, keyFileName)
	key, err := readKey(path)
	if errors.Is(err, fs.ErrNotExist) {
		key, err = createKey(dir, path)
	}
	if err != nil {
		return nil, err
	}
	return newIssuer(key), nil
}

func newIssuer(key *rsa.PrivateKey) *Issuer {
	return &Issuer{
		IssuerURL:   DefaultIssuer,
		Audience:    DefaultAudience,
		TenantClaim: DefaultTenantClaim,
		Now:         time.Now,
		key:         key,
		kid:         thumbprint(&key.PublicKey),
	}
}

func readKey(path string) (*rsa.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err // keep fs.ErrNotExist visible to the caller
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("devauth: %s: no PEM block", path)
	}
	if block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("devauth: %s: PEM type %q, want PKCS#8 \"PRIVATE KEY\"", path, block.Type)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("devauth: %s: %w", path, err)
	}
	key, ok := parsed.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("devauth: %s: not an RSA key", path)
	}
	if key.N.BitLen() < keyBits {
		return nil, fmt.Errorf("devauth: %s: RSA key has %d bits, want at least %d", path, key.N.BitLen(), keyBits)
	}
	return key, nil
}

// createKey writes a new key to a temporary file and hard-links it into
// place. Unlike rename, link fails if the file already exists, so two
// processes starting at once cannot overwrite each other's key, and nobody
// ever reads a half-written file. The loser reads the winner's key.
func createKey(dir, path string) (*rsa.PrivateKey, error) {
	key, err := rsa.GenerateKey(rand.Reader, keyBits)
	if err != nil {
		return nil, fmt.Errorf("devauth: generate key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("devauth: marshal key: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".signing-key-*.tmp") // created with mode 0600
	if err != nil {
		return nil, fmt.Errorf("devauth: write key: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	if err == nil {
		err = tmp.Sync()
	}
	if closeErr := tmp.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		return nil, fmt.Errorf("devauth: write key: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return readKey(path)
		}
		return nil, fmt.Errorf("devauth: write key: %w", err)
	}
	return key, nil
}

// KeyID returns the kid of the signing key: its RFC 7638 JWK thumbprint, so
// the same key always gets the same kid without storing it separately.
func (i *Issuer) KeyID() string { return i.kid }

// reservedClaims are set by Mint itself; a tenant claim with one of these
// names would silently overwrite them.
var reservedClaims = map[string]bool{"iss": true, "aud": true, "iat": true, "nbf": true, "exp": true, "jti": true}

// Mint returns an RS256 token for tenantID that expires after ttl.
func (i *Issuer) Mint(tenantID string, ttl time.Duration) (string, error) {
	if tenantID == "" {
		return "", errors.New("devauth: mint: empty tenant id")
	}
	// JWT times are whole seconds; a shorter ttl would mint an expired token.
	if ttl < time.Second {
		return "", fmt.Errorf("devauth: mint: ttl must be at least 1s, got %s", ttl)
	}
	tenantClaim := i.TenantClaim
	if tenantClaim == "" {
		tenantClaim = DefaultTenantClaim
	}
	if reservedClaims[tenantClaim] {
		return "", fmt.Errorf("devauth: mint: tenant claim %q clashes with a registered claim", tenantClaim)
	}
	now := time.Now
	if i.Now != nil {
		now = i.Now
	}
	issuedAt := now().Unix()
	return i.sign(jwt.MapClaims{
		"iss":       i.IssuerURL,
		"aud":       i.Audience,
		"sub":       tenantID,
		tenantClaim: tenantID,
		"iat":       issuedAt,
		"nbf":       issuedAt,
		"exp":       issuedAt + int64(ttl/time.Second),
		"jti":       rand.Text(),
	})
}

// sign is separate from Mint so tests can sign arbitrary claim sets.
func (i *Issuer) sign(claims jwt.MapClaims) (string, error) {
	token := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	token.Header["kid"] = i.kid
	signed, err := token.SignedString(i.key)
	if err != nil {
		return "", fmt.Errorf("devauth: sign: %w", err)
	}
	return signed, nil
}

// JWKS returns the JSON Web Key Set containing the issuer's public key.
func (i *Issuer) JWKS() []byte {
	k := publicJWK(&i.key.PublicKey)
	k.Kid = i.kid
	k.Use = "sig"
	k.Alg = "RS256"
	data, err := json.Marshal(jwkSet{Keys: []jwk{k}})
	if err != nil {
		panic("devauth: marshal JWKS: " + err.Error()) // only strings; cannot fail
	}
	return data
}

// JWKSHandler serves JWKS, typically at /.well-known/jwks.json.
func (i *Issuer) JWKSHandler() http.Handler {
	body := i.JWKS()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})
}

func publicJWK(pub *rsa.PublicKey) jwk {
	return jwk{
		Kty: "RSA",
		N:   base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		E:   base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}
}

// thumbprint computes the RFC 7638 JWK thumbprint: SHA-256 over the required
// members in lexicographic order without whitespace. base64url values need no
// JSON escaping, so Sprintf produces the canonical form.
func thumbprint(pub *rsa.PublicKey) string {
	k := publicJWK(pub)
	canonical := fmt.Sprintf(`{"e":%q,"kty":"RSA","n":%q}`, k.E, k.N)
	sum := sha256.Sum256([]byte(canonical))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

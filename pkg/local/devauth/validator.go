package devauth

import (
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// ClockSkew is the leeway applied to exp, nbf and iat. API Gateway documents
// none ("exp must be after the current time"), so neither do we: a token that
// works locally must not fail in AWS because of a tolerance it lacks there.
const ClockSkew = 0 * time.Second

// Validator checks bearer tokens like the API Gateway HTTP API JWT
// authorizer configured with one issuer and a list of audiences.
//
// Deliberate choices where AWS leaves room:
//   - Only RS256 is accepted, even though API Gateway accepts any RSA
//     algorithm: the local issuer only mints RS256, and alg confusion
//     (none, HS256 keyed with the public key) must never get through.
//   - A token without a kid is rejected even if the JWKS has one key,
//     because AWS requires the kid header to match a JWKS key.
//   - The header may be "Bearer <token>" (scheme case-insensitive) or the
//     bare token, since AWS lets the identity source be either. Any other
//     scheme is rejected.
type Validator struct {
	issuer    string
	audiences []string
	now       func() time.Time
	keys      keySource
}

// keySource finds the verification key of a kid: a fixed JWKS (the local
// issuer's) or one fetched from an identity provider (RemoteJWKS).
type keySource interface {
	key(kid string) (*rsa.PublicKey, bool)
}

// staticKeys is a JWKS that never changes, by kid.
type staticKeys map[string]*rsa.PublicKey

func (k staticKeys) key(kid string) (*rsa.PublicKey, bool) {
	pub, ok := k[kid]
	return pub, ok
}

// NewValidator builds a Validator from a JWKS document. Keys that cannot
// verify RS256 signatures (non-RSA, encryption keys, other algs, no kid) are
// skipped; at least one usable key is required. now defaults to time.Now.
func NewValidator(jwks []byte, issuer string, audiences []string, now func() time.Time) (*Validator, error) {
	keys, err := parseJWKS(jwks)
	if err != nil {
		return nil, err
	}
	return newValidator(staticKeys(keys), issuer, audiences, now)
}

func newValidator(keys keySource, issuer string, audiences []string, now func() time.Time) (*Validator, error) {
	if issuer == "" {
		return nil, errors.New("devauth: validator: empty issuer")
	}
	if len(audiences) == 0 {
		return nil, errors.New("devauth: validator: no audiences")
	}
	if now == nil {
		now = time.Now
	}
	return &Validator{issuer: issuer, audiences: slices.Clone(audiences), now: now, keys: keys}, nil
}

// parseJWKS returns the RS256 signature keys of a JWKS document by kid.
// Keys that cannot verify RS256 signatures (non-RSA, encryption keys, other
// algs, no kid) are skipped; at least one usable key is required.
func parseJWKS(jwks []byte) (map[string]*rsa.PublicKey, error) {
	var set jwkSet
	if err := json.Unmarshal(jwks, &set); err != nil {
		return nil, fmt.Errorf("devauth: validator: parse JWKS: %w", err)
	}
	keys := make(map[string]*rsa.PublicKey)
	for _, k := range set.Keys {
		if k.Kty != "RSA" || k.Kid == "" || (k.Use != "" && k.Use != "sig") || (k.Alg != "" && k.Alg != "RS256") {
			continue
		}
		if _, dup := keys[k.Kid]; dup {
			return nil, fmt.Errorf("devauth: validator: duplicate kid %q in JWKS", k.Kid)
		}
		pub, err := rsaPublicKey(k)
		if err != nil {
			return nil, fmt.Errorf("devauth: validator: key %q: %w", k.Kid, err)
		}
		keys[k.Kid] = pub
	}
	if len(keys) == 0 {
		return nil, errors.New("devauth: validator: JWKS has no usable RS256 keys")
	}
	return keys, nil
}

func rsaPublicKey(k jwk) (*rsa.PublicKey, error) {
	n, err := base64.RawURLEncoding.DecodeString(k.N)
	if err != nil || len(n) == 0 {
		return nil, errors.New("bad modulus")
	}
	e, err := base64.RawURLEncoding.DecodeString(k.E)
	if err != nil || len(e) == 0 || len(e) > 4 {
		return nil, errors.New("bad exponent")
	}
	exponent := new(big.Int).SetBytes(e).Int64()
	if exponent < 3 || exponent%2 == 0 {
		return nil, errors.New("bad exponent")
	}
	return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(exponent)}, nil
}

// Validate authenticates the value of an Authorization header and returns
// the token's claims in the shape API Gateway passes to integrations. Every
// error wraps ErrUnauthorized and never contains the token.
func (v *Validator) Validate(authorizationHeader string) (claims map[string]string, err error) {
	raw, err := bearerToken(authorizationHeader)
	if err != nil {
		return nil, err
	}
	// Signature is verified before any claim is looked at; the parser only
	// checks time claims, iss/aud/exp presence are checked below so that each
	// failure gets its own reason.
	parser := jwt.NewParser(
		jwt.WithJSONNumber(),
		jwt.WithTimeFunc(v.now),
		jwt.WithLeeway(ClockSkew),
		jwt.WithIssuedAt(),
	)
	parsed := jwt.MapClaims{}
	if _, err := parser.ParseWithClaims(raw, parsed, v.keyFor); err != nil {
		return nil, classify(err)
	}
	if _, ok := parsed["exp"]; !ok {
		return nil, unauthorized("the token has no expiration time")
	}
	if iss, ok := parsed["iss"].(string); !ok || iss != v.issuer {
		return nil, unauthorized("the token does not have a valid issuer")
	}
	if !v.audienceOK(parsed) {
		return nil, unauthorized("the token does not have a valid audience")
	}
	claims = make(map[string]string, len(parsed))
	for name, value := range parsed {
		claims[name] = claimString(value)
	}
	return claims, nil
}

func bearerToken(header string) (string, error) {
	header = strings.TrimSpace(header)
	if header == "" || strings.EqualFold(header, "Bearer") {
		return "", &authError{description: "missing token", missingToken: true}
	}
	scheme, rest, hasSpace := strings.Cut(header, " ")
	if !hasSpace {
		return header, nil // bare token, accepted by API Gateway too
	}
	if !strings.EqualFold(scheme, "Bearer") {
		return "", unauthorized("the authorization header is not a bearer token")
	}
	token := strings.TrimSpace(rest)
	if token == "" {
		return "", &authError{description: "missing token", missingToken: true}
	}
	return token, nil
}

// keyFor is the jwt.Keyfunc. It is the algorithm gate: returning an
// *rsa.PublicKey only for RS256 means "none" and HMAC tokens (including HMAC
// keyed with the public key) can never be verified.
func (v *Validator) keyFor(t *jwt.Token) (any, error) {
	if t.Method.Alg() != jwt.SigningMethodRS256.Alg() {
		return nil, unauthorized("the token signing algorithm is not supported")
	}
	kid, _ := t.Header["kid"].(string)
	if kid == "" {
		return nil, unauthorized("the token has no kid")
	}
	key, ok := v.keys.key(kid)
	if !ok {
		return nil, unauthorized("the token kid does not match any signing key")
	}
	return key, nil
}

// classify turns a jwt library error into a fixed, loggable reason. The
// library's own messages are dropped because some (JSON decode errors) can
// echo fragments of the token.
func classify(err error) error {
	var ae *authError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.Is(err, jwt.ErrTokenMalformed):
		return unauthorized("the token is malformed")
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return unauthorized("the token signing algorithm is not supported")
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return unauthorized("the token signature is invalid")
	case errors.Is(err, jwt.ErrTokenExpired):
		return unauthorized("the token has expired")
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return unauthorized("the token is not valid yet")
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return unauthorized("the token was issued in the future")
	default:
		return unauthorized("the token has invalid claims")
	}
}

// audienceOK follows AWS: aud must contain a configured audience; client_id
// is consulted only when aud is absent.
func (v *Validator) audienceOK(claims jwt.MapClaims) bool {
	if _, hasAud := claims["aud"]; hasAud {
		aud, err := claims.GetAudience()
		if err != nil {
			return false
		}
		return slices.ContainsFunc(aud, func(a string) bool { return slices.Contains(v.audiences, a) })
	}
	clientID, ok := claims["client_id"].(string)
	return ok && slices.Contains(v.audiences, clientID)
}

// claimString renders a claim value the way API Gateway does in
// requestContext.authorizer.jwt.claims: strings as-is, numbers in plain
// decimal, arrays as "[a b]". Objects and null are rendered by fmt
// ("map[k:v]", "<nil>"); that is a best guess consistent with the array form.
func claimString(value any) string {
	switch v := value.(type) {
	case string:
		return v
	case json.Number:
		s := v.String()
		if !strings.ContainsAny(s, ".eE") {
			return s
		}
		f, err := v.Float64()
		if err != nil {
			return s
		}
		return strconv.FormatFloat(f, 'f', -1, 64)
	case []any:
		parts := make([]string, len(v))
		for i, item := range v {
			parts[i] = claimString(item)
		}
		return "[" + strings.Join(parts, " ") + "]"
	default: // bool, null, object ("map[k:v]", keys sorted)
		return fmt.Sprint(v)
	}
}

// Scopes returns the token's scopes from validated claims: the "scope"
// claim, or else "scp", split on spaces. An array claim arrives rendered as
// "[a b]", so the brackets are dropped. API Gateway checks these against a
// route's authorizationScopes.
func Scopes(claims map[string]string) []string {
	value, ok := claims["scope"]
	if !ok {
		value = claims["scp"]
	}
	if strings.HasPrefix(value, "[") && strings.HasSuffix(value, "]") {
		value = value[1 : len(value)-1]
	}
	return strings.Fields(value)
}

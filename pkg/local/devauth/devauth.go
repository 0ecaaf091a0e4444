// Package devauth owns bearer-token authentication for running HookSentry
// locally (no Lambda function links it; in AWS the API Gateway JWT authorizer
// does this): a file-backed RS256 issuer that mints tenant tokens and publishes
// its JWKS, and a Validator that accepts or rejects tokens the way the API
// Gateway HTTP API JWT authorizer in front of /api/v1/* does in AWS.
//
// The point of the Validator is parity, not a general-purpose JWT library: a
// request that API Gateway would reject must be rejected locally too, and the
// claims handed to handlers must look like requestContext.authorizer.jwt.claims
// (map[string]string with stringified values).
package devauth

import "errors"

// ErrUnauthorized is wrapped by every error Validate returns, so callers can
// map all authentication failures to a single 401 response.
var ErrUnauthorized = errors.New("unauthorized")

// WWWAuthenticateMissingToken is the WWW-Authenticate value for a request that
// carries no token at all.
const WWWAuthenticateMissingToken = "Bearer"

// authError is the concrete error behind ErrUnauthorized. description is
// always a constant of this package (never token content, no quotes), so it
// is safe to log and to put in the WWW-Authenticate quoted-string as is.
type authError struct {
	description  string
	missingToken bool
}

func (e *authError) Error() string { return "unauthorized: " + e.description }

func (e *authError) Unwrap() error { return ErrUnauthorized }

func unauthorized(description string) error {
	return &authError{description: description}
}

// WWWAuthenticate returns the WWW-Authenticate header value API Gateway sends
// with a 401 for the given Validate error. For an invalid token AWS documents
// the form
//
//	Bearer scope="" error="invalid_token" error_description="the token does not have a valid audience"
//
// (see "Troubleshooting issues with HTTP API JWT authorizers"); only that
// audience description is quoted verbatim from AWS, the others follow its
// style.
func WWWAuthenticate(err error) string {
	description := "the token is invalid"
	var ae *authError
	if errors.As(err, &ae) {
		if ae.missingToken {
			return WWWAuthenticateMissingToken
		}
		description = ae.description
	}
	return `Bearer scope="" error="invalid_token" error_description="` + description + `"`
}

// jwk is the subset of RFC 7517 JSON Web Key fields needed for RSA
// signature keys.
type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid,omitempty"`
	Use string `json:"use,omitempty"`
	Alg string `json:"alg,omitempty"`
	N   string `json:"n"`
	E   string `json:"e"`
}

type jwkSet struct {
	Keys []jwk `json:"keys"`
}

package stack

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hooksentry/hooksentry/pkg/local/devauth"
)

// ExternalIssuer is an identity provider (Cognito, Auth0, ...) whose tokens
// the local gateway accepts instead of the local issuer's, as the API
// Gateway JWT authorizer does when deployed. These are local stack settings:
// in AWS the authorizer is configured in template.yaml, so pkg/config
// (which Lambda uses) does not read them.
type ExternalIssuer struct {
	Issuer    string   // HOOKSENTRY_JWT_ISSUER: the tokens' iss, exactly
	Audiences []string // HOOKSENTRY_JWT_AUDIENCE: comma-separated; a token's aud (or client_id) must be one
	JWKSURL   string   // HOOKSENTRY_JWKS_URL: https, or http to a loopback address
}

// ExternalIssuerFromSettings reads the external issuer settings with get;
// it returns nil when HOOKSENTRY_JWT_ISSUER is unset (the local issuer's
// tokens are accepted). With an issuer, the JWKS URL and at least one
// audience are required, as they are for an API Gateway JWT authorizer.
func ExternalIssuerFromSettings(get func(string) string) (*ExternalIssuer, error) {
	issuer := strings.TrimSpace(get("HOOKSENTRY_JWT_ISSUER"))
	if issuer == "" {
		for _, name := range []string{"HOOKSENTRY_JWT_AUDIENCE", "HOOKSENTRY_JWKS_URL"} {
			if strings.TrimSpace(get(name)) != "" {
				// Silently validating local tokens instead would look like
				// the external issuer works.
				return nil, fmt.Errorf("%s is set but HOOKSENTRY_JWT_ISSUER is not", name)
			}
		}
		return nil, nil
	}
	ext := &ExternalIssuer{Issuer: issuer, JWKSURL: strings.TrimSpace(get("HOOKSENTRY_JWKS_URL"))}
	for _, aud := range strings.Split(get("HOOKSENTRY_JWT_AUDIENCE"), ",") {
		if aud = strings.TrimSpace(aud); aud != "" {
			ext.Audiences = append(ext.Audiences, aud)
		}
	}
	if ext.JWKSURL == "" {
		return nil, errors.New("HOOKSENTRY_JWKS_URL is required when HOOKSENTRY_JWT_ISSUER is set")
	}
	if len(ext.Audiences) == 0 {
		return nil, errors.New("HOOKSENTRY_JWT_AUDIENCE is required when HOOKSENTRY_JWT_ISSUER is set (a comma-separated list of audiences or client ids)")
	}
	return ext, nil
}

// authorizer validates tokens of ext, or of the local issuer when ext is
// nil. ext's JWKS is fetched here, so that a wrong URL fails start-up.
func authorizer(ctx context.Context, issuer *devauth.Issuer, ext *ExternalIssuer) (*devauth.Validator, error) {
	if ext == nil {
		return devauth.NewValidator(issuer.JWKS(), issuer.IssuerURL, []string{issuer.Audience}, time.Now)
	}
	jwks, err := devauth.NewRemoteJWKS(ctx, ext.JWKSURL, time.Now)
	if err != nil {
		return nil, fmt.Errorf("HOOKSENTRY_JWKS_URL: %w", err)
	}
	return devauth.NewRemoteValidator(jwks, ext.Issuer, ext.Audiences, time.Now)
}

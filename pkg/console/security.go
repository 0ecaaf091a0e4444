package console

import (
	"slices"
	"strings"
)

// securityHeaders are set on every response of the console, errors
// included. The policy allows the console's own scripts, styles and images
// only (no inline code, no third-party origin), network requests to its own
// origin (the API) and to the identity provider's token endpoint, and form
// submissions to the provider's sign-in; it forbids framing (no
// clickjacking of Delete or Replay) and <base> tricks.
func securityHeaders(s Settings) map[string]string {
	return map[string]string{
		"Content-Security-Policy": csp(s),
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "no-referrer",
	}
}

// csp builds the Content-Security-Policy from the origins of the configured
// authorization and token endpoints.
func csp(s Settings) string {
	var issuer []string
	if s.Configured() {
		for _, u := range []string{s.AuthorizeURL, s.TokenURL} {
			if o := origin(u); o != "" && !slices.Contains(issuer, o) {
				issuer = append(issuer, o)
			}
		}
	}
	with := func(directive string) string {
		return strings.Join(append([]string{directive, "'self'"}, issuer...), " ")
	}
	return strings.Join([]string{
		"default-src 'none'",
		"script-src 'self'",
		"style-src 'self'",
		"img-src 'self' data:",
		with("connect-src"),
		with("form-action"),
		"frame-ancestors 'none'",
		"base-uri 'none'",
	}, "; ")
}

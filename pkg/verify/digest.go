package verify

import (
	"crypto/hmac"
	"net/http"
	"strings"
)

// GitHub and Shopify are fixed instances of the generic scheme: an HMAC of
// the raw body alone, carried in one header, with no timestamp.
var (
	// GitHub "Validating webhook deliveries": sha256=<hex>.
	githubConfig = Config{Scheme: Hmac, Header: "X-Hub-Signature-256", Algorithm: "sha256", Encoding: encHex, Prefix: "sha256="}
	// Shopify "Verify a webhook": standard base64 of the digest.
	shopifyConfig = Config{Scheme: Hmac, Header: "X-Shopify-Hmac-Sha256", Algorithm: "sha256", Encoding: encBase64}
)

// verifyDigest checks a body-only HMAC as described by a normalized Hmac
// Config. The expected digest is computed once, however many header values
// are tried.
func verifyDigest(key []byte, h http.Header, body []byte, cfg Config) *Failure {
	newHash := algorithms[cfg.Algorithm]
	if newHash == nil {
		return fail("The destination's verification settings are not usable.")
	}
	size := newHash().Size()
	var want []byte
	return eachValue(h, cfg.Header, func(v string) *Failure {
		encoded, ok := strings.CutPrefix(v, cfg.Prefix)
		if !ok {
			return fail("The %s header does not start with %q.", cfg.Header, cfg.Prefix)
		}
		got, ok := decodeDigest(encoded, cfg.Encoding, size)
		if !ok {
			return fail("The %s header is not a %s %s digest.", cfg.Header, cfg.Encoding, cfg.Algorithm)
		}
		if want == nil {
			want = mac(newHash, key, body)
		}
		if !hmac.Equal(got, want) {
			return mismatch(cfg.Header)
		}
		return nil
	})
}

package verify

import (
	"crypto/hmac"
	"crypto/sha256"
	"net/http"
	"strings"
	"time"
)

const stripeHeader = "Stripe-Signature"

// verifyStripe follows Stripe's "Verify webhook signatures manually": the
// header is comma-separated k=v pairs with one t (unix seconds) and one or
// more v1 signatures, each the lowercase hex HMAC-SHA256 of "{t}.{body}"
// keyed with the whole secret string. v0 (test-mode legacy) and unknown keys
// are ignored, as Stripe's libraries do.
func verifyStripe(key []byte, h http.Header, body []byte, now time.Time, tolerance time.Duration) *Failure {
	return eachValue(h, stripeHeader, func(v string) *Failure {
		ts, sawV1 := "", false
		for pair := range strings.SplitSeq(v, ",") {
			k, val, _ := strings.Cut(strings.TrimSpace(pair), "=")
			switch k {
			case "t":
				// Two timestamps would make it ambiguous which one was signed.
				if ts != "" {
					return malformed(stripeHeader)
				}
				ts = val
			case "v1":
				sawV1 = true
			}
		}
		if ts == "" {
			return fail("The %s header has no timestamp.", stripeHeader)
		}
		if !sawV1 {
			return fail("The %s header has no v1 signature.", stripeHeader)
		}
		if f := checkTimestamp(stripeHeader+" timestamp", ts, now, tolerance); f != nil {
			return f
		}
		want := mac(sha256.New, key, []byte(ts), []byte("."), body)
		for pair := range strings.SplitSeq(v, ",") {
			k, val, _ := strings.Cut(strings.TrimSpace(pair), "=")
			if k != "v1" {
				continue
			}
			if got, ok := decodeDigest(val, encHex, sha256.Size); ok && hmac.Equal(got, want) {
				return nil
			}
		}
		return mismatch(stripeHeader)
	})
}

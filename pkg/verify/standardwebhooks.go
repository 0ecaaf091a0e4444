package verify

import (
	"crypto/hmac"
	"crypto/sha256"
	"net/http"
	"strings"
	"time"
)

// headerFamily is one spelling of the Standard Webhooks headers. Svix, which
// the specification grew out of, sends the same values under svix-*.
type headerFamily struct{ id, timestamp, signature string }

var (
	webhookFamily = headerFamily{"webhook-id", "webhook-timestamp", "webhook-signature"}
	svixFamily    = headerFamily{"svix-id", "svix-timestamp", "svix-signature"}
)

// verifyStandard follows the Standard Webhooks specification: the signed
// content is "{id}.{timestamp}.{body}", HMAC-SHA256 with the decoded key,
// and the signature header is a space-separated list of "v1,<base64>"
// entries of which any may match. All three headers come from one family,
// chosen by whether webhook-id is present, so a request cannot mix an id
// from one with a signature from the other.
func verifyStandard(key []byte, h http.Header, body []byte, now time.Time, tolerance time.Duration) *Failure {
	fam := webhookFamily
	if len(h.Values(webhookFamily.id)) == 0 && len(h.Values(svixFamily.id)) > 0 {
		fam = svixFamily
	}
	id, f := firstValue(h, fam.id)
	if f != nil {
		return f
	}
	ts, f := firstValue(h, fam.timestamp)
	if f != nil {
		return f
	}
	if len(h.Values(fam.signature)) == 0 {
		return missingHeader(fam.signature)
	}
	if f := checkTimestamp(fam.timestamp+" header", ts, now, tolerance); f != nil {
		return f
	}
	want := mac(sha256.New, key, []byte(id), []byte("."), []byte(ts), []byte("."), body)
	return eachValue(h, fam.signature, func(v string) *Failure {
		sawV1 := false
		for entry := range strings.SplitSeq(v, " ") {
			version, encoded, ok := strings.Cut(entry, ",")
			// Other versions (e.g. v1a, asymmetric) are not ours to check.
			if !ok || version != "v1" {
				continue
			}
			sawV1 = true
			if got, ok := decodeDigest(encoded, encBase64, sha256.Size); ok && hmac.Equal(got, want) {
				return nil
			}
		}
		if !sawV1 {
			return fail("The %s header has no v1 signature.", fam.signature)
		}
		return mismatch(fam.signature)
	})
}

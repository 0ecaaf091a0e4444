package verify

import (
	"crypto/hmac"
	"crypto/sha256"
	"net/http"
	"strings"
	"time"
)

const (
	slackSignature = "X-Slack-Signature"
	slackTimestamp = "X-Slack-Request-Timestamp"
)

// verifySlack follows "Verifying requests from Slack": the signature is
// "v0=" and the hex HMAC-SHA256 of the basestring "v0:{timestamp}:{body}",
// and the timestamp header must be within tolerance.
func verifySlack(key []byte, h http.Header, body []byte, now time.Time, tolerance time.Duration) *Failure {
	ts, f := firstValue(h, slackTimestamp)
	if f != nil {
		return f
	}
	// Check the signature header exists before judging the timestamp, so a
	// request that is not signed at all is reported as such.
	if len(h.Values(slackSignature)) == 0 {
		return missingHeader(slackSignature)
	}
	if f := checkTimestamp(slackTimestamp+" header", ts, now, tolerance); f != nil {
		return f
	}
	var want []byte
	return eachValue(h, slackSignature, func(v string) *Failure {
		encoded, ok := strings.CutPrefix(v, "v0=")
		if !ok {
			return fail(`The %s header does not start with "v0=".`, slackSignature)
		}
		got, ok := decodeDigest(encoded, encHex, sha256.Size)
		if !ok {
			return malformed(slackSignature)
		}
		if want == nil {
			want = mac(sha256.New, key, []byte("v0:"), []byte(ts), []byte(":"), body)
		}
		if !hmac.Equal(got, want) {
			return mismatch(slackSignature)
		}
		return nil
	})
}

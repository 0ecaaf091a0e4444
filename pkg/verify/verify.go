package verify

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"net/http"
	"strconv"
	"time"
)

// DefaultTolerance is the allowed skew of timestamped schemes (CONTRACT: 5 minutes).
const DefaultTolerance = 5 * time.Minute

// Limits on attacker-controlled input. A real signature header is well under
// a kilobyte; anything longer is refused rather than parsed, and only the
// first few repeated header values are looked at, so the work per request is
// bounded whatever the sender does.
const (
	maxHeaderValue = 8 << 10
	maxValues      = 8
)

const (
	encHex    = "hex"
	encBase64 = "base64"
)

var algorithms = map[string]func() hash.Hash{
	"sha256": sha256.New,
	"sha1":   sha1.New,
	"sha512": sha512.New,
}

// Verify checks the request headers and raw body against key (from Key) at
// time now. It returns nil when the signature verifies and a *Failure
// otherwise, including for settings that cannot verify anything (an unknown
// scheme, bad Hmac fields, an empty key): the gateway must fail closed.
// tolerance <= 0 means DefaultTolerance.
func Verify(cfg Config, key []byte, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	if err := cfg.Validate(); err != nil {
		return fail("The destination's verification settings are not usable.")
	}
	if len(key) == 0 {
		return fail("The destination has no usable verification secret.")
	}
	cfg = cfg.Normalized()
	var f *Failure
	switch cfg.Scheme {
	case Stripe:
		f = verifyStripe(key, h, body, now, tolerance)
	case GitHub:
		f = verifyDigest(key, h, body, githubConfig)
	case Shopify:
		f = verifyDigest(key, h, body, shopifyConfig)
	case Slack:
		f = verifySlack(key, h, body, now, tolerance)
	case StandardWebhooks:
		f = verifyStandard(key, h, body, now, tolerance)
	case Hmac:
		f = verifyDigest(key, h, body, cfg)
	default:
		f = fail("The destination's verification scheme is not supported.")
	}
	// Return a plain nil, not a nil *Failure inside a non-nil error.
	if f != nil {
		return f
	}
	return nil
}

// eachValue runs check on the values of header name (at most maxValues of
// them) and succeeds as soon as one verifies. A sender may repeat a header,
// e.g. during secret rotation. When none verifies, the first value's failure
// is reported; an absent or empty header is reported as missing.
func eachValue(h http.Header, name string, check func(v string) *Failure) *Failure {
	var first *Failure
	for i, v := range h.Values(name) {
		if i == maxValues {
			break
		}
		var f *Failure
		switch {
		case v == "":
			continue
		case len(v) > maxHeaderValue:
			f = headerTooLong(name)
		default:
			f = check(v)
		}
		if f == nil {
			return nil
		}
		if first == nil {
			first = f
		}
	}
	if first == nil {
		return missingHeader(name)
	}
	return first
}

// firstValue returns the first non-empty value of header name, for headers
// such as timestamps and message ids that cannot sensibly be repeated.
func firstValue(h http.Header, name string) (string, *Failure) {
	for _, v := range h.Values(name) {
		if v == "" {
			continue
		}
		if len(v) > maxHeaderValue {
			return "", headerTooLong(name)
		}
		return v, nil
	}
	return "", missingHeader(name)
}

// parseUnix parses unix seconds as plain decimal digits. Signs, spaces and
// more than 18 digits are refused, which also keeps time.Unix far from
// overflow.
func parseUnix(s string) (int64, bool) {
	if s == "" || len(s) > 18 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// checkTimestamp parses ts and refuses it when it is more than tolerance
// away from now in either direction: stale requests may be replays, and
// requests from the future would stay replayable for longer.
func checkTimestamp(subject, ts string, now time.Time, tolerance time.Duration) *Failure {
	sec, ok := parseUnix(ts)
	if !ok {
		return badTimestamp(subject)
	}
	d := now.Sub(time.Unix(sec, 0))
	if d > tolerance || d < -tolerance {
		return outsideTolerance(subject, tolerance)
	}
	return nil
}

// decodeDigest decodes an encoded digest of exactly size bytes. The length
// is checked before decoding so nothing proportional to the input is
// allocated. Hex is case-insensitive; base64 is standard, padded or not.
func decodeDigest(s, encoding string, size int) ([]byte, bool) {
	switch encoding {
	case encHex:
		if len(s) != hex.EncodedLen(size) {
			return nil, false
		}
		b, err := hex.DecodeString(s)
		return b, err == nil
	case encBase64:
		var enc *base64.Encoding
		switch len(s) {
		case base64.StdEncoding.EncodedLen(size):
			enc = base64.StdEncoding.Strict()
		case base64.RawStdEncoding.EncodedLen(size):
			enc = base64.RawStdEncoding.Strict()
		default:
			return nil, false
		}
		b, err := enc.DecodeString(s)
		return b, err == nil && len(b) == size
	}
	return nil, false
}

// mac computes the HMAC of the concatenated parts without building the
// concatenation, so the body is never copied.
func mac(newHash func() hash.Hash, key []byte, parts ...[]byte) []byte {
	m := hmac.New(newHash, key)
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

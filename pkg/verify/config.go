package verify

import (
	"fmt"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// Config is a destination's verification settings without the secret.
type Config struct {
	Scheme    Scheme
	Header    string // Hmac only: the header carrying the signature
	Algorithm string // Hmac only: "sha256" (default when empty), "sha1", "sha512"
	Encoding  string // Hmac only: "hex" (default when empty), "base64"
	Prefix    string // Hmac only: text before the encoded digest, e.g. "sha256="; may be empty
}

// maxPrefix bounds the Hmac prefix; real providers use a few bytes ("sha256=").
const maxPrefix = 64

// FieldError says which Config field is unusable. The request decoder maps
// Field onto its own JSON field path, so Message is phrased to follow the
// field name ("algorithm must be one of ...").
type FieldError struct {
	Field   string // "scheme", "header", "algorithm", "encoding" or "prefix"
	Message string
}

func (e *FieldError) Error() string { return e.Field + " " + e.Message }

// Validate reports the first unusable field as a *FieldError, or nil.
// Only Hmac has fields of its own; for the named provider schemes the
// Hmac-only fields are ignored (Normalized clears them).
func (c Config) Validate() error {
	sc, ok := ParseScheme(string(c.Scheme))
	if !ok {
		return &FieldError{Field: "scheme", Message: "must be one of " + schemeList()}
	}
	if sc != Hmac {
		return nil
	}
	if c.Header == "" {
		return &FieldError{Field: "header", Message: "is required for Hmac"}
	}
	if !httpguts.ValidHeaderFieldName(c.Header) {
		return &FieldError{Field: "header", Message: "must be an HTTP header name"}
	}
	if c.Algorithm != "" {
		if _, ok := algorithms[strings.ToLower(c.Algorithm)]; !ok {
			return &FieldError{Field: "algorithm", Message: "must be one of sha256, sha1, sha512"}
		}
	}
	if c.Encoding != "" {
		switch strings.ToLower(c.Encoding) {
		case encHex, encBase64:
		default:
			return &FieldError{Field: "encoding", Message: "must be one of hex, base64"}
		}
	}
	if len(c.Prefix) > maxPrefix {
		return &FieldError{Field: "prefix", Message: fmt.Sprintf("must be at most %d bytes", maxPrefix)}
	}
	for i := 0; i < len(c.Prefix); i++ {
		if b := c.Prefix[i]; b < 0x20 || b == 0x7f {
			return &FieldError{Field: "prefix", Message: "must not contain control characters"}
		}
	}
	return nil
}

// Normalized returns c in the form that is stored and compared: the scheme
// in its canonical spelling, Hmac defaults filled in and algorithm/encoding
// lower-cased, and the Hmac-only fields cleared for every other scheme so a
// stale header setting cannot linger on a Stripe destination.
func (c Config) Normalized() Config {
	if sc, ok := ParseScheme(string(c.Scheme)); ok {
		c.Scheme = sc
	}
	if c.Scheme != Hmac {
		return Config{Scheme: c.Scheme}
	}
	c.Algorithm = strings.ToLower(c.Algorithm)
	if c.Algorithm == "" {
		c.Algorithm = "sha256"
	}
	c.Encoding = strings.ToLower(c.Encoding)
	if c.Encoding == "" {
		c.Encoding = encHex
	}
	return c
}

func schemeList() string {
	names := make([]string, 0, 6)
	for _, sc := range Schemes() {
		names = append(names, string(sc))
	}
	return strings.Join(names, ", ")
}

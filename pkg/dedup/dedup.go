// Package dedup owns a destination's deduplication rule (CONTRACT §2): which
// part of an ingest request is its key, how long a key is remembered, and
// the fingerprint under which a key value is stored. It knows nothing about
// storage: pkg/ingest claims fingerprints through a port.
package dedup

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"golang.org/x/net/http/httpguts"
)

// Window bounds of CONTRACT §1.
const (
	MinWindow     = time.Second
	MaxWindow     = 24 * time.Hour
	DefaultWindow = time.Hour
)

// maxKeySpec bounds the key specification, and so the work of a body path.
const maxKeySpec = 256

// Source is where a key's value is read.
type Source string

const (
	Header Source = "header"
	Body   Source = "body"
)

// Key says where an ingest request's deduplication key is: a header, or a
// member of a JSON body reached by a dot path.
type Key struct {
	Source Source
	Name   string   // Header: the header name
	Path   []string // Body: the members, outermost first
}

// ParseKey reads "header:<Header-Name>" or "body:<dot.path>". The error is
// a sentence for a field error.
func ParseKey(spec string) (Key, error) {
	if len(spec) > maxKeySpec {
		return Key{}, fmt.Errorf("must be at most %d characters", maxKeySpec)
	}
	source, rest, ok := strings.Cut(spec, ":")
	switch {
	case ok && strings.EqualFold(source, string(Header)):
		if len(rest) > maxKeySpec || !httpguts.ValidHeaderFieldName(rest) {
			return Key{}, fmt.Errorf("must name an HTTP header after header:, such as header:Idempotency-Key")
		}
		return Key{Source: Header, Name: http.CanonicalHeaderKey(rest)}, nil
	case ok && strings.EqualFold(source, string(Body)):
		path := strings.Split(rest, ".")
		for _, p := range path {
			if p == "" || strings.ContainsFunc(p, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
				return Key{}, fmt.Errorf("must give a dot path of JSON member names after body:, such as body:data.id")
			}
		}
		return Key{Source: Body, Path: path}, nil
	default:
		return Key{}, fmt.Errorf("must be header:<Header-Name> or body:<dot.path>")
	}
}

// String is the key as the API writes it.
func (k Key) String() string {
	if k.Source == Header {
		return "header:" + k.Name
	}
	return "body:" + strings.Join(k.Path, ".")
}

// Value returns the key's value in a request, and false when the request
// has none (the header is missing or empty, the body is not JSON, the path
// is absent or null): such a request is accepted normally. A body member's
// value is its compact JSON text, so the string "7" and the number 7 are
// different keys; a repeated header's values are joined as HTTP would.
func (k Key) Value(h http.Header, body []byte) (string, bool) {
	if k.Source == Header {
		v := strings.Join(h.Values(k.Name), ", ")
		return v, v != ""
	}
	return bodyValue(body, k.Path)
}

func bodyValue(body []byte, path []string) (string, bool) {
	raw := json.RawMessage(body)
	for _, name := range path {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(raw, &obj); err != nil {
			return "", false
		}
		next, ok := obj[name]
		if !ok {
			return "", false
		}
		raw = next
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, raw); err != nil || compact.String() == "null" {
		return "", false
	}
	return compact.String(), true
}

// Fingerprint is what is stored for a key value: a hash, so a stored key
// reveals nothing of the request and has a fixed size. The key's
// specification is part of it, so a value seen under another key does not
// count as a duplicate after the key changes.
func Fingerprint(k Key, value string) string {
	sum := sha256.Sum256([]byte(k.String() + "\x00" + value))
	return hex.EncodeToString(sum[:])
}

// ParseWindow reads a window in Go syntax from MinWindow to MaxWindow.
func ParseWindow(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil || d < MinWindow || d > MaxWindow {
		return 0, fmt.Errorf("must be a duration from 1s to 24h in Go syntax (such as 30s, 15m, 1h)")
	}
	return d, nil
}

// FormatWindow writes a window the way users write one: 1h, 90s as 1m30s,
// 1h30m, without the zero units of time.Duration.String.
func FormatWindow(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

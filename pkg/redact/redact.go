// Package redact owns the one rule that keeps ingest tokens out of
// HookSentry's logs. An ingest token (dst_ + 32 hex, CONTRACT §1) is the
// only credential of the public ingest route and travels in its URL path,
// so any log line that quotes a path, a URL or an error about one can carry
// it. Every log line HookSentry writes goes through Writer (the functions'
// slog handler and the standard logger, see pkg/app), and code that puts a
// path in a log attribute uses String.
package redact

import (
	"io"
	"regexp"
	"strings"
	"sync"
)

// Replacement is what a token, or the path segment after /ingest/, becomes.
const Replacement = "[redacted]"

// The rule has two parts:
//   - a token anywhere: "dst_" and 32 hex digits, in either case and with
//     any of them percent-encoded (an ingest handler decodes the path, so
//     "dst_%61…" is the same token);
//   - the segment after "/ingest/" in any spelling, whole, since a path
//     there may be a token written in a way the first part does not see.
//     Route patterns ("/ingest/{token}") are left alone.
//
// The patterns compile on first use, not at package init: every function
// links this package, and a cold start should not pay for a regular
// expression it may never run (BenchmarkColdStart showed 0.1–0.26 ms).
var (
	tokenPattern      = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?i)dst_(?:[0-9a-f]|%[0-9a-f]{2}){32}`) })
	ingestPathPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`/ingest/[^/?#{\s"'\\][^/?#\s"'\\]*`) })
)

const ingestPrefix = "/ingest/"

// String returns s with every ingest token replaced.
func String(s string) string {
	if !mayCarryToken(s) {
		return s
	}
	s = ingestPathPattern().ReplaceAllString(s, ingestPrefix+Replacement)
	return tokenPattern().ReplaceAllString(s, "dst_"+Replacement)
}

// Bytes is String for a byte slice. It returns b itself when there is
// nothing to replace.
func Bytes(b []byte) []byte {
	if !mayCarryToken(string(b)) { // no copy: the conversion does not escape
		return b
	}
	return []byte(String(string(b)))
}

// mayCarryToken is the cheap test that lets most lines through without a
// regular expression: a line to redact has "/ingest/" or "dst_" (any case).
func mayCarryToken(s string) bool {
	if strings.Contains(s, ingestPrefix) {
		return true
	}
	for i := 3; i < len(s); i++ {
		if s[i] == '_' && strings.EqualFold(s[i-3:i], "dst") {
			return true
		}
	}
	return false
}

// Writer redacts each Write before passing it on. slog handlers and the
// standard logger write one whole line per call, so a token is never split
// across two writes. It is safe for concurrent use if w is.
type Writer struct {
	W io.Writer
}

// NewWriter returns a Writer on w.
func NewWriter(w io.Writer) *Writer { return &Writer{W: w} }

// Write writes p, redacted, to the underlying writer. It reports len(p) on
// success, as its callers expect of a writer that wrote all of p.
func (w *Writer) Write(p []byte) (int, error) {
	if _, err := w.W.Write(Bytes(p)); err != nil {
		return 0, err
	}
	return len(p), nil
}

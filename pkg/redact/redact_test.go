package redact_test

import (
	"bytes"
	"log"
	"log/slog"
	"strings"
	"testing"

	"github.com/hooksentry/hooksentry/pkg/redact"
)

const token = "dst_0123456789abcdef0123456789abcdef"

func TestString(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"ingest path", "/ingest/" + token, "/ingest/[redacted]"},
		{"ingest path with more segments", "/ingest/" + token + "/%zz", "/ingest/[redacted]/%zz"},
		{"ingest URL in an error", `parse "https://api.example/ingest/` + token + `?a=1": invalid`, `parse "https://api.example/ingest/[redacted]?a=1": invalid`},
		{"escaped ingest path", "/ingest/%64st_0123", "/ingest/[redacted]"},
		{"token outside a path", "token=" + token + " end", "token=dst_[redacted] end"},
		{"upper-case token", "DST_0123456789ABCDEF0123456789ABCDEF", "dst_[redacted]"},
		{"percent-encoded token", "x dst_%30123456789abcdef0123456789abcde%66 y", "x dst_[redacted] y"},
		{"two tokens", token + "," + token, "dst_[redacted],dst_[redacted]"},
		{"route pattern", "POST /ingest/{token}", "POST /ingest/{token}"},
		{"short token-like value", "dst_0123", "dst_0123"},
		{"other paths", "/api/v1/destinations/5d0c", "/api/v1/destinations/5d0c"},
		{"nothing to redact", "delivery attempt", "delivery attempt"},
		{"underscores elsewhere", "a_b c_d first_st_", "a_b c_d first_st_"},
		{"empty", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := redact.String(tc.in); got != tc.want {
				t.Errorf("String(%q): got %q, want %q", tc.in, got, tc.want)
			}
			if got := string(redact.Bytes([]byte(tc.in))); got != tc.want {
				t.Errorf("Bytes(%q): got %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestWriterUnderLoggers: a slog JSON handler and a standard logger on a
// Writer never write the token, wherever it is in the record.
func TestWriterUnderLoggers(t *testing.T) {
	var buf bytes.Buffer
	w := redact.NewWriter(&buf)
	logger := slog.New(slog.NewJSONHandler(w, nil))
	logger.Warn("request to /ingest/"+token, "path", "/ingest/"+token, "error", errString("bad "+token),
		slog.Group("g", "url", "https://h/ingest/"+token+"?q"))
	std := log.New(w, "", 0)
	std.Println("parse \"https://h/ingest/" + token + "\": invalid")
	out := buf.String()
	if strings.Contains(out, token[4:]) {
		t.Errorf("log output carries the token: %s", out)
	}
	if got, want := strings.Count(out, "[redacted]"), 5; got != want {
		t.Errorf("redactions: got %d, want %d in %s", got, want, out)
	}
}

type errString string

func (e errString) Error() string { return string(e) }

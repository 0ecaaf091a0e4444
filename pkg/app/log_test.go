package app_test

import (
	"bytes"
	"errors"
	"io"
	"log"
	"os"
	"strings"
	"testing"

	"github.com/hooksentry/hooksentry/pkg/app"
)

const ingestToken = "dst_0123456789abcdef0123456789abcdef"

// TestLoggersRedactIngestTokens: the functions' logger and the standard
// logger after RedactStandardLogger never write an ingest token.
func TestLoggersRedactIngestTokens(t *testing.T) {
	var buf bytes.Buffer
	app.NewLogger(&buf).Error("request failed", "path", "/ingest/"+ingestToken,
		"error", errors.New(`parse "https://api.example/ingest/`+ingestToken+`/%zz": invalid URL escape`))

	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	oldStderr, oldWriter := os.Stderr, log.Writer()
	os.Stderr = w
	app.RedactStandardLogger()
	os.Stderr = oldStderr
	log.Printf("library says: %s", "https://api.example/ingest/"+ingestToken)
	log.SetOutput(oldWriter)
	_ = w.Close()
	std, _ := io.ReadAll(r)

	for name, out := range map[string]string{"NewLogger": buf.String(), "standard logger": string(std)} {
		if strings.Contains(out, ingestToken[4:]) {
			t.Errorf("%s carries the token: %s", name, out)
		}
		if !strings.Contains(out, "/ingest/[redacted]") {
			t.Errorf("%s: got %q, want the path with the token redacted", name, out)
		}
	}
}

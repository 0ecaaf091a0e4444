package httpapi_test

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/hooksentry/hooksentry/pkg/history"
	"github.com/hooksentry/hooksentry/pkg/httpapi"
)

func TestEventDetailKeepsResponseBodiesWithinTheLimit(t *testing.T) {
	cut := []byte(strings.Repeat("a", history.MaxResponseBody-1) + "é")[:history.MaxResponseBody] // é cut in half
	tests := []struct {
		name string
		body []byte
		want string
	}{
		{"text", []byte("bad gateway"), "bad gateway"},
		{"a character cut by the limit", cut, strings.Repeat("a", history.MaxResponseBody-1) + "?"},
		{"binary", []byte{0xff, 0xfe, 'o', 'k', 0x80}, "?ok?"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := history.Record{EventID: "e", ReceivedAt: time.Now(), Attempts: []history.Attempt{{Number: 1, StartedAt: time.Now(), ResponseBody: tt.body}}}
			got := httpapi.NewEventDetail(r).Attempts[0].ResponseBody
			if got == nil || *got != tt.want || len(*got) > history.MaxResponseBody || !utf8.ValidString(*got) {
				t.Errorf("got %q, want %q (valid UTF-8, at most %d bytes)", deref(got), tt.want, history.MaxResponseBody)
			}
		})
	}
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

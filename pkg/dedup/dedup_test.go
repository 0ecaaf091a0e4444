package dedup_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/hooksentry/hooksentry/pkg/dedup"
)

func TestParseKey(t *testing.T) {
	tests := []struct {
		spec    string
		want    string // Key.String(); "" when the spec is refused
		wantErr bool
	}{
		{spec: "header:Idempotency-Key", want: "header:Idempotency-Key"},
		{spec: "HEADER:x-request-id", want: "header:X-Request-Id"},
		{spec: "body:id", want: "body:id"},
		{spec: "Body:data.object.id", want: "body:data.object.id"},
		{spec: "header:", wantErr: true},
		{spec: "header:Bad Name", wantErr: true},
		{spec: "body:", wantErr: true},
		{spec: "body:a..b", wantErr: true},
		{spec: "body:.a", wantErr: true},
		{spec: "query:id", wantErr: true},
		{spec: "id", wantErr: true},
		{spec: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			k, err := dedup.ParseKey(tt.spec)
			if gotErr := err != nil; gotErr != tt.wantErr {
				t.Fatalf("ParseKey(%q) error = %v, want error %v", tt.spec, err, tt.wantErr)
			}
			if err == nil && k.String() != tt.want {
				t.Errorf("ParseKey(%q).String() = %q, want %q", tt.spec, k.String(), tt.want)
			}
		})
	}
}

func TestKeyValue(t *testing.T) {
	h := http.Header{"Idempotency-Key": {"abc"}, "X-Multi": {"a", "b"}}
	tests := []struct {
		name   string
		spec   string
		body   string
		want   string
		wantOK bool
	}{
		{"header", "header:idempotency-key", `{}`, "abc", true},
		{"repeated header", "header:X-Multi", `{}`, "a, b", true},
		{"missing header", "header:X-Absent", `{}`, "", false},
		{"top-level string", "body:id", `{"id":"evt_1"}`, `"evt_1"`, true},
		{"nested number", "body:data.object.id", `{"data":{"object":{"id":42}}}`, `42`, true},
		{"object value is compacted", "body:data", `{"data": { "a" : 1 }}`, `{"a":1}`, true},
		{"null is absent", "body:id", `{"id":null}`, "", false},
		{"absent member", "body:id", `{"other":1}`, "", false},
		{"path through a non-object", "body:id.x", `{"id":"s"}`, "", false},
		{"body not JSON", "body:id", `id=1`, "", false},
		{"body a JSON array", "body:id", `[{"id":1}]`, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := dedup.ParseKey(tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := k.Value(h, []byte(tt.body))
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("Value = %q, %v; want %q, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestFingerprintSeparatesKeysAndValues(t *testing.T) {
	id, _ := dedup.ParseKey("body:id")
	other, _ := dedup.ParseKey("body:ref")
	a, b, c := dedup.Fingerprint(id, `"1"`), dedup.Fingerprint(id, `1`), dedup.Fingerprint(other, `"1"`)
	if a == b || a == c || b == c {
		t.Errorf("fingerprints collide: %s %s %s", a, b, c)
	}
	if got := dedup.Fingerprint(id, `"1"`); got != a {
		t.Errorf("Fingerprint is not deterministic: %s then %s", a, got)
	}
	if len(a) != 64 {
		t.Errorf("len(Fingerprint) = %d, want 64", len(a))
	}
}

func TestWindow(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
		format  string
	}{
		{in: "1s", want: time.Second, format: "1s"},
		{in: "1h", want: time.Hour, format: "1h"},
		{in: "90m", want: 90 * time.Minute, format: "1h30m"},
		{in: "24h", want: 24 * time.Hour, format: "24h"},
		{in: "2m", want: 2 * time.Minute, format: "2m"},
		{in: "1500ms", want: 1500 * time.Millisecond, format: "1.5s"},
		{in: "999ms", wantErr: true},
		{in: "24h1s", wantErr: true},
		{in: "0", wantErr: true},
		{in: "1 hour", wantErr: true},
		{in: "-1h", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := dedup.ParseWindow(tt.in)
			if gotErr := err != nil; gotErr != tt.wantErr {
				t.Fatalf("ParseWindow(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if got != tt.want {
				t.Errorf("ParseWindow(%q) = %v, want %v", tt.in, got, tt.want)
			}
			if f := dedup.FormatWindow(got); f != tt.format {
				t.Errorf("FormatWindow(%v) = %q, want %q", got, f, tt.format)
			}
		})
	}
}

package event_test

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hooksentry/hooksentry/pkg/event"
)

func TestEncodeDecodeRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    event.Message
	}{
		{"every field", event.Message{
			Version: 1, EventID: "e-1", DestinationID: "d-1", TenantID: "t-1", ReceivedAt: 1767225600123,
			ContentType: "application/json; charset=utf-8",
			Headers:     [][2]string{{"Stripe-Signature", "t=1,v1=abc,v0=def"}, {"X-Multi", "a"}, {"X-Multi", "b"}},
			Body:        []byte("{\"a\":1}\r\n\x00\xff\xfe not utf-8"),
			Attempts:    3, NotBefore: 1767225700000, Redrives: 2,
		}},
		{"stored reference", event.Message{Version: 1, EventID: "e-2", DestinationID: "d-2", TenantID: "t-2", ReceivedAt: 1, Stored: true}},
		{"drain control message", event.Message{Version: 1, DestinationID: "d-3", Drain: true}},
		{"empty body", event.Message{Version: 1, EventID: "e-4", DestinationID: "d-4", Body: []byte{}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body, err := tc.m.Encode()
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			got, err := event.Decode(body)
			if err != nil {
				t.Fatalf("Decode(%s): %v", body, err)
			}
			want := tc.m
			if len(want.Body) == 0 {
				want.Body = nil // omitempty: an empty body travels as none
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("round trip: got %+v, want %+v", got, want)
			}
		})
	}
}

func TestEncodeSetsVersion(t *testing.T) {
	body, err := event.Message{EventID: "e", DestinationID: "d"}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(body, `"v":1`) {
		t.Errorf("Encode without a version: got %s, want \"v\":1", body)
	}
	got, err := event.Decode(body)
	if err != nil || got.Version != 1 {
		t.Errorf("Decode: got version %d, %v, want 1, nil", got.Version, err)
	}
}

func TestDecodeRejects(t *testing.T) {
	for _, tc := range []struct {
		name, body string
	}{
		{"not JSON", "hello"},
		{"empty", ""},
		{"JSON array", `[1,2]`},
		{"unknown version", `{"v":2,"id":"e","d":"d"}`},
		{"no version", `{"id":"e","d":"d"}`},
		{"version as string", `{"v":"1","id":"e","d":"d"}`},
		{"no destination", `{"v":1,"id":"e"}`},
		{"no event id", `{"v":1,"d":"d"}`},
		{"drain without destination", `{"v":1,"drain":true}`},
		{"body not base64", `{"v":1,"id":"e","d":"d","b":"%%%"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if m, err := event.Decode(tc.body); err == nil {
				t.Errorf("Decode(%s): got %+v, nil, want an error", tc.body, m)
			}
		})
	}
}

func TestControlMessagesRoundTrip(t *testing.T) {
	at := time.UnixMilli(1767225600123)
	for _, tc := range []struct {
		name string
		m    event.Message
	}{
		{"drain", event.DrainRequest("d1")},
		{"probe", event.ProbeRequest("d1", at)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body, err := tc.m.Encode()
			if err != nil {
				t.Fatal(err)
			}
			got, err := event.Decode(body)
			if err != nil {
				t.Fatalf("Decode(%s): %v", body, err)
			}
			if !got.Control() || !reflect.DeepEqual(got, tc.m) {
				t.Errorf("got %+v, want %+v (a control message)", got, tc.m)
			}
		})
	}
	if got := event.ProbeRequest("d1", at).NotBefore; got != at.UnixMilli() {
		t.Errorf("probe NotBefore: got %d, want %d", got, at.UnixMilli())
	}
}

func TestReferenceAndWithStored(t *testing.T) {
	m := event.Message{Version: 1, EventID: "e1", DestinationID: "d1", Body: []byte("x"), Headers: [][2]string{{"A", "b"}}, ContentType: "text/plain", Attempts: 3, Redrives: 1}
	ref := m.Reference()
	if ref.Body != nil || ref.Headers != nil || ref.ContentType != "" || !ref.Stored || ref.Attempts != 3 {
		t.Errorf("Reference: got %+v", ref)
	}
	stored := m
	stored.Attempts = 1
	got := ref.WithStored(stored)
	if got.Stored || string(got.Body) != "x" || got.Attempts != 3 || got.Redrives != 1 {
		t.Errorf("WithStored: got %+v, want the stored body with the reference's counts", got)
	}
}

func TestEncodeFramesTextBodiesRaw(t *testing.T) {
	tests := []struct {
		name    string
		body    []byte
		wantRaw bool
	}{
		{"json with quotes and newlines", []byte("{\"a\": \"b\\\"c\",\n \"d\": [1, 2]}\n"), true},
		{"unicode text", []byte("héllo wörld ✓ 🚀"), true},
		{"binary", []byte{0x00, 0xff, 0x10, 'a'}, false},
		{"control character", []byte("a\x07b"), false},
		{"invalid utf-8", []byte{'a', 0xc3}, false},
		{"noncharacter U+FFFF", []byte("a\uffffb"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := event.Message{Version: 1, EventID: "e", DestinationID: "d", Body: tt.body, Headers: [][2]string{{"X-Sig", "t=1,v1=a"}}}
			enc, err := m.Encode()
			if err != nil {
				t.Fatal(err)
			}
			header, payload, framed := strings.Cut(enc, "\n")
			if framed != tt.wantRaw {
				t.Fatalf("framed = %v, want %v (encoded %q)", framed, tt.wantRaw, enc)
			}
			if framed && payload != string(tt.body) {
				t.Errorf("payload after the header = %q, want the body verbatim", payload)
			}
			if framed && strings.Contains(header, `"b":`) {
				t.Errorf("header %q also carries the body", header)
			}
			got, err := event.Decode(enc)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !bytes.Equal(got.Body, tt.body) || got.RawBody {
				t.Errorf("decoded body %q (RawBody %v), want %q", got.Body, got.RawBody, tt.body)
			}
		})
	}
}

func TestDecodeRejectsMismatchedFraming(t *testing.T) {
	for _, body := range []string{
		`{"v":1,"id":"e","d":"d","rb":true}`,          // flag without payload
		"{\"v\":1,\"id\":\"e\",\"d\":\"d\"}\npayload", // payload without flag
	} {
		if _, err := event.Decode(body); err == nil {
			t.Errorf("Decode(%q) accepted mismatched framing", body)
		}
	}
}

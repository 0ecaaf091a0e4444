package ingest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/hooksentry/hooksentry/pkg/destination"
	"github.com/hooksentry/hooksentry/pkg/event"
	"github.com/hooksentry/hooksentry/pkg/ingest"
)

// fakeTokens resolves the hashes of known tokens and counts lookups.
type fakeTokens struct {
	mu      sync.Mutex
	byHash  map[string][2]string // hash -> destination id, tenant id
	err     error
	lookups int
}

func (f *fakeTokens) LookupIngestToken(_ context.Context, hash string) (destination.TokenOwner, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lookups++
	if f.err != nil {
		return destination.TokenOwner{}, false, f.err
	}
	v, ok := f.byHash[hash]
	return destination.TokenOwner{DestinationID: v[0], TenantID: v[1]}, ok, nil
}

// fakeQueue records enqueued messages.
type fakeQueue struct {
	mu   sync.Mutex
	msgs []event.Message
	err  error
}

func (q *fakeQueue) Publish(_ context.Context, m event.Message) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.err != nil {
		return q.err
	}
	q.msgs = append(q.msgs, m)
	return nil
}

type fixture struct {
	h      *ingest.Handler
	tokens *fakeTokens
	queue  *fakeQueue
	token  string // a valid token of destination "dest-1", tenant "tenant-1"
	now    time.Time
	logs   *bytes.Buffer
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	token, hash, err := destination.NewIngestToken(nil)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{
		tokens: &fakeTokens{byHash: map[string][2]string{hash: {"dest-1", "tenant-1"}}},
		queue:  &fakeQueue{},
		token:  token,
		now:    time.Date(2026, 3, 4, 10, 0, 0, 123e6, time.UTC),
		logs:   &bytes.Buffer{},
	}
	f.h = &ingest.Handler{Tokens: f.tokens, Queue: f.queue, Log: slog.New(slog.NewTextHandler(f.logs, nil)), Now: func() time.Time { return f.now }}
	return f
}

func (f *fixture) post(t *testing.T, token string, body []byte, header http.Header) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/ingest/"+token, bytes.NewReader(body))
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	return rec
}

func (f *fixture) enqueued() []event.Message {
	f.queue.mu.Lock()
	defer f.queue.mu.Unlock()
	return append([]event.Message(nil), f.queue.msgs...)
}

type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
}

func wantProblem(t *testing.T, rec *httptest.ResponseRecorder, status int) problem {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status: got %d %s, want %d", rec.Code, rec.Body, status)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type: got %q, want application/problem+json", ct)
	}
	var p problem
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		t.Fatalf("problem %q: %v", rec.Body, err)
	}
	if p.Status != status || p.Title != http.StatusText(status) || p.Detail == "" {
		t.Errorf("problem: got %+v, want status %d, title %q and a detail", p, status, http.StatusText(status))
	}
	return p
}

func TestIngestAccepts(t *testing.T) {
	f := newFixture(t)
	sig := "t=1492774577,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd,v0=6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39"
	body := []byte("{\"id\":\"evt_1\"}\r\n\x00\xff not utf-8 \u00e9")
	header := http.Header{
		"Content-Type":           {"application/json; charset=utf-8"},
		"Stripe-Signature":       {sig},
		"X-Github-Event":         {"push"},
		"X-Repeated":             {"one", "two, with comma"},
		"X-Forwarded-For":        {"203.0.113.7"},
		"X-Forwarded-Proto":      {"https"},
		"X-Amzn-Trace-Id":        {"Root=1-67891233-abcdef012345678912345678"},
		"X-Amz-Sns-Message-Type": {"Notification"},
		"Authorization":          {"Bearer caller-credential"},
		"Cookie":                 {"session=abc"},
		"Host":                   {"hooks.example.com"},
		// A Standard Webhooks sender's headers are its own: kept as signed.
		"Webhook-Id":        {"msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"},
		"Webhook-Timestamp": {"1674087231"},
		"Webhook-Signature": {"v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4="},
		// HookSentry's namespace is not: a sender cannot forge it.
		"Hooksentry-Verified": {"true"},
		"Hooksentry-Event-Id": {"forged"},
	}
	rec := f.post(t, f.token, body, header)
	if rec.Code != http.StatusAccepted {
		t.Fatalf("status: got %d %s, want 202", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type: got %q, want application/json", ct)
	}
	var out map[string]string
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("response %q: %v", rec.Body, err)
	}
	if _, err := uuid.Parse(out["eventId"]); err != nil || len(out) != 1 {
		t.Errorf("response: got %s, want exactly {\"eventId\": <uuid>}", rec.Body)
	}

	msgs := f.enqueued()
	if len(msgs) != 1 {
		t.Fatalf("enqueued: got %d messages, want 1", len(msgs))
	}
	m := msgs[0]
	want := event.Message{
		Version: 1, EventID: out["eventId"], DestinationID: "dest-1", TenantID: "tenant-1",
		ReceivedAt: f.now.UnixMilli(), ContentType: "application/json; charset=utf-8",
		Headers: [][2]string{
			{"Stripe-Signature", sig},
			{"Webhook-Id", "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"},
			{"Webhook-Signature", "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4="},
			{"Webhook-Timestamp", "1674087231"},
			{"X-Amz-Sns-Message-Type", "Notification"}, // X-Amz-*, unlike X-Amzn-*, is the sender's (CONTRACT §3)
			{"X-Github-Event", "push"},
			{"X-Repeated", "one"},
			{"X-Repeated", "two, with comma"},
		},
		Body: body,
	}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("message:\n got %+v\nwant %+v", m, want)
	}
	if !bytes.Equal(m.Body, body) {
		t.Errorf("body: got %q, want %q byte for byte", m.Body, body)
	}
}

func TestIngestBodySizeLimit(t *testing.T) {
	for _, tc := range []struct {
		name   string
		size   int
		status int
	}{
		{"empty", 0, http.StatusAccepted},
		{"256 KiB", event.MaxBodySize, http.StatusAccepted},
		{"256 KiB + 1", event.MaxBodySize + 1, http.StatusRequestEntityTooLarge},
		{"1 MiB", 1 << 20, http.StatusRequestEntityTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			body := bytes.Repeat([]byte("x"), tc.size)
			rec := f.post(t, f.token, body, http.Header{"Content-Type": {"text/plain"}})
			msgs := f.enqueued()
			if tc.status != http.StatusAccepted {
				wantProblem(t, rec, tc.status)
				if len(msgs) != 0 {
					t.Errorf("enqueued %d messages, want none", len(msgs))
				}
				return
			}
			if rec.Code != tc.status {
				t.Fatalf("status: got %d %s, want %d", rec.Code, rec.Body, tc.status)
			}
			if len(msgs) != 1 || len(msgs[0].Body) != tc.size {
				t.Errorf("enqueued: got %d messages, want 1 with a %d-byte body", len(msgs), tc.size)
			}
		})
	}
}

func TestIngestRejectsTokens(t *testing.T) {
	f := newFixture(t)
	unknown, _, err := destination.NewIngestToken(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		token      string
		wantLookup bool
	}{
		{"empty", "", false},
		{"garbage", "not-a-token", false},
		{"wrong prefix", "src_" + strings.Repeat("a", 32), false},
		{"upper-case hex", "dst_" + strings.Repeat("A", 32), false},
		{"too short", "dst_" + strings.Repeat("a", 31), false},
		{"too long", "dst_" + strings.Repeat("a", 33), false},
		{"extra path segment", f.token + "/extra", false},
		{"unknown", unknown, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := f.tokens.lookups
			rec := f.post(t, tc.token, []byte(`{}`), nil)
			p := wantProblem(t, rec, http.StatusUnauthorized)
			if strings.Contains(p.Detail, tc.token) && tc.token != "" {
				t.Errorf("problem detail %q repeats the token", p.Detail)
			}
			if looked := f.tokens.lookups > before; looked != tc.wantLookup {
				t.Errorf("token lookup: got %v, want %v", looked, tc.wantLookup)
			}
			if n := len(f.enqueued()); n != 0 {
				t.Errorf("enqueued %d messages, want none", n)
			}
		})
	}
}

func TestIngestInternalErrorsAreHidden(t *testing.T) {
	const secret = "arn:aws:sqs:us-east-1:123456789012:hooksentry-delivery AccessDenied"
	for _, tc := range []struct {
		name  string
		setup func(f *fixture)
	}{
		{"queue error", func(f *fixture) { f.queue.err = errors.New(secret) }},
		{"token store error", func(f *fixture) { f.tokens.err = errors.New(secret) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			tc.setup(f)
			rec := f.post(t, f.token, []byte(`{}`), nil)
			p := wantProblem(t, rec, http.StatusInternalServerError)
			if strings.Contains(rec.Body.String(), "AccessDenied") || strings.Contains(rec.Body.String(), "arn:") {
				t.Errorf("problem %s leaks the internal error", rec.Body)
			}
			if p.Type != "about:blank" {
				t.Errorf("problem type: got %q, want about:blank", p.Type)
			}
			if !strings.Contains(f.logs.String(), "AccessDenied") {
				t.Errorf("logs: the internal error was not logged")
			}
			if strings.Contains(f.logs.String(), f.token) {
				t.Errorf("logs contain the ingest token")
			}
		})
	}
}

func TestIngestOnlyPost(t *testing.T) {
	f := newFixture(t)
	req := httptest.NewRequest(http.MethodGet, "/ingest/"+f.token, nil)
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	wantProblem(t, rec, http.StatusNotFound)
	if n := len(f.enqueued()); n != 0 {
		t.Errorf("enqueued %d messages, want none", n)
	}
}

package ingest_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/hooksentry/hooksentry/pkg/destination"
	"github.com/hooksentry/hooksentry/pkg/destination/destinationtest"
	"github.com/hooksentry/hooksentry/pkg/event"
	"github.com/hooksentry/hooksentry/pkg/ingest"
	"github.com/hooksentry/hooksentry/pkg/ingest/ingesttest"
	"github.com/hooksentry/hooksentry/pkg/openapi/openapitest"
)

const githubSecret = "It's a Secret to Everybody"

// checked is a handler over a real destination.Service's store, for
// destinations created with checks through the API's own parsing.
type checked struct {
	h      *ingest.Handler
	svc    *destination.Service
	store  *destinationtest.Store
	claims *ingesttest.Claims
	queue  *fakeQueue
	tenant string
	now    time.Time
	logs   *bytes.Buffer
}

func newChecked(t *testing.T) *checked {
	t.Helper()
	c := &checked{
		store: destinationtest.NewStore(), claims: &ingesttest.Claims{}, queue: &fakeQueue{},
		tenant: uuid.NewString(), now: time.Now().UTC(), logs: &bytes.Buffer{},
	}
	sealer := &destinationtest.Sealer{}
	c.svc = &destination.Service{Store: c.store, Sealer: sealer}
	if err := c.store.AddTenant(context.Background(), c.tenant); err != nil {
		t.Fatal(err)
	}
	c.h = &ingest.Handler{
		Tokens: c.store, Destinations: c.store, Sealer: sealer, Claims: c.claims, Queue: c.queue,
		Log: slog.New(slog.NewTextHandler(c.logs, nil)), Now: func() time.Time { return c.now },
	}
	return c
}

// create makes a destination from a create request body's extra members
// and returns its ingest token.
func (c *checked) create(t *testing.T, members string) (destination.Destination, string) {
	t.Helper()
	in, err := destination.ParseCreate([]byte(`{"url":"https://example.com/hook",`+members+`}`), nil)
	if err != nil {
		t.Fatalf("ParseCreate: %v", err)
	}
	d, issued, err := c.svc.Create(context.Background(), c.tenant, in)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	return d, issued.IngestToken
}

func (c *checked) post(t *testing.T, token string, body []byte, header http.Header) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/ingest/"+token, bytes.NewReader(body))
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	c.h.ServeHTTP(rec, req)
	return rec
}

type answer struct {
	EventID   string `json:"eventId"`
	Duplicate *bool  `json:"duplicate"`
}

func wantAccepted(t *testing.T, rec *httptest.ResponseRecorder) answer {
	t.Helper()
	if rec.Code != http.StatusAccepted {
		t.Fatalf("status: got %d %s, want 202", rec.Code, rec.Body)
	}
	var a answer
	if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil || a.EventID == "" {
		t.Fatalf("answer %q: %v", rec.Body, err)
	}
	return a
}

func githubSignature(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

func TestIngestVerifiesSignatures(t *testing.T) {
	c := newChecked(t)
	_, token := c.create(t, `"verification":{"type":"GitHub","secret":"`+githubSecret+`"}`)
	body := []byte(`{"action":"opened"}`)
	tests := []struct {
		name   string
		body   []byte
		header http.Header
		ok     bool
	}{
		{"signed", body, http.Header{"X-Hub-Signature-256": {githubSignature(githubSecret, body)}}, true},
		{"wrong secret", body, http.Header{"X-Hub-Signature-256": {githubSignature("another secret", body)}}, false},
		{"tampered body", []byte(`{"action":"closed"}`), http.Header{"X-Hub-Signature-256": {githubSignature(githubSecret, body)}}, false},
		{"no signature", body, http.Header{}, false},
		{"a faked HookSentry-Verified header does not help", body, http.Header{"Hooksentry-Verified": {"GitHub"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(c.queue.msgs)
			rec := c.post(t, token, tt.body, tt.header)
			if !tt.ok {
				p := wantProblem(t, rec, http.StatusUnauthorized)
				if !strings.Contains(p.Detail, "signature") || strings.Contains(p.Detail, githubSecret) {
					t.Errorf("detail %q: want it to speak of the signature and not quote the secret", p.Detail)
				}
				if got := len(c.queue.msgs); got != before {
					t.Errorf("a refused request was queued: %d messages, want %d", got, before)
				}
				return
			}
			a := wantAccepted(t, rec)
			msgs := c.queue.msgs
			if len(msgs) != before+1 {
				t.Fatalf("queued %d messages, want %d", len(msgs), before+1)
			}
			if m := msgs[len(msgs)-1]; m.EventID != a.EventID || m.Verified != "GitHub" {
				t.Errorf("queued %s verified %q, want %s verified GitHub", m.EventID, m.Verified, a.EventID)
			}
		})
	}
	if strings.Contains(c.logs.String(), githubSecret) {
		t.Errorf("the secret is in the logs: %s", c.logs)
	}
}

func TestIngestWithoutChecksNeedsNoDestinationRead(t *testing.T) {
	c := newChecked(t)
	_, token := c.create(t, `"serverRateLimit":3`)
	c.h.Destinations, c.h.Sealer, c.h.Claims = nil, nil, nil // any use would fail the request
	a := wantAccepted(t, c.post(t, token, []byte(`{}`), nil))
	if a.Duplicate != nil {
		t.Errorf("duplicate = %v, want the member absent", *a.Duplicate)
	}
	if m := c.queue.msgs[0]; m.Verified != "" {
		t.Errorf("Verified = %q, want none", m.Verified)
	}
}

func TestIngestDeduplicates(t *testing.T) {
	c := newChecked(t)
	_, token := c.create(t, `"deduplication":{"key":"body:data.id","window":"10m"}`)
	first := wantAccepted(t, c.post(t, token, []byte(`{"data":{"id":"evt_1"},"n":1}`), nil))
	if first.Duplicate != nil {
		t.Errorf("first answer: duplicate = %v, want absent", *first.Duplicate)
	}
	c.now = c.now.Add(9 * time.Minute)
	second := wantAccepted(t, c.post(t, token, []byte(`{"data":{"id":"evt_1"},"n":2}`), nil))
	if second.EventID != first.EventID || second.Duplicate == nil || !*second.Duplicate {
		t.Errorf("second answer = %+v, want the first id %s and duplicate true", second, first.EventID)
	}
	other := wantAccepted(t, c.post(t, token, []byte(`{"data":{"id":"evt_2"}}`), nil))
	noKey := wantAccepted(t, c.post(t, token, []byte(`not json`), nil))
	noKeyAgain := wantAccepted(t, c.post(t, token, []byte(`not json`), nil))
	c.now = c.now.Add(2 * time.Minute) // 11 min after the first: outside the window
	later := wantAccepted(t, c.post(t, token, []byte(`{"data":{"id":"evt_1"}}`), nil))

	var got []string
	for _, m := range c.queue.msgs {
		got = append(got, m.EventID)
	}
	want := []string{first.EventID, other.EventID, noKey.EventID, noKeyAgain.EventID, later.EventID}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("queued %v, want %v (the duplicate not queued)", got, want)
	}
	if later.EventID == first.EventID {
		t.Errorf("a key after its window was answered as a duplicate")
	}
}

func TestIngestReleasesTheKeyOfAnEventItCouldNotStore(t *testing.T) {
	c := newChecked(t)
	_, token := c.create(t, `"deduplication":{"key":"header:Idempotency-Key"}`)
	header := http.Header{"Idempotency-Key": {"k-1"}}
	c.queue.err = errors.New("queue down")
	if rec := c.post(t, token, []byte(`{}`), header); rec.Code < 500 {
		t.Fatalf("status %d with the queue down, want 5xx", rec.Code)
	}
	c.queue.err = nil
	a := wantAccepted(t, c.post(t, token, []byte(`{}`), header))
	if a.Duplicate != nil {
		t.Fatalf("the retry was answered as a duplicate of an event never stored: %+v", a)
	}
	if len(c.queue.msgs) != 1 || c.queue.msgs[0].EventID != a.EventID {
		t.Errorf("queued %+v, want only %s", c.queue.msgs, a.EventID)
	}
}

func TestIngestVerifiesBeforeDeduplicating(t *testing.T) {
	c := newChecked(t)
	_, token := c.create(t, `"verification":{"type":"GitHub","secret":"`+githubSecret+`"},"deduplication":{"key":"body:id"}`)
	body := []byte(`{"id":"same"}`)
	// A forged request with the key must not take the key from the genuine one.
	wantProblem(t, c.post(t, token, body, http.Header{"X-Hub-Signature-256": {githubSignature("forger", body)}}), http.StatusUnauthorized)
	if n := c.claims.Len(); n != 0 {
		t.Fatalf("a refused request claimed %d keys", n)
	}
	signed := http.Header{"X-Hub-Signature-256": {githubSignature(githubSecret, body)}}
	a := wantAccepted(t, c.post(t, token, body, signed))
	b := wantAccepted(t, c.post(t, token, body, signed))
	if a.Duplicate != nil || b.EventID != a.EventID || b.Duplicate == nil || !*b.Duplicate {
		t.Errorf("answers %+v then %+v, want a new event then its duplicate", a, b)
	}
	if len(c.queue.msgs) != 1 || c.queue.msgs[0].Verified != "GitHub" {
		t.Errorf("queued %+v, want one verified event", c.queue.msgs)
	}
}

func TestIngestAfterChecksAreRemoved(t *testing.T) {
	c := newChecked(t)
	d, token := c.create(t, `"verification":{"type":"GitHub","secret":"`+githubSecret+`"}`)
	wantProblem(t, c.post(t, token, []byte(`{}`), nil), http.StatusUnauthorized)
	if _, err := c.svc.Update(context.Background(), c.tenant, d.ID, []byte(`{"verification":null}`)); err != nil {
		t.Fatalf("Update: %v", err)
	}
	wantAccepted(t, c.post(t, token, []byte(`{}`), nil))
	if m := c.queue.msgs[0]; m.Verified != "" || m.DestinationID != d.ID {
		t.Errorf("queued %+v, want an unverified event of %s", m, d.ID)
	}
}

// countingDestinations counts the destination reads ingest makes.
type countingDestinations struct {
	ingest.Destinations
	reads int
}

func (c *countingDestinations) GetDestination(ctx context.Context, id string) (destination.Destination, error) {
	c.reads++
	return c.Destinations.GetDestination(ctx, id)
}

// TestIngestReadsADestinationWithChecksOncePerChange: a warm handler
// reads the destination once, not per event, and reads it again when its
// checks change, so a new secret applies to the next request at once.
func TestIngestReadsADestinationWithChecksOncePerChange(t *testing.T) {
	c := newChecked(t)
	reads := &countingDestinations{Destinations: c.store}
	c.h.Destinations = reads
	d, token := c.create(t, `"verification":{"type":"GitHub","secret":"`+githubSecret+`"}`)
	body := []byte(`{"n":1}`)
	for range 5 {
		wantAccepted(t, c.post(t, token, body, http.Header{"X-Hub-Signature-256": {githubSignature(githubSecret, body)}}))
	}
	if reads.reads != 1 {
		t.Errorf("5 requests read the destination %d times, want 1", reads.reads)
	}

	if _, err := c.svc.Update(context.Background(), c.tenant, d.ID, []byte(`{"verification":{"type":"GitHub","secret":"rotated"}}`)); err != nil {
		t.Fatalf("Update: %v", err)
	}
	wantProblem(t, c.post(t, token, body, http.Header{"X-Hub-Signature-256": {githubSignature(githubSecret, body)}}), http.StatusUnauthorized)
	wantAccepted(t, c.post(t, token, body, http.Header{"X-Hub-Signature-256": {githubSignature("rotated", body)}}))
	if reads.reads != 2 {
		t.Errorf("after the change: %d reads, want 2", reads.reads)
	}

	// Any update of a destination with checks raises the version (one more
	// read), and the TTL bounds how long a read is trusted.
	if _, err := c.svc.Update(context.Background(), c.tenant, d.ID, []byte(`{"serverRateLimit":7}`)); err != nil {
		t.Fatalf("Update: %v", err)
	}
	wantAccepted(t, c.post(t, token, body, http.Header{"X-Hub-Signature-256": {githubSignature("rotated", body)}}))
	c.now = c.now.Add(6 * time.Minute) // past the cache's TTL
	wantAccepted(t, c.post(t, token, body, http.Header{"X-Hub-Signature-256": {githubSignature("rotated", body)}}))
	if reads.reads != 4 {
		t.Errorf("after a rewrite and the TTL: %d reads, want 4", reads.reads)
	}
}

// blockingQueue holds a publish until released, then fails it.
type blockingQueue struct{ started, release chan struct{} }

func (q *blockingQueue) Publish(context.Context, event.Message) error {
	close(q.started)
	<-q.release
	return errors.New("sqs: throttled")
}

// TestIngestInFlightDuplicateIsAskedToRetry: a sender that retries while
// its first request is still being accepted is not told "duplicate" (the
// first may yet fail, and the event would be lost): it gets 409 with
// Retry-After, and after the first failed, its retry is accepted.
func TestIngestInFlightDuplicateIsAskedToRetry(t *testing.T) {
	c := newChecked(t)
	_, token := c.create(t, `"deduplication":{"key":"header:Idempotency-Key"}`)
	bq := &blockingQueue{started: make(chan struct{}), release: make(chan struct{})}
	c.h.Queue = bq
	h := http.Header{"Idempotency-Key": {"k1"}}
	first := make(chan int)
	go func() {
		req := httptest.NewRequest(http.MethodPost, "/ingest/"+token, strings.NewReader(`{}`))
		req.Header = h.Clone()
		rec := httptest.NewRecorder()
		c.h.ServeHTTP(rec, req)
		first <- rec.Code
	}()
	<-bq.started
	c.h.Queue = c.queue
	rec := c.post(t, token, []byte(`{}`), h)
	p := wantProblem(t, rec, http.StatusConflict)
	// The answer is one the API document describes.
	v, err := openapitest.NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, "/ingest/"+token, nil)
	req.Header = h.Clone()
	if err := v.Check(req, []byte(`{}`), rec.Code, rec.Header(), rec.Body.Bytes()); err != nil {
		t.Errorf("the 409 is not in docs/openapi.yaml: %v", err)
	}
	if rec.Header().Get("Retry-After") == "" || !strings.Contains(p.Detail, "retry") {
		t.Errorf("409 %q, Retry-After %q: want a retry hint", p.Detail, rec.Header().Get("Retry-After"))
	}
	close(bq.release)
	if code := <-first; code < 500 {
		t.Fatalf("first request with the queue failing: %d, want 5xx", code)
	}
	a := wantAccepted(t, c.post(t, token, []byte(`{}`), h))
	if a.Duplicate != nil || len(c.queue.msgs) != 1 || c.queue.msgs[0].EventID != a.EventID {
		t.Errorf("retry after the failure: %+v, queued %d; want a new stored event", a, len(c.queue.msgs))
	}
}

package ingest_test

import (
	"bytes"
	"errors"
	"net/http"
	"reflect"
	"testing"

	"github.com/hooksentry/hooksentry/pkg/destination"
	"github.com/hooksentry/hooksentry/pkg/event"
	"github.com/hooksentry/hooksentry/pkg/metrics"
)

// outcomes records what the handler counted.
type outcomes []metrics.IngestOutcome

func (o *outcomes) Ingest(x metrics.IngestOutcome) { *o = append(*o, x) }

func TestIngestCountsEachOutcome(t *testing.T) {
	c := newChecked(t)
	var got outcomes
	c.h.Metrics = &got
	_, verified := c.create(t, `"verification":{"type":"GitHub","secret":"`+githubSecret+`"}`)
	_, deduplicated := c.create(t, `"deduplication":{"key":"header:Idempotency-Key"}`)
	unknown, _, err := destination.NewIngestToken(nil)
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"action":"opened"}`)
	key := http.Header{"Idempotency-Key": {"k-1"}}

	steps := []struct {
		name   string
		send   func() int
		status int
		want   metrics.IngestOutcome
	}{
		{"signed", func() int {
			return c.post(t, verified, body, http.Header{"X-Hub-Signature-256": {githubSignature(githubSecret, body)}}).Code
		}, http.StatusAccepted, metrics.IngestAccepted},
		{"bad signature", func() int {
			return c.post(t, verified, body, http.Header{"X-Hub-Signature-256": {githubSignature("forger", body)}}).Code
		}, http.StatusUnauthorized, metrics.IngestUnverified},
		{"first with a key", func() int { return c.post(t, deduplicated, body, key).Code }, http.StatusAccepted, metrics.IngestAccepted},
		{"duplicate", func() int { return c.post(t, deduplicated, body, key).Code }, http.StatusAccepted, metrics.IngestDuplicate},
		// Also a 401, but the token's, not the signature's.
		{"unknown token", func() int { return c.post(t, unknown, body, nil).Code }, http.StatusUnauthorized, metrics.IngestRefused},
		{"malformed token", func() int { return c.post(t, "nope", body, nil).Code }, http.StatusUnauthorized, metrics.IngestRefused},
		{"too large", func() int {
			return c.post(t, deduplicated, bytes.Repeat([]byte("x"), event.MaxBodySize+1), nil).Code
		}, http.StatusRequestEntityTooLarge, metrics.IngestRefused},
		{"queue down", func() int {
			c.queue.err = errors.New("SQS unavailable")
			defer func() { c.queue.err = nil }()
			return c.post(t, deduplicated, body, nil).Code
		}, http.StatusInternalServerError, metrics.IngestError},
	}
	var want outcomes
	for _, s := range steps {
		if code := s.send(); code != s.status {
			t.Fatalf("%s: status %d, want %d", s.name, code, s.status)
		}
		want = append(want, s.want)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("after %s: counted %v, want %v (one outcome per request)", s.name, got, want)
		}
	}
}

func TestIngestWithoutMetrics(t *testing.T) {
	f := newFixture(t) // Metrics nil
	wantAccepted(t, f.post(t, f.token, []byte(`{}`), nil))
}

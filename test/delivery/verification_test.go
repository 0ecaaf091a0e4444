package delivery_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"net/http"
	"strconv"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/hooksentry/hooksentry/pkg/testkit"
)

// Each provider's signer, written from its documentation, as the sender
// of a webhook computes it: sign(secret, body, at) returns the headers.
type signer func(t *testing.T, secret string, body []byte, at time.Time) http.Header

func mac(h func() hash.Hash, key, msg []byte) []byte {
	m := hmac.New(h, key)
	m.Write(msg)
	return m.Sum(nil)
}

var (
	// Stripe: "Verify webhook signatures manually": t=<unix>,v1=<hex HMAC-SHA256 of "{t}.{body}">.
	signStripe signer = func(_ *testing.T, secret string, body []byte, at time.Time) http.Header {
		ts := strconv.FormatInt(at.Unix(), 10)
		sig := hex.EncodeToString(mac(sha256.New, []byte(secret), []byte(ts+"."+string(body))))
		return http.Header{"Stripe-Signature": {"t=" + ts + ",v1=" + sig}}
	}
	// GitHub: "Validating webhook deliveries": sha256=<hex HMAC-SHA256 of the body>.
	signGitHub signer = func(_ *testing.T, secret string, body []byte, _ time.Time) http.Header {
		return http.Header{"X-Hub-Signature-256": {"sha256=" + hex.EncodeToString(mac(sha256.New, []byte(secret), body))}}
	}
	// Shopify: "Verify a webhook": base64 HMAC-SHA256 of the body.
	signShopify signer = func(_ *testing.T, secret string, body []byte, _ time.Time) http.Header {
		return http.Header{"X-Shopify-Hmac-Sha256": {base64.StdEncoding.EncodeToString(mac(sha256.New, []byte(secret), body))}}
	}
	// Slack: "Verifying requests from Slack": v0=<hex HMAC-SHA256 of "v0:{timestamp}:{body}">.
	signSlack signer = func(_ *testing.T, secret string, body []byte, at time.Time) http.Header {
		ts := strconv.FormatInt(at.Unix(), 10)
		sig := hex.EncodeToString(mac(sha256.New, []byte(secret), []byte("v0:"+ts+":"+string(body))))
		return http.Header{"X-Slack-Request-Timestamp": {ts}, "X-Slack-Signature": {"v0=" + sig}}
	}
	// Standard Webhooks: signed by the specification's own library.
	signStandard = func(prefix string) signer {
		return func(t *testing.T, secret string, body []byte, at time.Time) http.Header {
			wh, err := standardwebhooks.NewWebhook(secret)
			if err != nil {
				t.Fatal(err)
			}
			id := fmt.Sprintf("msg_%d", at.UnixNano())
			sig, err := wh.Sign(id, at, body)
			if err != nil {
				t.Fatal(err)
			}
			return http.Header{prefix + "-Id": {id}, prefix + "-Timestamp": {strconv.FormatInt(at.Unix(), 10)}, prefix + "-Signature": {sig}}
		}
	}
	// A generic HMAC sender: X-Signature: sha512=<base64 HMAC-SHA512 of the body>.
	signHmac signer = func(_ *testing.T, secret string, body []byte, _ time.Time) http.Header {
		return http.Header{"X-Signature": {"sha512=" + base64.StdEncoding.EncodeToString(mac(sha512.New, []byte(secret), body))}}
	}
)

// TestInboundVerification: per scheme, a correctly signed request is
// accepted and delivered with HookSentry-Verified and the sender's own
// signature headers untouched; a wrong secret, a tampered body or a stale
// timestamp is refused with 401, and nothing of it is stored or delivered.
func TestInboundVerification(t *testing.T) {
	const swSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	schemes := []struct {
		name         string
		verification map[string]any
		secret       string
		sign         signer
		timestamped  bool
	}{
		{"Stripe", map[string]any{"type": "Stripe"}, "whsec_stripe_test_5ecret", signStripe, true},
		{"GitHub", map[string]any{"type": "github"}, "It's a Secret to Everybody", signGitHub, false},
		{"Shopify", map[string]any{"type": "Shopify"}, "shpss_client_secret", signShopify, false},
		{"Slack", map[string]any{"type": "Slack"}, "8f742231b10e8888abcd99yyyzzz85a5", signSlack, true},
		{"StandardWebhooks", map[string]any{"type": "StandardWebhooks"}, swSecret, signStandard("Webhook"), true},
		{"StandardWebhooks (svix-*)", map[string]any{"type": "StandardWebhooks"}, swSecret, signStandard("Svix"), true},
		{"Hmac", map[string]any{"type": "Hmac", "header": "X-Signature", "algorithm": "sha512", "encoding": "base64", "prefix": "sha512="}, "generic-5ecret", signHmac, false},
	}
	c := newTenant(t)
	anon := &testkit.Client{BaseURL: stack.URL}
	for _, sc := range schemes {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			rcv := testkit.NewReceiver(t, ca)
			verification := map[string]any{"secret": sc.secret}
			for k, v := range sc.verification {
				verification[k] = v
			}
			d := createDestination(t, c, map[string]any{"url": rcv.URL + "/in", "verification": verification})
			wantType, _ := sc.verification["type"].(string)
			if wantType == "github" {
				wantType = "GitHub"
			}
			resp := c.Do(t, http.MethodGet, "/api/v1/destinations/"+d.ID, nil, nil)
			var view map[string]any
			resp.JSON(t, &view)
			if got, ok := view["verification"].(map[string]any); !ok || len(got) != 1 || got["type"] != wantType {
				t.Errorf("GET verification = %v, want {\"type\": %q} and nothing else", view["verification"], wantType)
			}

			body := []byte(`{"scheme":"` + sc.name + `","n":1}`)
			now := time.Now()
			wrongSecret := "not-" + sc.secret
			if wantType == "StandardWebhooks" {
				wrongSecret = "whsec_" + base64.StdEncoding.EncodeToString([]byte("another key of 32 bytes, exactly"))
			}
			refused := []struct {
				name   string
				body   []byte
				header http.Header
			}{
				{"wrong secret", body, sc.sign(t, wrongSecret, body, now)},
				{"tampered body", []byte(`{"scheme":"` + sc.name + `","n":2}`), sc.sign(t, sc.secret, body, now)},
				{"no signature", body, http.Header{}},
			}
			if sc.timestamped {
				refused = append(refused, struct {
					name   string
					body   []byte
					header http.Header
				}{"stale timestamp", body, sc.sign(t, sc.secret, body, now.Add(-6*time.Minute))})
			}
			for _, r := range refused {
				resp := anon.Do(t, http.MethodPost, "/ingest/"+d.IngestToken, r.body, r.header)
				if resp.Status != http.StatusUnauthorized || resp.Header.Get("Content-Type") != "application/problem+json" {
					t.Errorf("%s: got %d %s %s, want 401 problem+json", r.name, resp.Status, resp.Header.Get("Content-Type"), resp.Body)
				}
			}

			signed := sc.sign(t, sc.secret, body, now)
			signed.Set("Content-Type", "application/json")
			id := ingest(t, d.IngestToken, body, signed)
			var got []testkit.Request
			testkit.WaitFor(t, 20*time.Second, "delivery of "+id, func() bool {
				got = byEventID(rcv.Requests())[id]
				return len(got) > 0
			})
			r := got[0]
			if v := r.Header.Get("HookSentry-Verified"); v != wantType {
				t.Errorf("HookSentry-Verified = %q, want %q", v, wantType)
			}
			if string(r.Body) != string(body) {
				t.Errorf("body = %q, want %q", r.Body, body)
			}
			for name, values := range signed {
				if name == "Content-Type" {
					continue
				}
				if gotValues := r.Header.Values(name); fmt.Sprint(gotValues) != fmt.Sprint(values) {
					t.Errorf("sender header %s arrived as %q, want %q untouched", name, gotValues, values)
				}
			}
			if sc.name == "StandardWebhooks" {
				// The sender's signature still verifies at the destination.
				wh, _ := standardwebhooks.NewWebhook(sc.secret)
				if err := wh.Verify(r.Body, r.Header); err != nil {
					t.Errorf("the sender's Standard Webhooks signature does not verify at the destination: %v", err)
				}
			}

			// Nothing of the refused requests was stored: the history of
			// the destination holds the one accepted event only.
			var page struct {
				Total int `json:"total"`
			}
			testkit.WaitFor(t, 10*time.Second, "history of "+id, func() bool {
				c.Do(t, http.MethodGet, "/api/v1/destinations/"+d.ID+"/events", nil, nil).JSON(t, &page)
				return page.Total >= 1
			})
			if page.Total != 1 {
				t.Errorf("history holds %d events, want the 1 accepted", page.Total)
			}
			if n := len(rcv.Requests()); n != len(got) {
				t.Errorf("the destination received %d requests, want only those of %s (%d)", n, id, len(got))
			}
		})
	}
}

// TestDeduplication: the same key twice within the window is one
// delivery; the second answer carries the first event's id and
// "duplicate": true. A request without the key is accepted normally.
func TestDeduplication(t *testing.T) {
	c := newTenant(t)
	rcv := testkit.NewReceiver(t, ca)
	d := createDestination(t, c, map[string]any{
		"url":           rcv.URL + "/dedup",
		"deduplication": map[string]any{"key": "header:Idempotency-Key", "window": "10m"},
	})
	resp := c.Do(t, http.MethodGet, "/api/v1/destinations/"+d.ID, nil, nil)
	var view map[string]any
	resp.JSON(t, &view)
	if got, _ := view["deduplication"].(map[string]any); got["key"] != "header:Idempotency-Key" || got["window"] != "10m" {
		t.Errorf("GET deduplication = %v, want key header:Idempotency-Key and window 10m", view["deduplication"])
	}

	anon := &testkit.Client{BaseURL: stack.URL}
	post := func(body string, header http.Header) (string, bool) {
		t.Helper()
		resp := anon.Do(t, http.MethodPost, "/ingest/"+d.IngestToken, []byte(body), header)
		var a struct {
			EventID   string `json:"eventId"`
			Duplicate bool   `json:"duplicate"`
		}
		resp.JSON(t, &a)
		if resp.Status != http.StatusAccepted || a.EventID == "" {
			t.Fatalf("ingest: got %d %s, want 202", resp.Status, resp.Body)
		}
		return a.EventID, a.Duplicate
	}
	key := http.Header{"Idempotency-Key": {"order-1001"}}
	first, dup1 := post(`{"n":1}`, key)
	second, dup2 := post(`{"n":2}`, key)
	if dup1 || !dup2 || second != first {
		t.Fatalf("answers (%s, duplicate %v) then (%s, duplicate %v): want a new event, then its id with duplicate true", first, dup1, second, dup2)
	}
	without, dup3 := post(`{"n":3}`, nil)
	if dup3 || without == first {
		t.Errorf("a request without the key: got (%s, duplicate %v), want a new event", without, dup3)
	}
	testkit.WaitFor(t, 20*time.Second, "both deliveries", func() bool {
		ids := byEventID(rcv.Requests())
		return len(ids[first]) > 0 && len(ids[without]) > 0
	})
	var page struct {
		Total int `json:"total"`
	}
	testkit.WaitFor(t, 10*time.Second, "history", func() bool {
		c.Do(t, http.MethodGet, "/api/v1/destinations/"+d.ID+"/events", nil, nil).JSON(t, &page)
		return page.Total >= 2
	})
	if page.Total != 2 {
		t.Errorf("history holds %d events, want 2 (the duplicate is not an event)", page.Total)
	}
	for _, r := range rcv.Requests() {
		if string(r.Body) == `{"n":2}` {
			t.Errorf("the duplicate was delivered")
		}
	}

	// Removing deduplication (null) accepts the key again as a new event.
	resp = c.Do(t, http.MethodPatch, "/api/v1/destinations/"+d.ID, map[string]any{"deduplication": nil}, nil)
	if resp.Status != http.StatusOK {
		t.Fatalf("PATCH deduplication null: got %d %s", resp.Status, resp.Body)
	}
	if again, dup := post(`{"n":4}`, key); dup || again == first {
		t.Errorf("after removing deduplication: got (%s, duplicate %v), want a new event", again, dup)
	}
}

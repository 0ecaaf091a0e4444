package delivery_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hooksentry/hooksentry/pkg/testkit"
)

func TestDeliveryCarriesBodyHeadersAndAuth(t *testing.T) {
	c := newTenant(t)
	rcv := testkit.NewReceiver(t, ca)
	var tokenCalls atomic.Int32
	rcv.SetRespond(func(w http.ResponseWriter, r *http.Request, _ int) {
		if r.URL.Path == "/token" {
			tokenCalls.Add(1)
			_ = r.ParseForm()
			if r.Form.Get("grant_type") != "client_credentials" || r.Form.Get("client_id") != "cid" || r.Form.Get("client_secret") != "csecret" || r.Form.Get("scope") != "hooks.write" {
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"access_token":"at-123","token_type":"Bearer","expires_in":3600}`)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	tests := []struct {
		authType    string
		credentials map[string]any
		header      string
		want        string
	}{
		{"", nil, "Authorization", ""},
		{"ApiKey", map[string]any{"headerName": "X-Api-Key", "value": "k-1"}, "X-Api-Key", "k-1"},
		{"BearerToken", map[string]any{"token": "tok-2"}, "Authorization", "Bearer tok-2"},
		{"BasicAuth", map[string]any{"username": "u", "password": "p:w"}, "Authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte("u:p:w"))},
		{"JwtBearer", map[string]any{"tokenEndpoint": rcv.URL + "/token", "clientId": "cid", "clientSecret": "csecret", "scope": "hooks.write"}, "Authorization", "Bearer at-123"},
	}
	for _, tt := range tests {
		t.Run("auth="+tt.authType, func(t *testing.T) {
			path := "/hook-" + tt.authType
			body := map[string]any{"url": rcv.URL + path}
			if tt.authType != "" {
				body["authType"], body["credentials"] = tt.authType, tt.credentials
			}
			d := createDestination(t, c, body)
			payload := []byte(`{"type":"invoice.paid","data":{"id":"in_1","amount":4200}}`)
			hdr := http.Header{
				"Content-Type":     {"application/vnd.stripe+json; charset=utf-8"},
				"Stripe-Signature": {"t=1,v1=a,v1=b"},
				"X-Multi":          {"one", "two"},
				"X-Forwarded-For":  {"10.0.0.1"},
				"Cookie":           {"session=secret"},
				"X-Api-Key":        {"sender-key"},
				// A sender cannot forge HookSentry's namespace, in any case.
				"HookSentry-Verified": {"true"},
				"hooksentry-event-id": {"forged"},
			}
			for k, v := range standardWebhooks {
				hdr[k] = v
			}
			const n = 5
			ids := map[string]bool{}
			for range n {
				ids[ingest(t, d.IngestToken, payload, hdr)] = true
			}
			var got []testkit.Request
			testkit.WaitFor(t, 20*time.Second, "deliveries", func() bool {
				got = nil
				for _, r := range rcv.Requests() {
					if r.Path == path {
						got = append(got, r)
					}
				}
				return len(got) >= n
			})
			for _, r := range got {
				if id := r.Header.Values("HookSentry-Event-Id"); len(id) != 1 || !ids[id[0]] {
					t.Errorf("HookSentry-Event-Id %q is not one of the accepted event ids", id)
				}
				if got := r.Header.Values("HookSentry-Attempt"); len(got) != 1 || got[0] != "1" {
					t.Errorf("HookSentry-Attempt = %q, want [1]", got)
				}
				if got := r.Header.Values("HookSentry-Verified"); len(got) != 0 {
					t.Errorf("HookSentry-Verified = %q, want none: the sender's is never forwarded", got)
				}
				checkStandardWebhooks(t, r)
				if !bytes.Equal(r.Body, payload) {
					t.Errorf("body = %q, want %q", r.Body, payload)
				}
				if got, want := r.Header.Get("Content-Type"), "application/vnd.stripe+json; charset=utf-8"; got != want {
					t.Errorf("Content-Type = %q, want %q", got, want)
				}
				if got, want := r.Header.Values("Stripe-Signature"), []string{"t=1,v1=a,v1=b"}; len(got) != 1 || got[0] != want[0] {
					t.Errorf("Stripe-Signature = %q, want %q", got, want)
				}
				if got := r.Header.Values("X-Multi"); len(got) != 1 || got[0] != "one,two" {
					t.Errorf("X-Multi = %q, want [one,two] (API Gateway joins repeats)", got)
				}
				if r.Header.Get("X-Forwarded-For") != "" || r.Header.Get("Cookie") != "" {
					t.Errorf("X-Forwarded-For/Cookie forwarded: %v", r.Header)
				}
				if ts, err := strconv.ParseInt(r.Header.Get("HookSentry-Timestamp"), 10, 64); err != nil || time.Since(time.Unix(ts, 0)) > time.Minute {
					t.Errorf("HookSentry-Timestamp = %q, want recent Unix seconds", r.Header.Get("HookSentry-Timestamp"))
				}
				if got := r.Header.Get(tt.header); got != tt.want {
					t.Errorf("%s = %q, want %q", tt.header, got, tt.want)
				}
				// The destination's ApiKey replaces a sender's header of
				// the same name; otherwise the sender's arrives.
				wantKey := "sender-key"
				if tt.authType == "ApiKey" {
					wantKey = "k-1"
				}
				if got := r.Header.Values("X-Api-Key"); len(got) != 1 || got[0] != wantKey {
					t.Errorf("X-Api-Key = %q, want [%s]", got, wantKey)
				}
			}
		})
	}
	if got := tokenCalls.Load(); got != 1 {
		t.Errorf("token endpoint called %d times for 5 JwtBearer deliveries, want 1", got)
	}
}

// standardWebhooks are a Standard Webhooks sender's headers (and the same
// under Svix's prefix): its signature covers webhook-id and
// webhook-timestamp, so they must arrive exactly as sent.
var standardWebhooks = http.Header{
	"Webhook-Id":        {"msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"},
	"Webhook-Timestamp": {"1674087231"},
	"Webhook-Signature": {"v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4= v1,Ex2qAyKT1ufb3G/Q9i3uRu+F3dZiYr5gyIo4vQHKa9E="},
	"Svix-Id":           {"msg_p5jXN8AQM9LWM0D4loKWxJek"},
	"Svix-Timestamp":    {"1614265330"},
	"Svix-Signature":    {"v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="},
}

func checkStandardWebhooks(t *testing.T, r testkit.Request) {
	t.Helper()
	for name, want := range standardWebhooks {
		if got := r.Header.Values(name); len(got) != 1 || got[0] != want[0] {
			t.Errorf("%s = %q, want %q as the sender sent it", name, got, want)
		}
	}
}

// TestRetriesUntilSuccessWithStableEventID: every attempt carries the same
// HookSentry-Event-Id, its number in HookSentry-Attempt, and the sender's
// headers untouched.
func TestRetriesUntilSuccessWithStableEventID(t *testing.T) {
	c := newTenant(t)
	rcv := testkit.NewReceiver(t, ca)
	rcv.SetRespond(func(w http.ResponseWriter, _ *http.Request, n int) {
		if n <= 2 {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	d := createDestination(t, c, map[string]any{"url": rcv.URL + "/flaky"})
	hdr := http.Header{"Content-Type": {"text/plain"}}
	for k, v := range standardWebhooks {
		hdr[k] = v
	}
	id := ingest(t, d.IngestToken, []byte("hello"), hdr)
	testkit.WaitFor(t, 20*time.Second, "third attempt", func() bool { return len(rcv.Requests()) >= 3 })
	time.Sleep(500 * time.Millisecond) // a fourth attempt would show up by now
	reqs := rcv.Requests()
	if len(reqs) != 3 {
		t.Fatalf("receiver saw %d attempts, want 3 (fail, fail, succeed)", len(reqs))
	}
	for i, r := range reqs {
		if got := r.Header.Values("HookSentry-Event-Id"); len(got) != 1 || got[0] != id {
			t.Errorf("attempt %d HookSentry-Event-Id = %q, want [%s]", i+1, got, id)
		}
		if got, want := r.Header.Values("HookSentry-Attempt"), strconv.Itoa(i+1); len(got) != 1 || got[0] != want {
			t.Errorf("attempt %d HookSentry-Attempt = %q, want [%s]", i+1, got, want)
		}
		checkStandardWebhooks(t, r)
	}
	if gap := reqs[1].At.Sub(reqs[0].At); gap < 50*time.Millisecond {
		t.Errorf("second attempt %s after the first, want a backoff of at least 50ms", gap)
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	c := newTenant(t)
	rcv := testkit.NewReceiver(t, ca)
	rcv.SetRespond(func(w http.ResponseWriter, _ *http.Request, n int) {
		if n == 1 {
			w.Header().Set("Retry-After", "2")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	d := createDestination(t, c, map[string]any{"url": rcv.URL + "/busy"})
	ingest(t, d.IngestToken, []byte("x"), nil)
	testkit.WaitFor(t, 20*time.Second, "retry", func() bool { return len(rcv.Requests()) >= 2 })
	reqs := rcv.Requests()
	if gap := reqs[1].At.Sub(reqs[0].At); gap < 1900*time.Millisecond {
		t.Errorf("retried after %s, want at least the 2s Retry-After (backoff alone is 400ms max)", gap)
	}
}

func TestConcurrencyNeverExceedsServerRateLimit(t *testing.T) {
	c := newTenant(t)
	rcv := testkit.NewReceiver(t, ca)
	rcv.SetRespond(func(w http.ResponseWriter, _ *http.Request, _ int) {
		time.Sleep(150 * time.Millisecond)
		w.WriteHeader(http.StatusOK)
	})
	d := createDestination(t, c, map[string]any{"url": rcv.URL + "/slow", "serverRateLimit": 3})
	const n = 60
	for i := range n {
		ingest(t, d.IngestToken, []byte(fmt.Sprintf(`{"n":%d}`, i)), nil)
	}
	testkit.WaitFor(t, 60*time.Second, "all deliveries", func() bool { return len(byEventID(rcv.Requests())) >= n })
	if got := rcv.MaxInFlight(); got > 3 {
		t.Fatalf("receiver saw %d concurrent requests, want at most serverRateLimit 3", got)
	}
	at3, busy := rcv.TimeAt(3)
	t.Logf("time at 3 in flight: %s of %s busy (%.0f%%)", at3, busy, 100*at3.Seconds()/busy.Seconds())
	if at3 < busy/2 {
		t.Errorf("3 requests were in flight %s of %s busy time, want most of it", at3, busy)
	}
}

func TestCircuitBreakerSuspendsAndRecovers(t *testing.T) {
	c := newTenant(t)
	rcv := testkit.NewReceiver(t, ca)
	var healthy atomic.Bool
	var mu sync.Mutex
	delivered := map[string]bool{} // answered 2xx
	rcv.SetRespond(func(w http.ResponseWriter, r *http.Request, _ int) {
		if healthy.Load() {
			mu.Lock()
			delivered[r.Header.Get("HookSentry-Event-Id")] = true
			mu.Unlock()
			w.WriteHeader(http.StatusOK)
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	d := createDestination(t, c, map[string]any{"url": rcv.URL + "/down", "serverRateLimit": 2})
	accepted := map[string]bool{}
	for i := range 8 {
		accepted[ingest(t, d.IngestToken, []byte(fmt.Sprint(i)), nil)] = true
	}
	testkit.WaitFor(t, 20*time.Second, "Suspended", func() bool { return status(t, c, d.ID) == "Suspended" })
	// While suspended, held events wait: more arrive and are accepted.
	for i := range 4 {
		accepted[ingest(t, d.IngestToken, []byte(fmt.Sprint("late", i)), nil)] = true
	}
	healthy.Store(true)
	testkit.WaitFor(t, 30*time.Second, "Active again", func() bool { return status(t, c, d.ID) == "Active" })
	testkit.WaitFor(t, 30*time.Second, "every accepted event delivered with a 2xx", func() bool {
		mu.Lock()
		defer mu.Unlock()
		for id := range accepted {
			if !delivered[id] {
				return false
			}
		}
		return true
	})
}

func TestInactiveDestinationHoldsEventsUntilReactivated(t *testing.T) {
	c := newTenant(t)
	rcv := testkit.NewReceiver(t, ca)
	d := createDestination(t, c, map[string]any{"url": rcv.URL + "/paused"})
	if resp := c.Do(t, http.MethodPatch, "/api/v1/destinations/"+d.ID, map[string]any{"status": "inactive"}, nil); resp.Status != http.StatusOK {
		t.Fatalf("patch inactive: %d %s", resp.Status, resp.Body)
	}
	accepted := map[string]bool{}
	for i := range 5 {
		accepted[ingest(t, d.IngestToken, []byte(fmt.Sprint(i)), nil)] = true
	}
	time.Sleep(1500 * time.Millisecond)
	if got := len(rcv.Requests()); got != 0 {
		t.Fatalf("inactive destination received %d requests, want 0", got)
	}
	if resp := c.Do(t, http.MethodPatch, "/api/v1/destinations/"+d.ID, map[string]any{"status": "active"}, nil); resp.Status != http.StatusOK {
		t.Fatalf("patch active: %d %s", resp.Status, resp.Body)
	}
	testkit.WaitFor(t, 20*time.Second, "held events delivered", func() bool {
		got := byEventID(rcv.Requests())
		for id := range accepted {
			if len(got[id]) == 0 {
				return false
			}
		}
		return true
	})
}

func TestLargeEventIsStoredAndDeliveredIntact(t *testing.T) {
	c := newTenant(t)
	rcv := testkit.NewReceiver(t, ca)
	d := createDestination(t, c, map[string]any{"url": rcv.URL + "/large"})
	body := bytes.Repeat([]byte("0123456789abcdef"), 250<<10/16) // 250 KiB: too big for one SQS message once encoded
	hdr := http.Header{"Content-Type": {"application/octet-stream"}}
	for k, v := range standardWebhooks {
		hdr[k] = v
	}
	id := ingest(t, d.IngestToken, body, hdr)
	testkit.WaitFor(t, 20*time.Second, "large delivery", func() bool { return len(rcv.Requests()) >= 1 })
	r := rcv.Requests()[0]
	checkStandardWebhooks(t, r) // the headers are stored with the body
	if r.Header.Get("HookSentry-Event-Id") != id || !bytes.Equal(r.Body, body) {
		t.Errorf("large event arrived as %d bytes with id %q, want %d bytes with id %q", len(r.Body), r.Header.Get("HookSentry-Event-Id"), len(body), id)
	}
}

func TestIngestRejections(t *testing.T) {
	c := newTenant(t)
	rcv := testkit.NewReceiver(t, ca)
	d := createDestination(t, c, map[string]any{"url": rcv.URL + "/x"})
	anon := &testkit.Client{BaseURL: stack.URL}
	resp := c.Do(t, http.MethodPost, "/api/v1/destinations/"+d.ID+"/ingest-token", nil, nil)
	var regen struct {
		IngestToken string `json:"ingestToken"`
	}
	resp.JSON(t, &regen)
	tests := []struct {
		name  string
		token string
		body  []byte
		want  int
	}{
		{"replaced token", d.IngestToken, []byte("x"), http.StatusUnauthorized},
		{"unknown token", "dst_00000000000000000000000000000000", []byte("x"), http.StatusUnauthorized},
		{"malformed token", "not-a-token", []byte("x"), http.StatusUnauthorized},
		{"too large", regen.IngestToken, bytes.Repeat([]byte("a"), 256<<10+1), http.StatusRequestEntityTooLarge},
		{"exactly the limit", regen.IngestToken, bytes.Repeat([]byte("a"), 256<<10), http.StatusAccepted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := anon.Do(t, http.MethodPost, "/ingest/"+tt.token, tt.body, nil)
			if resp.Status != tt.want {
				t.Fatalf("got %d %s, want %d", resp.Status, resp.Body, tt.want)
			}
			if tt.want >= 400 {
				var p map[string]any
				resp.JSON(t, &p)
				if resp.Header.Get("Content-Type") != "application/problem+json" || p["status"] != float64(tt.want) || p["title"] == nil || p["detail"] == nil {
					t.Errorf("got %s %s, want a problem+json body", resp.Header.Get("Content-Type"), resp.Body)
				}
			}
		})
	}
}

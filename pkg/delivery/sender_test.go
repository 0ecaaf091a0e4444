package delivery_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hooksentry/hooksentry/pkg/delivery"
	"github.com/hooksentry/hooksentry/pkg/destination"
	"github.com/hooksentry/hooksentry/pkg/event"
	"github.com/hooksentry/hooksentry/pkg/testkit"
)

// senderFixture is a Sender in local mode (the receivers are on
// loopback) with an injected clock, one destination receiver and one token
// endpoint, all trusting one test CA.
type senderFixture struct {
	ca     *testkit.CA
	sender *delivery.Sender
	dest   *testkit.Receiver
	tokens *tokenEndpoint
	clock  *fakeClock
}

func newSenderFixture(t *testing.T) *senderFixture {
	t.Helper()
	ca := testkit.NewCA(t, t.TempDir())
	client := newClient(t, ca, true)
	clock := newClock(time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC))
	return &senderFixture{
		ca:     ca,
		sender: &delivery.Sender{Client: client, Tokens: &delivery.TokenCache{Client: client}, Timeout: 5 * time.Second, Now: clock.Now},
		dest:   testkit.NewReceiver(t, ca),
		tokens: newTokenEndpoint(t, ca),
		clock:  clock,
	}
}

func (f *senderFixture) destination(at destination.AuthType) destination.Destination {
	return destination.Destination{ID: "dest-1", TenantID: "tenant-1", URL: f.dest.URL + "/hook", Status: destination.Active, ServerRateLimit: 5, AuthType: at}
}

const clientSecret = "cs-7f3a9d1e-very-secret"

func (f *senderFixture) jwtCredentials() destination.Credentials {
	return destination.Credentials{TokenEndpoint: f.tokens.URL, ClientID: "client-1", ClientSecret: clientSecret, Scope: "deliveries:write audit"}
}

func message() event.Message {
	return event.Message{Version: 1, EventID: "evt-1", DestinationID: "dest-1", TenantID: "tenant-1", ReceivedAt: 1, ContentType: "application/json", Body: []byte(`{"ok":true}`)}
}

// lastRequest returns the only request the receiver saw.
func onlyRequest(t *testing.T, r *testkit.Receiver) testkit.Request {
	t.Helper()
	reqs := r.Requests()
	if len(reqs) != 1 {
		t.Fatalf("receiver saw %d requests, want 1", len(reqs))
	}
	return reqs[0]
}

func TestSenderAuthHeaders(t *testing.T) {
	f := newSenderFixture(t)
	basic := base64.StdEncoding.EncodeToString([]byte("user-1:p@ss:w0rd"))
	for _, tc := range []struct {
		name     string
		authType destination.AuthType
		creds    destination.Credentials
		header   string
		want     string
	}{
		{"none", destination.AuthNone, destination.Credentials{}, "Authorization", ""},
		{"ApiKey", destination.AuthAPIKey, destination.Credentials{HeaderName: "X-Api-Key", Value: "key-123"}, "X-Api-Key", "key-123"},
		{"ApiKey in a non-canonical header", destination.AuthAPIKey, destination.Credentials{HeaderName: "x-partner-token", Value: "k,with,commas"}, "X-Partner-Token", "k,with,commas"},
		{"BearerToken", destination.AuthBearerToken, destination.Credentials{Token: "my-secret-token"}, "Authorization", "Bearer my-secret-token"},
		{"BasicAuth", destination.AuthBasic, destination.Credentials{Username: "user-1", Password: "p@ss:w0rd"}, "Authorization", "Basic " + basic},
		{"JwtBearer", destination.AuthJwtBearer, f.jwtCredentials(), "Authorization", "Bearer tok-1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(f.dest.Requests())
			res := f.sender.Attempt(context.Background(), f.destination(tc.authType), tc.creds, message())
			if !res.OK() || res.Status != http.StatusOK {
				t.Fatalf("Attempt: got %+v, want 200", res)
			}
			reqs := f.dest.Requests()
			if len(reqs) != before+1 {
				t.Fatalf("receiver saw %d new requests, want 1", len(reqs)-before)
			}
			got := reqs[len(reqs)-1].Header.Values(tc.header)
			var want []string
			if tc.want != "" {
				want = []string{tc.want}
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s: got %q, want %q", tc.header, got, want)
			}
			if tc.authType != destination.AuthBearerToken && tc.authType != destination.AuthBasic && tc.authType != destination.AuthJwtBearer {
				if a := reqs[len(reqs)-1].Header.Get("Authorization"); a != "" {
					t.Errorf("Authorization: got %q, want none", a)
				}
			}
		})
	}
	form := f.tokens.form(t, 0)
	for k, want := range map[string]string{"grant_type": "client_credentials", "client_id": "client-1", "client_secret": clientSecret, "scope": "deliveries:write audit"} {
		if got := form.Get(k); got != want {
			t.Errorf("token request %s: got %q, want %q", k, got, want)
		}
	}
}

func TestSenderSendsMessageExactly(t *testing.T) {
	f := newSenderFixture(t)
	sig := "t=1492774577,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd,v0=6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39"
	m := event.Message{
		Version: 1, EventID: "0b7e4f3c-5a2d-4d8e-9f1a-2c3b4d5e6f70", DestinationID: "dest-1", TenantID: "tenant-1",
		ContentType: "application/vnd.acme+json; charset=utf-8",
		Headers: [][2]string{
			{"Stripe-Signature", sig},
			{"X-Repeated", "first, with comma"},
			{"X-Repeated", "second"},
			{"x-lower-case", "  padded value  "},
			{"User-Agent", "Stripe/1.0 (+https://stripe.com/docs/webhooks)"},
			{"svix-id", "msg_p5jXN8AQM9LWM0D4loKWxJek"},
			{"webhook-id", "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"},
			{"webhook-signature", "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4= v1,Ex2qAyKT1ufb3G/Q9i3uRu+F3dZiYr5gyIo4vQHKa9E="},
			{"webhook-timestamp", "1674087231"},
		},
		Body: []byte("{\"id\":\"evt_1\"}\r\n\x00\xff binary tail"),
	}
	res := f.sender.Attempt(context.Background(), f.destination(destination.AuthNone), destination.Credentials{}, m)
	if !res.OK() {
		t.Fatalf("Attempt: got %+v, want success", res)
	}
	got := onlyRequest(t, f.dest)
	if got.Path != "/hook" {
		t.Errorf("path: got %q, want /hook", got.Path)
	}
	if string(got.Body) != string(m.Body) {
		t.Errorf("body: got %q, want %q", got.Body, m.Body)
	}
	for _, tc := range []struct {
		name string
		want []string
	}{
		{"Stripe-Signature", []string{sig}},
		{"X-Repeated", []string{"first, with comma", "second"}},
		{"X-Lower-Case", []string{"padded value"}}, // HTTP itself trims surrounding whitespace
		{"Content-Type", []string{m.ContentType}},
		{"User-Agent", []string{"Stripe/1.0 (+https://stripe.com/docs/webhooks)"}},
		// A Standard Webhooks sender's headers arrive as it signed them.
		{"Webhook-Id", []string{"msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"}},
		{"Webhook-Timestamp", []string{"1674087231"}},
		{"Webhook-Signature", []string{"v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4= v1,Ex2qAyKT1ufb3G/Q9i3uRu+F3dZiYr5gyIo4vQHKa9E="}},
		{"Svix-Id", []string{"msg_p5jXN8AQM9LWM0D4loKWxJek"}},
		// HookSentry's own, in its namespace.
		{"HookSentry-Event-Id", []string{m.EventID}},
		{"HookSentry-Timestamp", []string{strconv.FormatInt(f.clock.Now().Unix(), 10)}},
		{"HookSentry-Attempt", []string{"1"}},
		{"Content-Length", []string{strconv.Itoa(len(m.Body))}},
	} {
		if g := got.Header.Values(tc.name); !reflect.DeepEqual(g, tc.want) {
			t.Errorf("%s: got %q, want %q", tc.name, g, tc.want)
		}
	}
}

func TestSenderDefaultUserAgentAndNoContentType(t *testing.T) {
	f := newSenderFixture(t)
	m := message()
	m.ContentType = ""
	if res := f.sender.Attempt(context.Background(), f.destination(destination.AuthNone), destination.Credentials{}, m); !res.OK() {
		t.Fatalf("Attempt: got %+v, want success", res)
	}
	got := onlyRequest(t, f.dest)
	if ua := got.Header.Get("User-Agent"); ua != "HookSentry/1" {
		t.Errorf("User-Agent: got %q, want HookSentry/1", ua)
	}
	if ct := got.Header.Values("Content-Type"); len(ct) != 0 {
		t.Errorf("Content-Type: got %q, want none", ct)
	}
}

// TestSenderEventIDIsStable: every attempt of one event carries the same
// HookSentry-Event-Id, so destinations can deduplicate, and the time of
// that attempt.
func TestSenderEventIDIsStable(t *testing.T) {
	f := newSenderFixture(t)
	f.dest.SetRespond(func(w http.ResponseWriter, _ *http.Request, n int) {
		if n < 3 {
			w.WriteHeader(http.StatusInternalServerError)
		}
	})
	m := message()
	var wantTimes []string
	for range 3 {
		wantTimes = append(wantTimes, strconv.FormatInt(f.clock.Now().Unix(), 10))
		f.sender.Attempt(context.Background(), f.destination(destination.AuthNone), destination.Credentials{}, m)
		f.clock.Advance(time.Minute)
	}
	reqs := f.dest.Requests()
	if len(reqs) != 3 {
		t.Fatalf("receiver saw %d requests, want 3", len(reqs))
	}
	for i, r := range reqs {
		if got := r.Header.Values("HookSentry-Event-Id"); !reflect.DeepEqual(got, []string{m.EventID}) {
			t.Errorf("attempt %d: HookSentry-Event-Id got %q, want [%q]", i+1, got, m.EventID)
		}
		if got := r.Header.Values("HookSentry-Timestamp"); !reflect.DeepEqual(got, []string{wantTimes[i]}) {
			t.Errorf("attempt %d: HookSentry-Timestamp got %q, want [%q]", i+1, got, wantTimes[i])
		}
	}
}

// TestSenderAttemptHeader: HookSentry-Attempt is the attempt's number,
// counting on across retries (Attempts, the failed ones so far) and
// replays (Prior, the attempts before the replay).
func TestSenderAttemptHeader(t *testing.T) {
	f := newSenderFixture(t)
	for _, tc := range []struct {
		name            string
		prior, attempts int
		want            string
	}{
		{"first attempt", 0, 0, "1"},
		{"second attempt", 0, 1, "2"},
		{"third attempt", 0, 2, "3"},
		{"replay of an event delivered at once", 1, 0, "2"},
		{"retry of a replay after three attempts", 3, 1, "5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := message()
			m.Prior, m.Attempts = tc.prior, tc.attempts
			before := len(f.dest.Requests())
			if res := f.sender.Attempt(context.Background(), f.destination(destination.AuthNone), destination.Credentials{}, m); !res.OK() {
				t.Fatalf("Attempt: got %+v, want success", res)
			}
			reqs := f.dest.Requests()
			if len(reqs) != before+1 {
				t.Fatalf("receiver saw %d new requests, want 1", len(reqs)-before)
			}
			if got := reqs[len(reqs)-1].Header.Values("HookSentry-Attempt"); !reflect.DeepEqual(got, []string{tc.want}) {
				t.Errorf("HookSentry-Attempt: got %q, want [%q]", got, tc.want)
			}
		})
	}
}

// TestSenderNeverForwardsReservedHeaders: a message's headers went
// through event.Forwardable at ingest, but events accepted before a rule
// changed (a sender's HookSentry-* headers were forwarded once) are
// replayed for days: the sender filters again.
func TestSenderNeverForwardsReservedHeaders(t *testing.T) {
	f := newSenderFixture(t)
	m := message()
	m.Headers = [][2]string{
		{"Authorization", "Bearer sender-credential"},
		{"Cookie", "session=sender"},
		{"HookSentry-Verified", "true"},
		{"Hooksentry-Attempt", "7"},
		{"X-Amzn-Trace-Id", "Root=1-abc"},
		{"X-Kept", "yes"},
		{"hooksentry-event-id", "forged"},
	}
	if res := f.sender.Attempt(context.Background(), f.destination(destination.AuthNone), destination.Credentials{}, m); !res.OK() {
		t.Fatalf("Attempt: got %+v, want success", res)
	}
	got := onlyRequest(t, f.dest)
	for _, tc := range []struct {
		name string
		want []string
	}{
		{"Authorization", nil},
		{"Cookie", nil},
		{"HookSentry-Verified", nil},
		{"X-Amzn-Trace-Id", nil},
		{"X-Kept", []string{"yes"}},
		{"HookSentry-Event-Id", []string{m.EventID}},
		{"HookSentry-Attempt", []string{"1"}},
	} {
		if g := got.Header.Values(tc.name); !reflect.DeepEqual(g, tc.want) {
			t.Errorf("%s: got %q, want %q", tc.name, g, tc.want)
		}
	}
}

// TestSenderAPIKeyReplacesAForwardedHeader: the destination's configured
// auth wins over a sender's header of the same name, whatever its case:
// the destination authenticates with exactly one value, its own.
func TestSenderAPIKeyReplacesAForwardedHeader(t *testing.T) {
	f := newSenderFixture(t)
	for _, tc := range []struct {
		name      string
		forwarded [][2]string
		header    string
	}{
		{"same spelling", [][2]string{{"X-Api-Key", "sender-key"}}, "X-Api-Key"},
		{"lower-case forwarded name", [][2]string{{"x-api-key", "sender-key"}, {"x-api-key", "another"}}, "X-Api-Key"},
		{"lower-case key name", [][2]string{{"X-Api-Key", "sender-key"}}, "x-api-key"},
		{"a Standard Webhooks header", [][2]string{{"webhook-signature", "v1,abc"}}, "Webhook-Signature"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := message()
			m.Headers = append(tc.forwarded, [2]string{"X-Kept", "yes"})
			before := len(f.dest.Requests())
			creds := destination.Credentials{HeaderName: tc.header, Value: "destination-key"}
			if res := f.sender.Attempt(context.Background(), f.destination(destination.AuthAPIKey), creds, m); !res.OK() {
				t.Fatalf("Attempt: got %+v, want success", res)
			}
			reqs := f.dest.Requests()
			if len(reqs) != before+1 {
				t.Fatalf("receiver saw %d new requests, want 1", len(reqs)-before)
			}
			r := reqs[len(reqs)-1]
			if got, want := r.Header.Values(tc.header), []string{"destination-key"}; !reflect.DeepEqual(got, want) {
				t.Errorf("%s: got %q, want %q", tc.header, got, want)
			}
			if got, want := r.Header.Values("X-Kept"), []string{"yes"}; !reflect.DeepEqual(got, want) {
				t.Errorf("X-Kept: got %q, want %q", got, want)
			}
		})
	}
}

func TestSenderOutcomes(t *testing.T) {
	f := newSenderFixture(t)
	now := f.clock.Now()
	for _, tc := range []struct {
		name           string
		status         int
		retryAfter     string
		wantOK         bool
		wantRetryAfter time.Duration
	}{
		{"200", http.StatusOK, "", true, 0},
		{"201", http.StatusCreated, "", true, 0},
		{"204", http.StatusNoContent, "", true, 0},
		{"299", 299, "", true, 0},
		{"2xx ignores Retry-After", http.StatusAccepted, "60", true, 0},
		{"400", http.StatusBadRequest, "", false, 0},
		{"404", http.StatusNotFound, "", false, 0},
		{"410", http.StatusGone, "", false, 0},
		{"500", http.StatusInternalServerError, "", false, 0},
		{"429 with seconds", http.StatusTooManyRequests, "120", false, 2 * time.Minute},
		{"429 with an HTTP date", http.StatusTooManyRequests, now.Add(90 * time.Second).Format(http.TimeFormat), false, 90 * time.Second},
		{"503 with seconds", http.StatusServiceUnavailable, "30", false, 30 * time.Second},
		{"503 with an HTTP date", http.StatusServiceUnavailable, now.Add(time.Hour).Format(http.TimeFormat), false, time.Hour},
		{"503 with a past date", http.StatusServiceUnavailable, now.Add(-time.Hour).Format(http.TimeFormat), false, 0},
		{"503 with garbage", http.StatusServiceUnavailable, "later", false, 0},
		{"503 asking for a week", http.StatusServiceUnavailable, "604800", false, 24 * time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.dest.SetRespond(func(w http.ResponseWriter, _ *http.Request, _ int) {
				if tc.retryAfter != "" {
					w.Header().Set("Retry-After", tc.retryAfter)
				}
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte("response body"))
			})
			res := f.sender.Attempt(context.Background(), f.destination(destination.AuthNone), destination.Credentials{}, message())
			if res.OK() != tc.wantOK || res.Status != tc.status || (res.Err == nil) != tc.wantOK {
				t.Errorf("Attempt: got OK %v, status %d, err %v; want OK %v, status %d", res.OK(), res.Status, res.Err, tc.wantOK, tc.status)
			}
			if res.RetryAfter != tc.wantRetryAfter {
				t.Errorf("RetryAfter: got %v, want %v", res.RetryAfter, tc.wantRetryAfter)
			}
		})
	}
}

func TestSenderDoesNotFollowRedirects(t *testing.T) {
	for _, status := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			f := newSenderFixture(t)
			target := testkit.NewReceiver(t, f.ca)
			f.dest.SetRespond(func(w http.ResponseWriter, r *http.Request, _ int) {
				http.Redirect(w, r, target.URL+"/elsewhere", status)
			})
			res := f.sender.Attempt(context.Background(), f.destination(destination.AuthNone), destination.Credentials{}, message())
			if res.OK() || res.Status != status || res.Err == nil {
				t.Errorf("Attempt: got %+v, want a failure with status %d", res, status)
			}
			if n := len(f.dest.Requests()); n != 1 {
				t.Errorf("destination saw %d requests, want 1", n)
			}
			if n := len(target.Requests()); n != 0 {
				t.Errorf("redirect target saw %d requests, want 0", n)
			}
		})
	}
}

func TestSenderTimeout(t *testing.T) {
	f := newSenderFixture(t)
	// The handler answers nothing until the test ends: returning when the
	// client gives up would write a 200 that can still reach the client.
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	f.dest.SetRespond(func(http.ResponseWriter, *http.Request, int) { <-release })
	f.sender.Timeout = 100 * time.Millisecond
	res := f.sender.Attempt(context.Background(), f.destination(destination.AuthNone), destination.Credentials{}, message())
	if res.OK() || res.Status != 0 || res.Err == nil {
		t.Fatalf("Attempt against a hanging destination: got %+v, want an error without status", res)
	}
	if !errors.Is(res.Err, context.DeadlineExceeded) {
		t.Errorf("error: got %v, want one wrapping context.DeadlineExceeded", res.Err)
	}
}

// TestSenderErrorOmitsURL: destination URLs may carry secrets in their
// query strings; transport errors must not repeat them into logs.
func TestSenderErrorOmitsURL(t *testing.T) {
	f := newSenderFixture(t)
	d := f.destination(destination.AuthNone)
	d.URL = "https://127.0.0.1:1/hook?api_key=q-secret-123"
	res := f.sender.Attempt(context.Background(), d, destination.Credentials{}, message())
	if res.Err == nil || res.Status != 0 {
		t.Fatalf("Attempt to a closed port: got %+v, want a transport error", res)
	}
	if strings.Contains(res.Err.Error(), "q-secret-123") {
		t.Errorf("error %q contains the URL's secret", res.Err)
	}
}

func TestSenderJwtBearerFetchesTokenOnce(t *testing.T) {
	f := newSenderFixture(t)
	d := f.destination(destination.AuthJwtBearer)
	for i := range 5 {
		if res := f.sender.Attempt(context.Background(), d, f.jwtCredentials(), message()); !res.OK() {
			t.Fatalf("attempt %d: got %+v, want success", i+1, res)
		}
	}
	if got := f.tokens.fetches(); got != 1 {
		t.Errorf("token fetches: got %d, want 1", got)
	}
	for i, r := range f.dest.Requests() {
		if got := r.Header.Get("Authorization"); got != "Bearer tok-1" {
			t.Errorf("request %d: Authorization got %q, want Bearer tok-1", i+1, got)
		}
	}
}

func TestSenderJwtBearerRefetchesOnceOn401(t *testing.T) {
	for _, tc := range []struct {
		name       string
		respond    func(w http.ResponseWriter, n int)
		wantOK     bool
		wantStatus int
		wantAuth   []string
	}{
		{
			"fresh token accepted",
			func(w http.ResponseWriter, n int) {
				if n == 1 {
					w.WriteHeader(http.StatusUnauthorized)
				}
			},
			true, http.StatusOK, []string{"Bearer tok-1", "Bearer tok-2"},
		},
		{
			"fresh token rejected too",
			func(w http.ResponseWriter, _ int) { w.WriteHeader(http.StatusUnauthorized) },
			false, http.StatusUnauthorized, []string{"Bearer tok-1", "Bearer tok-2"},
		},
		{
			"other failures do not refetch",
			func(w http.ResponseWriter, _ int) { w.WriteHeader(http.StatusForbidden) },
			false, http.StatusForbidden, []string{"Bearer tok-1"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newSenderFixture(t)
			f.dest.SetRespond(func(w http.ResponseWriter, _ *http.Request, n int) { tc.respond(w, n) })
			res := f.sender.Attempt(context.Background(), f.destination(destination.AuthJwtBearer), f.jwtCredentials(), message())
			if res.OK() != tc.wantOK || res.Status != tc.wantStatus {
				t.Errorf("Attempt: got %+v, want OK %v, status %d", res, tc.wantOK, tc.wantStatus)
			}
			var auth []string
			for _, r := range f.dest.Requests() {
				auth = append(auth, r.Header.Get("Authorization"))
			}
			if !reflect.DeepEqual(auth, tc.wantAuth) {
				t.Errorf("destination saw Authorization %q, want %q", auth, tc.wantAuth)
			}
			if got, want := f.tokens.fetches(), len(tc.wantAuth); got != want {
				t.Errorf("token fetches: got %d, want %d", got, want)
			}
		})
	}
}

// TestSenderJwtBearerKeepsRefreshedToken: after a 401 forced a new token,
// later attempts use it without fetching again.
func TestSenderJwtBearerKeepsRefreshedToken(t *testing.T) {
	f := newSenderFixture(t)
	f.dest.SetRespond(func(w http.ResponseWriter, r *http.Request, _ int) {
		if r.Header.Get("Authorization") != "Bearer tok-2" {
			w.WriteHeader(http.StatusUnauthorized)
		}
	})
	d := f.destination(destination.AuthJwtBearer)
	for i := range 3 {
		if res := f.sender.Attempt(context.Background(), d, f.jwtCredentials(), message()); !res.OK() {
			t.Fatalf("attempt %d: got %+v, want success", i+1, res)
		}
	}
	if got := f.tokens.fetches(); got != 2 {
		t.Errorf("token fetches: got %d, want 2", got)
	}
	if got := len(f.dest.Requests()); got != 4 {
		t.Errorf("destination requests: got %d, want 4 (one rejected, three accepted)", got)
	}
}

func TestSenderTokenEndpointErrorHidesSecret(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		body   string
	}{
		{"400 echoing the secret", http.StatusBadRequest, `{"error":"invalid_client","error_description":"client_secret ` + clientSecret + ` is wrong for client-1"}`},
		{"401", http.StatusUnauthorized, `{"error":"invalid_client"}`},
		{"500 with an HTML page quoting the request", http.StatusInternalServerError, "<html>client_secret=" + clientSecret + "</html>"},
		{"200 without a token", http.StatusOK, `{"token_type":"Bearer","note":"` + clientSecret + `"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newSenderFixture(t)
			f.tokens.fail(tc.status, tc.body)
			res := f.sender.Attempt(context.Background(), f.destination(destination.AuthJwtBearer), f.jwtCredentials(), message())
			if res.OK() || res.Err == nil {
				t.Fatalf("Attempt: got %+v, want an error", res)
			}
			if msg := res.Err.Error(); strings.Contains(msg, clientSecret) {
				t.Errorf("error %q contains the client secret", msg)
			}
			if n := len(f.dest.Requests()); n != 0 {
				t.Errorf("destination saw %d requests, want 0 without a token", n)
			}
		})
	}
}

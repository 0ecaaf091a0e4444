package delivery_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/hooksentry/hooksentry/pkg/netguard"
	"github.com/hooksentry/hooksentry/pkg/testkit"
)

// newClient returns the guarded outbound client that production uses,
// trusting the test CA. allowPrivate is local mode.
func newClient(t *testing.T, ca *testkit.CA, allowPrivate bool) *http.Client {
	t.Helper()
	c, err := netguard.NewHTTPClient(netguard.ClientOptions{AllowPrivateNetworks: allowPrivate, ExtraCAFile: ca.File})
	if err != nil {
		t.Fatalf("NewHTTPClient: %v", err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// fakeClock is an injected clock that moves only when told.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock(t time.Time) *fakeClock { return &fakeClock{now: t} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// tokenEndpoint is an OAuth 2.0 token endpoint on a test receiver. It
// answers the n-th request with the access token "tok-n", or with status
// and body when status is set.
type tokenEndpoint struct {
	*testkit.Receiver
	URL string

	mu        sync.Mutex
	status    int
	body      string
	expiresIn int // seconds; 0 leaves expires_in out
}

func newTokenEndpoint(t *testing.T, ca *testkit.CA) *tokenEndpoint {
	t.Helper()
	te := &tokenEndpoint{Receiver: testkit.NewReceiver(t, ca), expiresIn: 3600}
	te.URL = te.Receiver.URL + "/oauth/token"
	te.SetRespond(func(w http.ResponseWriter, r *http.Request, n int) {
		te.mu.Lock()
		status, body, expiresIn := te.status, te.body, te.expiresIn
		te.mu.Unlock()
		if status != 0 {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = w.Write([]byte(body))
			return
		}
		tok := map[string]any{"access_token": fmt.Sprintf("tok-%d", n), "token_type": "Bearer"}
		if expiresIn > 0 {
			tok["expires_in"] = expiresIn
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(tok)
	})
	return te
}

// fail makes the endpoint answer every request with status and body.
func (te *tokenEndpoint) fail(status int, body string) {
	te.mu.Lock()
	defer te.mu.Unlock()
	te.status, te.body = status, body
}

func (te *tokenEndpoint) setExpiresIn(secs int) {
	te.mu.Lock()
	defer te.mu.Unlock()
	te.expiresIn = secs
}

// fetches counts the token requests the endpoint received.
func (te *tokenEndpoint) fetches() int { return len(te.Requests()) }

// form decodes the n-th (from 0) token request's form body.
func (te *tokenEndpoint) form(t *testing.T, n int) url.Values {
	t.Helper()
	reqs := te.Requests()
	if n >= len(reqs) {
		t.Fatalf("token request %d: only %d received", n, len(reqs))
	}
	v, err := url.ParseQuery(string(reqs[n].Body))
	if err != nil {
		t.Fatalf("token request %d: %v", n, err)
	}
	return v
}

func portOf(t *testing.T, rawURL string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Port()
}

package delivery_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hooksentry/hooksentry/pkg/delivery"
	"github.com/hooksentry/hooksentry/pkg/destination"
	"github.com/hooksentry/hooksentry/pkg/netguard"
	"github.com/hooksentry/hooksentry/pkg/testkit"
)

// ssrfTarget is an HTTPS server that answers token requests on /token and
// 200 elsewhere, and counts every request it receives.
type ssrfTarget struct {
	URL  string
	hits atomic.Int64
}

func (s *ssrfTarget) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.hits.Add(1)
	if r.URL.Path == "/token" {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "tok", "token_type": "Bearer", "expires_in": 3600})
	}
}

// newSSRFTarget listens on addr (127.0.0.1:0 or [::1]:0). ok is false when
// the address family is not available on this machine.
func newSSRFTarget(t *testing.T, ca *testkit.CA, addr string) (target *ssrfTarget, ok bool) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, false
	}
	target = &ssrfTarget{}
	srv := httptest.NewUnstartedServer(target)
	srv.Listener = ln
	srv.TLS = ca.ServerConfig(t)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	target.URL = srv.URL
	return target, true
}

type ssrfCase struct {
	name   string
	target *ssrfTarget
	d      destination.Destination
	creds  destination.Credentials
}

// ssrfCases are deliveries to a running receiver through loopback
// spellings that the guard must refuse: the IPv4 literal, a name that
// resolves to 127.0.0.1, the IPv4-mapped IPv6 literal, the IPv6 loopback
// (when the machine has one), and a JwtBearer destination whose token
// endpoint is on loopback.
func ssrfCases(t *testing.T, ca *testkit.CA) []ssrfCase {
	t.Helper()
	v4, _ := newSSRFTarget(t, ca, "127.0.0.1:0")
	port := portOf(t, v4.URL)
	dest := func(rawURL string) destination.Destination {
		return destination.Destination{ID: "dest-ssrf", TenantID: "tenant-1", URL: rawURL, Status: destination.Active, ServerRateLimit: 1}
	}
	cases := []ssrfCase{
		{"IPv4 loopback literal", v4, dest("https://127.0.0.1:" + port + "/hook"), destination.Credentials{}},
		{"name resolving to 127.0.0.1", v4, dest("https://localhost:" + port + "/hook"), destination.Credentials{}},
		{"IPv4-mapped IPv6 literal", v4, dest("https://[::ffff:127.0.0.1]:" + port + "/hook"), destination.Credentials{}},
	}
	jwt := dest("https://127.0.0.1:" + port + "/hook")
	jwt.AuthType = destination.AuthJwtBearer
	cases = append(cases, ssrfCase{"JwtBearer token endpoint on localhost", v4, jwt, destination.Credentials{
		TokenEndpoint: "https://localhost:" + port + "/token", ClientID: "c", ClientSecret: "s",
	}})
	if v6, ok := newSSRFTarget(t, ca, "[::1]:0"); ok {
		cases = append(cases, ssrfCase{"IPv6 loopback literal", v6, dest("https://[::1]:" + portOf(t, v6.URL) + "/hook"), destination.Credentials{}})
	} else {
		cases = append(cases, ssrfCase{name: "IPv6 loopback literal"}) // skipped below
	}
	return cases
}

func newSSRFSender(t *testing.T, ca *testkit.CA, allowPrivate bool) *delivery.Sender {
	t.Helper()
	client := newClient(t, ca, allowPrivate)
	return &delivery.Sender{Client: client, Tokens: &delivery.TokenCache{Client: client}, Timeout: 5 * time.Second}
}

// TestSenderRefusesBlockedAddresses is issue 3's acceptance at the
// delivery level: with local mode off, every attempt fails with
// netguard.ErrBlockedAddress and the receiver sees nothing.
func TestSenderRefusesBlockedAddresses(t *testing.T) {
	ca := testkit.NewCA(t, t.TempDir())
	sender := newSSRFSender(t, ca, false)
	for _, tc := range ssrfCases(t, ca) {
		t.Run(tc.name, func(t *testing.T) {
			if tc.target == nil {
				t.Skip("no IPv6 loopback on this machine: cannot listen on [::1]")
			}
			for i := range 2 {
				res := sender.Attempt(context.Background(), tc.d, tc.creds, message())
				if res.OK() || res.Status != 0 || !errors.Is(res.Err, netguard.ErrBlockedAddress) {
					t.Errorf("attempt %d: got status %d, err %v; want an error wrapping netguard.ErrBlockedAddress", i+1, res.Status, res.Err)
				}
			}
			if got := tc.target.hits.Load(); got != 0 {
				t.Errorf("receiver saw %d requests, want 0", got)
			}
		})
	}
}

// TestSenderReachesLoopbackInLocalMode is the control: the same deliveries
// succeed with private networks allowed, so only the guard refused them.
func TestSenderReachesLoopbackInLocalMode(t *testing.T) {
	ca := testkit.NewCA(t, t.TempDir())
	sender := newSSRFSender(t, ca, true)
	for _, tc := range ssrfCases(t, ca) {
		t.Run(tc.name, func(t *testing.T) {
			if tc.target == nil {
				t.Skip("no IPv6 loopback on this machine: cannot listen on [::1]")
			}
			before := tc.target.hits.Load()
			if res := sender.Attempt(context.Background(), tc.d, tc.creds, message()); !res.OK() {
				t.Fatalf("Attempt in local mode: got %+v, want success", res)
			}
			if got := tc.target.hits.Load(); got == before {
				t.Errorf("receiver saw no request, want the delivery")
			}
		})
	}
}

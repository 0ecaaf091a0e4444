package delivery_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hooksentry/hooksentry/pkg/delivery"
	"github.com/hooksentry/hooksentry/pkg/destination"
	"github.com/hooksentry/hooksentry/pkg/history"
	"github.com/hooksentry/hooksentry/pkg/netguard"
)

// hugeHeader is far over the outbound client's header bound (64 KiB) and
// far under net/http's default (10 MiB), which let such answers through.
var hugeHeader = strings.Repeat("a", 1<<20)

// hostileServer serves h on 127.0.0.1 and counts the response body bytes h
// managed to write (written), so a test can tell the client stopped reading.
func hostileServer(t *testing.T, h func(w http.ResponseWriter, written *atomic.Int64)) (url string, hits, written *atomic.Int64) {
	t.Helper()
	hits, written = new(atomic.Int64), new(atomic.Int64)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		h(w, written)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, hits, written
}

func okToken(w http.ResponseWriter, _ *atomic.Int64) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"access_token":"tok","token_type":"Bearer","expires_in":3600}`)
}

// endless writes a JSON token answer whose padding never ends, until the
// client hangs up (or 256 MiB, so a broken client cannot hang the test).
func endless(w http.ResponseWriter, written *atomic.Int64) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"access_token":"tok","token_type":"Bearer","pad":"`)
	chunk := []byte(strings.Repeat("a", 32<<10))
	for written.Load() < 256<<20 {
		n, err := w.Write(chunk)
		written.Add(int64(n))
		if err != nil {
			return
		}
	}
}

// TestSenderHostileAnswers: a destination or token endpoint that answers
// with huge headers or a huge token body makes the attempt fail with an
// error class, after reading a bounded amount of it.
func TestSenderHostileAnswers(t *testing.T) {
	for _, tc := range []struct {
		name      string
		dest      func(http.ResponseWriter, *atomic.Int64)
		token     func(http.ResponseWriter, *atomic.Int64) // nil: no JwtBearer
		wantClass string
		wantHits  int64 // requests the destination saw
	}{
		{
			name: "destination answers 200 with 1 MiB of headers",
			dest: func(w http.ResponseWriter, _ *atomic.Int64) {
				w.Header().Set("X-Pad", hugeHeader)
				w.WriteHeader(http.StatusOK)
			},
			wantClass: history.ErrConnection, wantHits: 1,
		},
		{
			name: "token endpoint answers with 1 MiB of headers",
			dest: okToken,
			token: func(w http.ResponseWriter, written *atomic.Int64) {
				w.Header().Set("X-Pad", hugeHeader)
				okToken(w, written)
			},
			wantClass: history.ErrAuth,
		},
		{
			name: "token endpoint answers a valid token padded to 256 KiB",
			dest: okToken,
			token: func(w http.ResponseWriter, _ *atomic.Int64) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = io.WriteString(w, `{"access_token":"tok","token_type":"Bearer","pad":"`+strings.Repeat("a", 256<<10)+`"}`)
			},
			wantClass: history.ErrAuth,
		},
		{
			name:      "token endpoint answers an endless body",
			dest:      okToken,
			token:     endless,
			wantClass: history.ErrAuth,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client, err := netguard.NewHTTPClient(netguard.ClientOptions{AllowPrivateNetworks: true})
			if err != nil {
				t.Fatalf("NewHTTPClient: %v", err)
			}
			t.Cleanup(client.CloseIdleConnections)
			sender := &delivery.Sender{Client: client, Tokens: &delivery.TokenCache{Client: client}, Timeout: 10 * time.Second}
			destURL, destHits, _ := hostileServer(t, tc.dest)
			d := destination.Destination{ID: "dest-1", TenantID: "tenant-1", URL: destURL + "/hook", Status: destination.Active, ServerRateLimit: 5}
			var creds destination.Credentials
			var tokenWritten *atomic.Int64
			if tc.token != nil {
				var tokenURL string
				tokenURL, _, tokenWritten = hostileServer(t, tc.token)
				d.AuthType = destination.AuthJwtBearer
				creds = destination.Credentials{TokenEndpoint: tokenURL + "/token", ClientID: "c", ClientSecret: "s"}
			}

			res := sender.Attempt(context.Background(), d, creds, message())

			if res.OK() || res.Err == nil {
				t.Fatalf("Attempt: got %+v, want a failed attempt", res)
			}
			if got, want := res.ErrorClass, tc.wantClass; got != want {
				t.Errorf("ErrorClass: got %q, want %q (error %v)", got, want, res.Err)
			}
			if testing.Verbose() {
				t.Logf("error: %v", res.Err)
			}
			if got, want := destHits.Load(), tc.wantHits; got != want {
				t.Errorf("destination saw %d requests, want %d", got, want)
			}
			// What the server got out before the client hung up: the bound
			// plus what the socket buffers of loopback hold, far from the
			// 256 MiB it would write to a client that reads on.
			if tokenWritten != nil {
				if got, limit := tokenWritten.Load(), int64(32<<20); got > limit {
					t.Errorf("token endpoint wrote %d body bytes, want at most %d", got, limit)
				}
			}
		})
	}
}

// TestTokenAnswerAtTheBound: a token answer of exactly 64 KiB is read to
// its end and used; one byte more is refused.
func TestTokenAnswerAtTheBound(t *testing.T) {
	const bound = 64 << 10
	for _, tc := range []struct {
		size   int
		wantOK bool
	}{
		{bound, true},
		{bound + 1, false},
	} {
		t.Run(strconv.Itoa(tc.size), func(t *testing.T) {
			head, tail := `{"access_token":"tok","token_type":"Bearer","pad":"`, `"}`
			body := head + strings.Repeat("a", tc.size-len(head)-len(tail)) + tail
			tokenURL, _, _ := hostileServer(t, func(w http.ResponseWriter, _ *atomic.Int64) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = io.WriteString(w, body)
			})
			client, err := netguard.NewHTTPClient(netguard.ClientOptions{AllowPrivateNetworks: true})
			if err != nil {
				t.Fatalf("NewHTTPClient: %v", err)
			}
			t.Cleanup(client.CloseIdleConnections)
			cache := &delivery.TokenCache{Client: client}
			tok, err := cache.Token(context.Background(), "dest-1", destination.Credentials{TokenEndpoint: tokenURL, ClientID: "c", ClientSecret: "s"}, "")
			if got := err == nil && tok == "tok"; got != tc.wantOK {
				t.Errorf("Token of a %d-byte answer: got %q, %v; want success %v", tc.size, tok, err, tc.wantOK)
			}
		})
	}
}

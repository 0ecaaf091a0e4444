package delivery_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hooksentry/hooksentry/pkg/delivery"
	"github.com/hooksentry/hooksentry/pkg/destination"
	"github.com/hooksentry/hooksentry/pkg/history"
	"github.com/hooksentry/hooksentry/pkg/testkit"
)

// closedPort returns an address on 127.0.0.1 where nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// startTLS serves h over TLS with cfg on a listener at addr; ok is false
// when addr cannot be listened on here.
func startTLS(t *testing.T, addr string, cfg *tls.Config, h http.Handler) (url string, ok bool) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", false
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Listener, srv.TLS = ln, cfg
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.URL, true
}

// silentListener accepts connections and never answers, not even the TLS
// handshake; with greeting, it writes that to every connection instead
// (a server that does not speak TLS).
func silentListener(t *testing.T, greeting ...string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			for _, g := range greeting {
				_, _ = c.Write([]byte(g))
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

// TestSenderErrorClasses: every failed attempt says why, against real
// servers on 127.0.0.1; a success has no class and keeps no answer.
func TestSenderErrorClasses(t *testing.T) {
	type target struct {
		sender *delivery.Sender
		d      destination.Destination
		creds  destination.Credentials
	}
	for _, tc := range []struct {
		name       string
		setup      func(t *testing.T, f *senderFixture) target
		wantClass  string
		wantStatus int
	}{
		{"2xx: no class", func(t *testing.T, f *senderFixture) target {
			f.dest.SetRespond(func(w http.ResponseWriter, _ *http.Request, _ int) { _, _ = w.Write([]byte("thanks")) })
			return target{f.sender, f.destination(destination.AuthNone), destination.Credentials{}}
		}, "", http.StatusOK},
		{"non-2xx: status", func(t *testing.T, f *senderFixture) target {
			f.dest.SetRespond(func(w http.ResponseWriter, _ *http.Request, _ int) { w.WriteHeader(http.StatusServiceUnavailable) })
			return target{f.sender, f.destination(destination.AuthNone), destination.Credentials{}}
		}, history.ErrStatus, http.StatusServiceUnavailable},
		{"redirect: status", func(t *testing.T, f *senderFixture) target {
			f.dest.SetRespond(func(w http.ResponseWriter, r *http.Request, _ int) {
				http.Redirect(w, r, "/elsewhere", http.StatusFound)
			})
			return target{f.sender, f.destination(destination.AuthNone), destination.Credentials{}}
		}, history.ErrStatus, http.StatusFound},
		{"no answer in time: timeout", func(t *testing.T, f *senderFixture) target {
			release := make(chan struct{})
			t.Cleanup(func() { close(release) })
			f.dest.SetRespond(func(http.ResponseWriter, *http.Request, int) { <-release })
			f.sender.Timeout = 100 * time.Millisecond
			return target{f.sender, f.destination(destination.AuthNone), destination.Credentials{}}
		}, history.ErrTimeout, 0},
		{"no TLS handshake in time: timeout", func(t *testing.T, f *senderFixture) target {
			f.sender.Timeout = 100 * time.Millisecond
			d := f.destination(destination.AuthNone)
			d.URL = "https://" + silentListener(t) + "/hook"
			return target{f.sender, d, destination.Credentials{}}
		}, history.ErrTimeout, 0},
		{"connection refused: connection", func(t *testing.T, f *senderFixture) target {
			d := f.destination(destination.AuthNone)
			d.URL = "https://" + closedPort(t) + "/hook"
			return target{f.sender, d, destination.Credentials{}}
		}, history.ErrConnection, 0},
		{"connection closed without an answer: connection", func(t *testing.T, f *senderFixture) target {
			f.dest.SetRespond(func(w http.ResponseWriter, _ *http.Request, _ int) {
				c, _, err := http.NewResponseController(w).Hijack()
				if err == nil {
					c.Close()
				}
			})
			return target{f.sender, f.destination(destination.AuthNone), destination.Credentials{}}
		}, history.ErrConnection, 0},
		{"certificate of an unknown authority: tls", func(t *testing.T, f *senderFixture) target {
			other := testkit.NewCA(t, t.TempDir())
			url, _ := startTLS(t, "127.0.0.1:0", other.ServerConfig(t), http.NotFoundHandler())
			d := f.destination(destination.AuthNone)
			d.URL = url + "/hook"
			return target{f.sender, d, destination.Credentials{}}
		}, history.ErrTLS, 0},
		{"certificate for another name: tls", func(t *testing.T, f *senderFixture) target {
			// The test CA's certificates name 127.0.0.1 and ::1, not 127.0.0.2.
			url, ok := startTLS(t, "127.0.0.2:0", f.ca.ServerConfig(t), http.NotFoundHandler())
			if !ok {
				t.Skip("cannot listen on 127.0.0.2 here")
			}
			d := f.destination(destination.AuthNone)
			d.URL = url + "/hook"
			return target{f.sender, d, destination.Credentials{}}
		}, history.ErrTLS, 0},
		{"plain HTTP on an https URL: tls", func(t *testing.T, f *senderFixture) target {
			srv := httptest.NewServer(http.NotFoundHandler())
			t.Cleanup(srv.Close)
			d := f.destination(destination.AuthNone)
			d.URL = strings.Replace(srv.URL, "http://", "https://", 1) + "/hook"
			return target{f.sender, d, destination.Credentials{}}
		}, history.ErrTLS, 0},
		{"a server that does not speak TLS: tls", func(t *testing.T, f *senderFixture) target {
			d := f.destination(destination.AuthNone)
			d.URL = "https://" + silentListener(t, "SSH-2.0-OpenSSH_9.6\r\n") + "/hook"
			return target{f.sender, d, destination.Credentials{}}
		}, history.ErrTLS, 0},
		{"handshake refused by the server: tls", func(t *testing.T, f *senderFixture) target {
			cfg := f.ca.ServerConfig(t)
			cfg.ClientAuth = tls.RequireAnyClientCert // we have none to give
			url, _ := startTLS(t, "127.0.0.1:0", cfg, http.NotFoundHandler())
			d := f.destination(destination.AuthNone)
			d.URL = url + "/hook"
			return target{f.sender, d, destination.Credentials{}}
		}, history.ErrTLS, 0},
		{"loopback outside local mode: blocked", func(t *testing.T, f *senderFixture) target {
			return target{newSSRFSender(t, f.ca, false), f.destination(destination.AuthNone), destination.Credentials{}}
		}, history.ErrBlocked, 0},
		{"token endpoint on loopback outside local mode: blocked", func(t *testing.T, f *senderFixture) target {
			return target{newSSRFSender(t, f.ca, false), f.destination(destination.AuthJwtBearer), f.jwtCredentials()}
		}, history.ErrBlocked, 0},
		{"token endpoint refuses the client: auth", func(t *testing.T, f *senderFixture) target {
			f.tokens.fail(http.StatusUnauthorized, `{"error":"invalid_client"}`)
			return target{f.sender, f.destination(destination.AuthJwtBearer), f.jwtCredentials()}
		}, history.ErrAuth, 0},
		{"token endpoint unreachable: auth", func(t *testing.T, f *senderFixture) target {
			creds := f.jwtCredentials()
			creds.TokenEndpoint = "https://" + closedPort(t) + "/oauth/token"
			return target{f.sender, f.destination(destination.AuthJwtBearer), creds}
		}, history.ErrAuth, 0},
		{"401, then no fresh token: auth, with the 401", func(t *testing.T, f *senderFixture) target {
			f.dest.SetRespond(func(w http.ResponseWriter, _ *http.Request, _ int) { w.WriteHeader(http.StatusUnauthorized) })
			f.tokens.SetRespond(func(w http.ResponseWriter, _ *http.Request, n int) {
				if n > 1 {
					w.WriteHeader(http.StatusInternalServerError)
					return
				}
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(`{"access_token":"tok-1","token_type":"Bearer","expires_in":3600}`))
			})
			return target{f.sender, f.destination(destination.AuthJwtBearer), f.jwtCredentials()}
		}, history.ErrAuth, http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newSenderFixture(t)
			tg := tc.setup(t, f)
			res := tg.sender.Attempt(context.Background(), tg.d, tg.creds, message())
			if res.ErrorClass != tc.wantClass || res.Status != tc.wantStatus || res.OK() != (tc.wantClass == "") {
				t.Errorf("Attempt: got class %q, status %d, err %v; want class %q, status %d", res.ErrorClass, res.Status, res.Err, tc.wantClass, tc.wantStatus)
			}
			if tc.wantClass == "" && res.ResponseBody != nil {
				t.Errorf("ResponseBody of a success: got %q, want nil", res.ResponseBody)
			}
		})
	}
}

// TestSenderKeepsTheStartOfAFailedAnswer: at most the first
// history.MaxResponseBody bytes of a failure's answer; nothing of a
// success's, nothing when the answer is empty.
func TestSenderKeepsTheStartOfAFailedAnswer(t *testing.T) {
	long := bytes.Repeat([]byte("0123456789abcdef"), 320) // 5,120 bytes
	for _, tc := range []struct {
		name   string
		status int
		body   []byte
		want   []byte
	}{
		{"failure with a short answer", http.StatusBadRequest, []byte(`{"error":"bad payload"}`), []byte(`{"error":"bad payload"}`)},
		{"failure with a long answer", http.StatusInternalServerError, long, long[:history.MaxResponseBody]},
		{"failure with exactly the limit", http.StatusInternalServerError, long[:history.MaxResponseBody], long[:history.MaxResponseBody]},
		{"failure without an answer", http.StatusBadGateway, nil, nil},
		{"success with an answer", http.StatusOK, []byte("ok, thanks"), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newSenderFixture(t)
			f.dest.SetRespond(func(w http.ResponseWriter, _ *http.Request, _ int) {
				w.WriteHeader(tc.status)
				_, _ = w.Write(tc.body)
			})
			res := f.sender.Attempt(context.Background(), f.destination(destination.AuthNone), destination.Credentials{}, message())
			if res.Status != tc.status {
				t.Fatalf("status: got %d, want %d", res.Status, tc.status)
			}
			if !bytes.Equal(res.ResponseBody, tc.want) || (tc.want == nil) != (res.ResponseBody == nil) {
				t.Errorf("ResponseBody: got %d bytes %.40q, want %d bytes %.40q", len(res.ResponseBody), res.ResponseBody, len(tc.want), tc.want)
			}
		})
	}
}

// echoHeaders answers 500 with the request's headers, as an echo service
// would, in text or JSON, followed by extra.
func echoHeaders(asJSON bool, extra string) func(w http.ResponseWriter, r *http.Request, n int) {
	return func(w http.ResponseWriter, r *http.Request, _ int) {
		w.WriteHeader(http.StatusInternalServerError)
		if asJSON {
			_ = json.NewEncoder(w).Encode(map[string]any{"headers": r.Header, "note": extra})
			return
		}
		names := make([]string, 0, len(r.Header))
		for k := range r.Header {
			names = append(names, k)
		}
		slices.Sort(names)
		for _, k := range names {
			fmt.Fprintf(w, "%s: %s\n", k, strings.Join(r.Header[k], ", "))
		}
		fmt.Fprint(w, extra)
	}
}

// TestSenderRedactsCredentialsFromTheAnswer: a destination that echoes
// the request never puts the destination's secrets into history.
func TestSenderRedactsCredentialsFromTheAnswer(t *testing.T) {
	const (
		apiKey   = "ak-5c1e0f-secret"
		bearer   = `bt-"quoted"<and>&\slashed-secret`
		password = "pw-9d8c7b-secret"
	)
	basic := base64.StdEncoding.EncodeToString([]byte("user-1:" + password))
	for _, tc := range []struct {
		name     string
		auth     destination.AuthType
		creds    func(f *senderFixture) destination.Credentials
		respond  func(w http.ResponseWriter, r *http.Request, n int)
		secrets  []string // none of them may be kept
		wantKept string   // the rest of the answer is kept
	}{
		{"ApiKey echoed", destination.AuthAPIKey, func(*senderFixture) destination.Credentials {
			return destination.Credentials{HeaderName: "X-Api-Key", Value: apiKey}
		}, echoHeaders(false, ""), []string{apiKey}, "Content-Type: application/json"},
		{"BearerToken echoed as JSON", destination.AuthBearerToken, func(*senderFixture) destination.Credentials {
			return destination.Credentials{Token: bearer}
		}, echoHeaders(true, ""), []string{bearer, `bt-\"quoted\"`, `\u003cand\u003e`}, `"Content-Type":["application/json"]`},
		{"BearerToken echoed as text", destination.AuthBearerToken, func(*senderFixture) destination.Credentials {
			return destination.Credentials{Token: bearer}
		}, echoHeaders(false, ""), []string{bearer}, "Authorization: Bearer [redacted]"},
		{"BasicAuth echoed, password quoted", destination.AuthBasic, func(*senderFixture) destination.Credentials {
			return destination.Credentials{Username: "user-1", Password: password}
		}, echoHeaders(false, "wrong password "+password), []string{basic, password}, "Authorization: Basic [redacted]"},
		{"BasicAuth with an API key as user name", destination.AuthBasic, func(*senderFixture) destination.Credentials {
			return destination.Credentials{Username: apiKey}
		}, echoHeaders(false, "unknown key "+apiKey), []string{base64.StdEncoding.EncodeToString([]byte(apiKey + ":")), apiKey}, "unknown key [redacted]"},
		{"JwtBearer: access token echoed, client secret quoted", destination.AuthJwtBearer, func(f *senderFixture) destination.Credentials {
			return f.jwtCredentials()
		}, echoHeaders(false, "client_secret="+clientSecret), []string{"tok-1", clientSecret}, "client_secret=[redacted]"},
		{"a secret across the kept limit", destination.AuthAPIKey, func(*senderFixture) destination.Credentials {
			return destination.Credentials{HeaderName: "X-Api-Key", Value: apiKey}
		}, func(w http.ResponseWriter, _ *http.Request, _ int) {
			// The key starts 4 bytes before the limit.
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte(strings.Repeat(".", history.MaxResponseBody-4) + apiKey + " and more"))
		}, []string{apiKey, apiKey[:4]}, "....[red"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newSenderFixture(t)
			f.dest.SetRespond(tc.respond)
			res := f.sender.Attempt(context.Background(), f.destination(tc.auth), tc.creds(f), message())
			if res.Status != http.StatusInternalServerError || len(res.ResponseBody) == 0 {
				t.Fatalf("Attempt: got status %d, %d bytes kept; want 500 and its answer", res.Status, len(res.ResponseBody))
			}
			if len(res.ResponseBody) > history.MaxResponseBody {
				t.Errorf("kept %d bytes, want at most %d", len(res.ResponseBody), history.MaxResponseBody)
			}
			for _, s := range tc.secrets {
				if bytes.Contains(res.ResponseBody, []byte(s)) {
					t.Errorf("kept answer contains %q:\n%s", s, res.ResponseBody)
				}
			}
			if !bytes.Contains(res.ResponseBody, []byte(tc.wantKept)) {
				t.Errorf("kept answer lacks %q:\n%s", tc.wantKept, res.ResponseBody)
			}
		})
	}
}

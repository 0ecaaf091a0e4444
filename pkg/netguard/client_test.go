package netguard

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// countingServer starts a loopback HTTP server that counts the requests it
// receives and answers 204.
func countingServer(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func newClient(t *testing.T, opts ClientOptions) *http.Client {
	t.Helper()
	if opts.Timeout == 0 {
		opts.Timeout = 5 * time.Second
	}
	client, err := NewHTTPClient(opts)
	if err != nil {
		t.Fatalf("NewHTTPClient(%+v): %v", opts, err)
	}
	t.Cleanup(client.CloseIdleConnections)
	return client
}

func post(t *testing.T, client *http.Client, rawURL string) (*http.Response, error) {
	t.Helper()
	resp, err := client.Post(rawURL, "application/json", strings.NewReader(`{}`))
	if err != nil {
		return nil, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp, nil
}

// loopbackURLs returns several spellings of the test server's address: the
// IP literal, a name resolving to it, the IPv4-mapped IPv6 form, and a
// fullwidth spelling that net/http maps (IDNA) to the IP literal.
func loopbackURLs(t *testing.T, srv *httptest.Server) map[string]string {
	t.Helper()
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatalf("parse server URL: %v", err)
	}
	port := u.Port()
	return map[string]string{
		"ip literal":  "http://127.0.0.1:" + port + "/",
		"localhost":   "http://localhost:" + port + "/",
		"ipv4-mapped": "http://[::ffff:127.0.0.1]:" + port + "/",
		"fullwidth":   "http://１２７．０．０．１:" + port + "/",
	}
}

func TestClientBlocksLoopback(t *testing.T) {
	srv, hits := countingServer(t)
	client := newClient(t, ClientOptions{})

	for name, rawURL := range loopbackURLs(t, srv) {
		t.Run(name, func(t *testing.T) {
			_, err := post(t, client, rawURL)
			if !errors.Is(err, ErrBlockedAddress) {
				t.Fatalf("POST %s: got err %v, want ErrBlockedAddress", rawURL, err)
			}
		})
	}
	if got, want := hits.Load(), int64(0); got != want {
		t.Errorf("server saw %d requests, want %d", got, want)
	}
}

func TestClientAllowPrivateNetworks(t *testing.T) {
	srv, hits := countingServer(t)
	client := newClient(t, ClientOptions{AllowPrivateNetworks: true})

	urls := loopbackURLs(t, srv)
	for name, rawURL := range urls {
		t.Run(name, func(t *testing.T) {
			resp, err := post(t, client, rawURL)
			if err != nil {
				t.Fatalf("POST %s: %v", rawURL, err)
			}
			if got, want := resp.StatusCode, http.StatusNoContent; got != want {
				t.Errorf("POST %s: status %d, want %d", rawURL, got, want)
			}
		})
	}
	if got, want := hits.Load(), int64(len(urls)); got != want {
		t.Errorf("server saw %d requests, want %d", got, want)
	}
}

func TestClientDoesNotFollowRedirects(t *testing.T) {
	var targetHits atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("/target", func(w http.ResponseWriter, r *http.Request) {
		targetHits.Add(1)
		w.WriteHeader(http.StatusOK)
	})
	mux.HandleFunc("/start", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/target", http.StatusFound)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	client := newClient(t, ClientOptions{AllowPrivateNetworks: true})
	resp, err := post(t, client, srv.URL+"/start")
	if err != nil {
		t.Fatalf("POST: %v", err)
	}
	if got, want := resp.StatusCode, http.StatusFound; got != want {
		t.Errorf("status = %d, want %d", got, want)
	}
	if got, want := resp.Header.Get("Location"), "/target"; got != want {
		t.Errorf("Location = %q, want %q", got, want)
	}
	if got, want := targetHits.Load(), int64(0); got != want {
		t.Errorf("redirect target saw %d requests, want %d", got, want)
	}
}

func TestNewTransportSettings(t *testing.T) {
	tr, err := NewTransport(ClientOptions{})
	if err != nil {
		t.Fatalf("NewTransport: %v", err)
	}
	if tr.Proxy != nil {
		t.Errorf("Proxy is set, want nil")
	}
	if got, want := tr.TLSClientConfig.MinVersion, uint16(tls.VersionTLS12); got != want {
		t.Errorf("MinVersion = %#x, want %#x", got, want)
	}
	if got, want := tr.MaxIdleConnsPerHost, 100; got != want {
		t.Errorf("MaxIdleConnsPerHost = %d, want %d", got, want)
	}
	if got, want := tr.IdleConnTimeout, 90*time.Second; got != want {
		t.Errorf("IdleConnTimeout = %v, want %v", got, want)
	}
	if got, want := tr.MaxResponseHeaderBytes, int64(64<<10); got != want {
		t.Errorf("MaxResponseHeaderBytes = %d, want %d", got, want)
	}
	if !tr.ForceAttemptHTTP2 {
		t.Errorf("ForceAttemptHTTP2 = false, want true")
	}

	client, err := NewHTTPClient(ClientOptions{Timeout: 3 * time.Second})
	if err != nil {
		t.Fatalf("NewHTTPClient: %v", err)
	}
	if got, want := client.Timeout, 3*time.Second; got != want {
		t.Errorf("client Timeout = %v, want %v", got, want)
	}
}

func TestExtraCAFile(t *testing.T) {
	caPEM, serverCert := newTestCA(t)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, caPEM, 0o600); err != nil {
		t.Fatalf("write CA file: %v", err)
	}

	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	// The client without the CA makes the server log a handshake error.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{serverCert}}
	srv.StartTLS()
	t.Cleanup(srv.Close)

	t.Run("with CA file", func(t *testing.T) {
		client := newClient(t, ClientOptions{AllowPrivateNetworks: true, ExtraCAFile: caFile})
		resp, err := post(t, client, srv.URL)
		if err != nil {
			t.Fatalf("POST %s: %v", srv.URL, err)
		}
		if got, want := resp.StatusCode, http.StatusNoContent; got != want {
			t.Errorf("status = %d, want %d", got, want)
		}
	})

	t.Run("without CA file", func(t *testing.T) {
		client := newClient(t, ClientOptions{AllowPrivateNetworks: true})
		_, err := post(t, client, srv.URL)
		var verr *tls.CertificateVerificationError
		if !errors.As(err, &verr) {
			t.Fatalf("POST %s: got err %v, want a certificate verification error", srv.URL, err)
		}
	})
}

func TestExtraCAFileErrors(t *testing.T) {
	dir := t.TempDir()
	noCert := filepath.Join(dir, "empty.pem")
	if err := os.WriteFile(noCert, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatalf("write file: %v", err)
	}
	badCert := filepath.Join(dir, "bad.pem")
	bad := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("garbage")})
	if err := os.WriteFile(badCert, bad, 0o600); err != nil {
		t.Fatalf("write file: %v", err)
	}
	missing := filepath.Join(dir, "missing.pem")

	for _, path := range []string{noCert, badCert, missing} {
		t.Run(filepath.Base(path), func(t *testing.T) {
			_, err := NewHTTPClient(ClientOptions{ExtraCAFile: path})
			if err == nil {
				t.Fatalf("NewHTTPClient(ExtraCAFile: %s) = nil error, want error", path)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the file %s", err, path)
			}
		})
	}
}

// newTestCA returns a PEM-encoded test CA certificate and a server
// certificate it signed, valid for 127.0.0.1, ::1 and localhost.
func newTestCA(t *testing.T) (caPEM []byte, serverCert tls.Certificate) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("generate CA key: %v", err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "netguard test CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatalf("create CA certificate: %v", err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatalf("parse CA certificate: %v", err)
	}

	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("generate server key: %v", err)
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:     []string{"localhost"},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, caCert, &leafKey.PublicKey, caKey)
	if err != nil {
		t.Fatalf("create server certificate: %v", err)
	}

	caPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	serverCert = tls.Certificate{Certificate: [][]byte{leafDER}, PrivateKey: leafKey}
	return caPEM, serverCert
}

package netguard

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"os"
	"time"
)

// ClientOptions configures NewTransport and NewHTTPClient.
type ClientOptions struct {
	// AllowPrivateNetworks disables the SSRF guard. Only for local
	// development and tests, where destinations live on loopback.
	AllowPrivateNetworks bool

	// ExtraCAFile is an optional PEM bundle of CA certificates trusted in
	// addition to the system roots (e.g. a tenant's or a test's private CA).
	ExtraCAFile string

	// Timeout bounds a whole request, including reading the response body.
	// Zero means no client-level timeout; callers should then use contexts.
	Timeout time.Duration
}

// MaxResponseHeaderBytes bounds the headers of every answer an outbound
// client reads. Destinations and token endpoints are chosen by tenants, so
// net/http's default (10 MiB per response, per concurrent delivery) would be
// theirs to spend in our memory; real webhook answers carry a few hundred
// bytes of headers. A larger answer fails the request with an error.
const MaxResponseHeaderBytes = 64 << 10

// NewTransport returns the transport shared by every outbound client. It is
// exported so other clients (e.g. OAuth token fetching) get the same guard.
func NewTransport(opts ClientOptions) (*http.Transport, error) {
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12}
	if opts.ExtraCAFile != "" {
		pool, err := loadCAPool(opts.ExtraCAFile)
		if err != nil {
			return nil, err
		}
		tlsConfig.RootCAs = pool
	}

	return &http.Transport{
		// Never read HTTP(S)_PROXY: the proxy, not us, would dial the
		// destination, and DialControl would only ever see the proxy.
		Proxy:                  nil,
		DialContext:            newDialer(opts.AllowPrivateNetworks).DialContext,
		TLSClientConfig:        tlsConfig,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           1000,
		MaxIdleConnsPerHost:    100,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    10 * time.Second,
		ExpectContinueTimeout:  1 * time.Second,
		MaxResponseHeaderBytes: MaxResponseHeaderBytes,
	}, nil
}

// NewHTTPClient returns a client using NewTransport that never follows
// redirects: the 3xx response is returned to the caller as is, because the
// Location is a new destination that was never validated.
func NewHTTPClient(opts ClientOptions) (*http.Client, error) {
	transport, err := NewTransport(opts)
	if err != nil {
		return nil, err
	}
	return &http.Client{
		Transport: transport,
		Timeout:   opts.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}, nil
}

// loadCAPool returns the system roots plus every certificate in path. It is
// stricter than x509.CertPool.AppendCertsFromPEM, which silently skips
// certificates it cannot parse: a broken bundle should fail at startup, not
// as TLS errors on deliveries.
func loadCAPool(path string) (*x509.CertPool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("netguard: read CA file %s: %w", path, err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		return nil, fmt.Errorf("netguard: load system CA pool: %w", err)
	}

	count := 0
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("netguard: parse certificate in CA file %s: %w", path, err)
		}
		pool.AddCert(cert)
		count++
	}
	if count == 0 {
		return nil, fmt.Errorf("netguard: CA file %s contains no PEM certificate", path)
	}
	return pool, nil
}

package devauth

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"sync"
	"time"
)

const (
	// JWKSCacheTTL is how long a fetched JWKS is used before it is fetched
	// again. Identity providers publish a new key well before signing with
	// it, so a few minutes of staleness costs nothing.
	JWKSCacheTTL = 5 * time.Minute
	// JWKSMinRefetchInterval bounds refetches caused by tokens with an
	// unknown kid: a key rotation needs one refetch, and a stream of tokens
	// with made-up kids must not turn the gateway into a load generator
	// against the identity provider.
	JWKSMinRefetchInterval = 30 * time.Second
	// JWKSFetchTimeout bounds one fetch, so a hung identity provider delays
	// a request (or start-up) by seconds, not forever.
	JWKSFetchTimeout = 5 * time.Second
	// MaxJWKSSize bounds a JWKS response; real ones are a few KiB.
	MaxJWKSSize = 1 << 20
)

// RemoteJWKS is the JWKS of an external identity provider (Cognito, Auth0,
// ...), fetched over HTTPS and cached: refetched after JWKSCacheTTL, and
// early when a token names a kid it does not have (key rotation), at most
// once per JWKSMinRefetchInterval. A failed refetch keeps the keys already
// known, so a short outage of the identity provider does not log everyone
// out.
type RemoteJWKS struct {
	url    string
	client *http.Client
	now    func() time.Time

	// mu is held during a fetch on purpose: requests that arrive meanwhile
	// wait for its result instead of fetching too. Fetches are rare (TTL,
	// rate limit) and bounded by JWKSFetchTimeout.
	mu           sync.Mutex
	keys         map[string]*rsa.PublicKey
	fetchedAt    time.Time // last successful fetch
	attemptedAt  time.Time // last fetch, successful or not
	kidRefetchAt time.Time // last fetch caused by an unknown kid
}

// NewRemoteJWKS fetches the JWKS at jwksURL once, so that a wrong URL or an
// unusable key set fails start-up with a clear message rather than every
// request with a 401. jwksURL must be https, or http to a loopback IP
// address (test servers): a JWKS fetched in clear over a network could be
// replaced by anyone on the path. now defaults to time.Now.
func NewRemoteJWKS(ctx context.Context, jwksURL string, now func() time.Time) (*RemoteJWKS, error) {
	if err := checkJWKSURL(jwksURL); err != nil {
		return nil, err
	}
	if now == nil {
		now = time.Now
	}
	r := &RemoteJWKS{
		url: jwksURL,
		now: now,
		client: &http.Client{
			Timeout: JWKSFetchTimeout,
			// A redirect must not lead to a URL that would be refused
			// if configured directly.
			CheckRedirect: func(req *http.Request, via []*http.Request) error {
				if len(via) >= 5 {
					return errors.New("too many redirects")
				}
				return checkJWKSURL(req.URL.String())
			},
		},
	}
	r.attemptedAt = now()
	keys, err := r.fetch(ctx)
	if err != nil {
		return nil, err
	}
	r.keys, r.fetchedAt = keys, r.attemptedAt
	return r, nil
}

// NewRemoteValidator is a Validator for tokens of issuer with one of
// audiences, signed by a key of jwks.
func NewRemoteValidator(jwks *RemoteJWKS, issuer string, audiences []string, now func() time.Time) (*Validator, error) {
	if jwks == nil {
		return nil, errors.New("devauth: validator: no JWKS")
	}
	return newValidator(jwks, issuer, audiences, now)
}

func checkJWKSURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("devauth: JWKS URL: %w", err)
	}
	if u.Host == "" {
		return fmt.Errorf("devauth: JWKS URL %q: no host", raw)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if addr, err := netip.ParseAddr(u.Hostname()); err == nil && addr.IsLoopback() {
			return nil
		}
		return fmt.Errorf("devauth: JWKS URL %q: http is only allowed to a loopback address (127.0.0.1, ::1); use https", raw)
	default:
		return fmt.Errorf("devauth: JWKS URL %q: scheme must be https", raw)
	}
}

// key implements keySource. A request thread may fetch here; the fetch
// uses its own timeout, not the request's context, because its result
// serves every later request too.
func (r *RemoteJWKS) key(kid string) (*rsa.PublicKey, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	_, known := r.keys[kid]
	switch {
	case !known && now.Sub(r.kidRefetchAt) >= JWKSMinRefetchInterval:
		// Its own limit, not attemptedAt's: a key rotated just after
		// start-up or a TTL refetch is picked up at once.
		r.kidRefetchAt = now
		r.refresh(now)
	case now.Sub(r.fetchedAt) >= JWKSCacheTTL && now.Sub(r.attemptedAt) >= JWKSMinRefetchInterval:
		r.refresh(now)
	}
	pub, ok := r.keys[kid]
	return pub, ok
}

// refresh replaces the keys with a fresh fetch; on failure the known keys
// stay. r.mu must be held.
func (r *RemoteJWKS) refresh(now time.Time) {
	r.attemptedAt = now
	if keys, err := r.fetch(context.Background()); err == nil {
		r.keys, r.fetchedAt = keys, now
	}
}

func (r *RemoteJWKS) fetch(ctx context.Context) (map[string]*rsa.PublicKey, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.url, nil)
	if err != nil {
		return nil, fmt.Errorf("devauth: fetch JWKS %s: %w", r.url, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("devauth: fetch JWKS: %w", err) // the error names the URL
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("devauth: fetch JWKS %s: status %d", r.url, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxJWKSSize+1))
	if err != nil {
		return nil, fmt.Errorf("devauth: fetch JWKS %s: %w", r.url, err)
	}
	if len(body) > MaxJWKSSize {
		return nil, fmt.Errorf("devauth: fetch JWKS %s: larger than %d bytes", r.url, MaxJWKSSize)
	}
	keys, err := parseJWKS(body)
	if err != nil {
		return nil, fmt.Errorf("devauth: JWKS %s: %w", r.url, err)
	}
	return keys, nil
}

package delivery

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/hooksentry/hooksentry/pkg/destination"
)

// TokenCache fetches OAuth 2.0 client-credentials access tokens and keeps
// them per destination until shortly before they expire. It lives as long
// as the process, so a warm Lambda instance reuses tokens across
// invocations; concurrent deliveries share one fetch.
type TokenCache struct {
	Client *http.Client // guarded outbound client for token endpoints
	Now    func() time.Time

	mu      sync.Mutex
	entries map[string]*tokenEntry
}

type tokenEntry struct {
	mu      sync.Mutex // serialises fetches for one key
	token   string
	expires time.Time
}

// refreshMargin is how long before expiry a token is replaced, so it never
// expires in flight.
const refreshMargin = 30 * time.Second

// defaultTokenLifetime applies when the endpoint omits expires_in.
const defaultTokenLifetime = 5 * time.Minute

func (c *TokenCache) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// cacheKey changes when the credentials change, so updated credentials are
// never served a token minted for the old ones.
func cacheKey(destinationID string, cr destination.Credentials) string {
	h := sha256.Sum256([]byte(strings.Join([]string{cr.TokenEndpoint, cr.ClientID, cr.ClientSecret, cr.Scope}, "\x00")))
	return destinationID + ":" + hex.EncodeToString(h[:8])
}

func (c *TokenCache) entry(key string) *tokenEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[string]*tokenEntry{}
	}
	e, ok := c.entries[key]
	if !ok {
		// Credentials of this destination changed: its old tokens are dead.
		dest, _, _ := strings.Cut(key, ":")
		for k := range c.entries {
			if strings.HasPrefix(k, dest+":") {
				delete(c.entries, k)
			}
		}
		e = &tokenEntry{}
		c.entries[key] = e
	}
	return e
}

// Token returns a valid access token. stale, if not empty, is a token the
// destination just rejected: it is replaced even if not yet expired.
func (c *TokenCache) Token(ctx context.Context, destinationID string, cr destination.Credentials, stale string) (string, error) {
	e := c.entry(cacheKey(destinationID, cr))
	e.mu.Lock()
	defer e.mu.Unlock()
	now := c.now()
	if e.token != "" && e.token != stale && now.Add(refreshMargin).Before(e.expires) {
		return e.token, nil
	}
	cfg := clientcredentials.Config{
		ClientID: cr.ClientID, ClientSecret: cr.ClientSecret, TokenURL: cr.TokenEndpoint,
		Scopes: strings.Fields(cr.Scope), AuthStyle: oauth2.AuthStyleInParams,
	}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, boundedClient(c.Client))
	tok, err := cfg.Token(ctx)
	if err != nil {
		// The oauth2 error can quote the endpoint's response, never our
		// secret; still, keep only its class.
		return "", fmt.Errorf("fetch access token from token endpoint: %w", sanitizeOAuthError(err))
	}
	expires := tok.Expiry
	if expires.IsZero() {
		expires = now.Add(defaultTokenLifetime)
	}
	e.token, e.expires = tok.AccessToken, expires
	return e.token, nil
}

// maxTokenResponse bounds the body of a token endpoint's answer. A token
// answer is a small JSON object (a JWT access token is a few KiB); the
// oauth2 library would read up to 1 MiB of whatever the tenant's endpoint
// sends, per fetch.
const maxTokenResponse = 64 << 10

// errTokenResponseTooLarge is what reading past maxTokenResponse returns.
// The oauth2 library keeps only its text ("oauth2: cannot fetch token: ...").
var errTokenResponseTooLarge = fmt.Errorf("token endpoint answer is over %d bytes", maxTokenResponse)

// boundedClient returns client (nil: http.DefaultClient, as oauth2 would
// use) with answers' bodies cut at maxTokenResponse: reading past it fails
// instead of truncating, so an oversized answer never parses as a token.
func boundedClient(client *http.Client) *http.Client {
	if client == nil {
		client = http.DefaultClient
	}
	bounded := *client
	base := client.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	bounded.Transport = boundedBodies{base: base, limit: maxTokenResponse}
	return &bounded
}

// boundedBodies is a RoundTripper whose answers' bodies fail once more than
// limit bytes are read from them.
type boundedBodies struct {
	base  http.RoundTripper
	limit int64
}

func (b boundedBodies) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := b.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resp.Body = &limitedBody{ReadCloser: resp.Body, left: b.limit}
	return resp, nil
}

// limitedBody reads at most left bytes; one byte more is an error, so a
// body of exactly the limit still reads to EOF.
type limitedBody struct {
	io.ReadCloser
	left int64
}

func (l *limitedBody) Read(p []byte) (int, error) {
	if l.left < 0 {
		return 0, errTokenResponseTooLarge
	}
	if int64(len(p)) > l.left+1 {
		p = p[:l.left+1]
	}
	n, err := l.ReadCloser.Read(p)
	l.left -= int64(n)
	if l.left < 0 {
		return n + int(l.left), errTokenResponseTooLarge
	}
	return n, err
}

func sanitizeOAuthError(err error) error {
	if re, ok := err.(*oauth2.RetrieveError); ok {
		return fmt.Errorf("token endpoint answered %d", re.Response.StatusCode)
	}
	// A transport error quotes the endpoint's URL, whose query may carry a
	// secret: keep the operation and the cause only, as for deliveries.
	return stripURL(err)
}

package delivery_test

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hooksentry/hooksentry/pkg/delivery"
	"github.com/hooksentry/hooksentry/pkg/destination"
	"github.com/hooksentry/hooksentry/pkg/testkit"
)

type tokenFixture struct {
	cache    *delivery.TokenCache
	endpoint *tokenEndpoint
	clock    *fakeClock
	creds    destination.Credentials
}

func newTokenFixture(t *testing.T, start time.Time) *tokenFixture {
	t.Helper()
	ca := testkit.NewCA(t, t.TempDir())
	clock := newClock(start)
	te := newTokenEndpoint(t, ca)
	return &tokenFixture{
		cache:    &delivery.TokenCache{Client: newClient(t, ca, true), Now: clock.Now},
		endpoint: te,
		clock:    clock,
		creds:    destination.Credentials{TokenEndpoint: te.URL, ClientID: "client-1", ClientSecret: "secret-1", Scope: "a b"},
	}
}

func (f *tokenFixture) token(t *testing.T, destinationID string, creds destination.Credentials, stale string) string {
	t.Helper()
	tok, err := f.cache.Token(context.Background(), destinationID, creds, stale)
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	return tok
}

// TestTokenCacheRefreshesBeforeExpiry drives the cache's clock against a
// token without expires_in, whose lifetime (5 minutes) is then measured on
// that clock alone: it is replaced 30 s before it expires.
func TestTokenCacheRefreshesBeforeExpiry(t *testing.T) {
	f := newTokenFixture(t, time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC))
	f.endpoint.setExpiresIn(0)
	for _, step := range []struct {
		at   time.Duration // since the first fetch
		want string
	}{
		{0, "tok-1"},
		{time.Minute, "tok-1"},
		{4*time.Minute + 29*time.Second + 999*time.Millisecond, "tok-1"},
		{4*time.Minute + 30*time.Second, "tok-2"}, // 30 s before expiry
		{4*time.Minute + 31*time.Second, "tok-2"},
		{8*time.Minute + 59*time.Second, "tok-2"},
		{9 * time.Minute, "tok-3"}, // tok-2 was fetched at +4m30s
	} {
		f.clock.Set(time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC).Add(step.at))
		if got := f.token(t, "dest-1", f.creds, ""); got != step.want {
			t.Errorf("Token at +%v: got %q, want %q", step.at, got, step.want)
		}
	}
}

// TestTokenCacheHonoursExpiresIn: the endpoint's expires_in sets the
// lifetime. The oauth2 library stamps the expiry with the real clock, so
// the injected clock starts at the real time and the checks stay a few
// seconds clear of the refresh point.
func TestTokenCacheHonoursExpiresIn(t *testing.T) {
	start := time.Now()
	f := newTokenFixture(t, start)
	f.endpoint.setExpiresIn(120)
	for _, step := range []struct {
		at   time.Duration
		want string
	}{
		{0, "tok-1"},
		{80 * time.Second, "tok-1"},
		{95 * time.Second, "tok-2"}, // 120 s - 30 s margin has passed
	} {
		f.clock.Set(start.Add(step.at))
		if got := f.token(t, "dest-1", f.creds, ""); got != step.want {
			t.Errorf("Token at +%v: got %q, want %q", step.at, got, step.want)
		}
	}
}

func TestTokenCacheKeys(t *testing.T) {
	f := newTokenFixture(t, time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC))
	changed := func(change func(*destination.Credentials)) destination.Credentials {
		c := f.creds
		change(&c)
		return c
	}
	for _, step := range []struct {
		name          string
		destinationID string
		creds         destination.Credentials
		want          string
	}{
		{"first fetch", "dest-1", f.creds, "tok-1"},
		{"cached", "dest-1", f.creds, "tok-1"},
		{"changed client secret", "dest-1", changed(func(c *destination.Credentials) { c.ClientSecret = "secret-2" }), "tok-2"},
		{"changed client id", "dest-1", changed(func(c *destination.Credentials) { c.ClientID = "client-2" }), "tok-3"},
		{"changed scope", "dest-1", changed(func(c *destination.Credentials) { c.Scope = "a" }), "tok-4"},
		{"changed endpoint", "dest-1", changed(func(c *destination.Credentials) { c.TokenEndpoint += "?v=2" }), "tok-5"},
		// Rotating credentials evicts the destination's old tokens, so the
		// cache never grows with rotations.
		{"original credentials fetched again", "dest-1", f.creds, "tok-6"},
		{"cached again", "dest-1", f.creds, "tok-6"},
		{"another destination with the same credentials", "dest-2", f.creds, "tok-7"},
		{"first destination unaffected", "dest-1", f.creds, "tok-6"},
	} {
		if got := f.token(t, step.destinationID, step.creds, ""); got != step.want {
			t.Errorf("%s: got %q, want %q", step.name, got, step.want)
		}
	}
	if got := f.endpoint.form(t, 1).Get("client_secret"); got != "secret-2" {
		t.Errorf("second fetch used client_secret %q, want the new secret-2", got)
	}
}

func TestTokenCacheStaleToken(t *testing.T) {
	f := newTokenFixture(t, time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC))
	if got := f.token(t, "dest-1", f.creds, ""); got != "tok-1" {
		t.Fatalf("first Token: got %q, want tok-1", got)
	}
	if got := f.token(t, "dest-1", f.creds, "tok-1"); got != "tok-2" {
		t.Errorf("Token with tok-1 stale: got %q, want a fresh tok-2", got)
	}
	// Another lane that saw tok-1 rejected concurrently gets tok-2 without a
	// third fetch.
	if got := f.token(t, "dest-1", f.creds, "tok-1"); got != "tok-2" {
		t.Errorf("Token with tok-1 stale again: got %q, want the cached tok-2", got)
	}
	if got := f.endpoint.fetches(); got != 2 {
		t.Errorf("fetches: got %d, want 2", got)
	}
}

func TestTokenCacheConcurrentCallersShareOneFetch(t *testing.T) {
	f := newTokenFixture(t, time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC))
	var wg sync.WaitGroup
	got := make([]string, 8)
	errs := make([]error, len(got))
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], errs[i] = f.cache.Token(context.Background(), "dest-1", f.creds, "")
		}()
	}
	wg.Wait()
	for i := range got {
		if errs[i] != nil || got[i] != "tok-1" {
			t.Errorf("caller %d: got %q, %v, want tok-1", i, got[i], errs[i])
		}
	}
	if n := f.endpoint.fetches(); n != 1 {
		t.Errorf("fetches: got %d, want 1", n)
	}
}

// TestTokenFetchErrorsDoNotQuoteTheEndpoint: a token endpoint's URL may
// carry a secret in its query; an error reaching it (here: nothing
// listens) must not quote it, since errors end up in logs.
func TestTokenFetchErrorsDoNotQuoteTheEndpoint(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	f := newTokenFixture(t, time.Now())
	creds := destination.Credentials{TokenEndpoint: "https://" + addr + "/token?api_key=SECRET-in-query", ClientID: "id", ClientSecret: "SECRET-client"}
	_, err = f.cache.Token(context.Background(), "d1", creds, "")
	if err == nil {
		t.Fatal("got a token from a closed port")
	}
	for _, secret := range []string{"SECRET-in-query", "SECRET-client", "/token"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error %q quotes %q", err, secret)
		}
	}
}

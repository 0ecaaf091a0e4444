package ingest

import (
	"sync"
	"time"

	"github.com/hooksentry/hooksentry/pkg/destination"
)

// checksCache keeps, per destination, the destination as ingest last read
// it and the token's checks version it was read for, so that a warm ingest
// function reads a destination with checks once, not once per event
// (destination.TokenOwner says why an entry is current while the version
// is unchanged). TTL bounds how long an entry is trusted anyway.
type checksCache struct {
	mu      sync.Mutex
	entries map[string]cachedChecks
}

type cachedChecks struct {
	version int64 // the token's ChecksVersion the read was made for
	d       destination.Destination
	at      time.Time
}

const (
	checksCacheTTL  = 5 * time.Minute
	checksCacheSize = 10000
)

func (c *checksCache) get(o destination.TokenOwner, now time.Time) (destination.Destination, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[o.DestinationID]
	if !ok || e.version != o.ChecksVersion || now.Sub(e.at) > checksCacheTTL || now.Before(e.at) {
		return destination.Destination{}, false
	}
	return e.d, true
}

// put keeps d, read after the token showed o, if d is at o's checks
// version or later: an older read (a writer raised the version and then
// lost its race) may predate the checks the version stands for.
func (c *checksCache) put(o destination.TokenOwner, d destination.Destination, now time.Time) {
	if d.Version < o.ChecksVersion {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) >= checksCacheSize {
		c.entries = make(map[string]cachedChecks)
	}
	c.entries[o.DestinationID] = cachedChecks{version: o.ChecksVersion, d: d, at: now}
}

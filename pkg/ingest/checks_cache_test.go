package ingest

import (
	"testing"
	"time"

	"github.com/hooksentry/hooksentry/pkg/destination"
)

func TestChecksCacheKeepsOnlyReadsAtTheChecksVersion(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	owner := destination.TokenOwner{DestinationID: "d1", ChecksVersion: 5}
	tests := []struct {
		name    string
		read    int64 // the version of the destination read
		askWith int64 // the checks version of a later lookup
		after   time.Duration
		wantHit bool
	}{
		{"read at the version", 5, 5, time.Second, true},
		{"read after the version (a write that left the checks alone)", 7, 5, time.Second, true},
		{"read before the version (its writer may have lost a race)", 4, 5, time.Second, false},
		{"the checks changed since", 5, 8, time.Second, false},
		{"past the TTL", 5, 5, checksCacheTTL + time.Second, false},
		{"a clock gone backwards", 5, 5, -time.Second, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c checksCache
			c.put(owner, destination.Destination{ID: "d1", Version: tt.read}, now)
			ask := owner
			ask.ChecksVersion = tt.askWith
			d, hit := c.get(ask, now.Add(tt.after))
			if hit != tt.wantHit {
				t.Fatalf("hit = %v, want %v", hit, tt.wantHit)
			}
			if hit && d.Version != tt.read {
				t.Errorf("got version %d, want the read %d", d.Version, tt.read)
			}
		})
	}
}

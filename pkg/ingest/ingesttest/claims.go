// Package ingesttest provides test doubles for package ingest: an
// in-memory Claims, and the conformance suite that every ingest.Claims
// implementation (the DynamoDB adapter and the fake alike) must pass.
package ingesttest

import (
	"context"
	"sync"
	"time"

	"github.com/hooksentry/hooksentry/pkg/ingest"
)

// Claims is an in-memory ingest.Claims. Err, when set, is returned by
// every call.
type Claims struct {
	mu     sync.Mutex
	claims map[string]claim
	Err    error
}

type claim struct {
	eventID    string
	at         time.Time
	confirmed  bool
	leaseUntil time.Time
}

// ClaimDedupKey implements ingest.Claims.
func (c *Claims) ClaimDedupKey(_ context.Context, destinationID, fingerprint, eventID string, at time.Time, window, lease time.Duration) (string, ingest.ClaimState, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.Err != nil {
		return "", 0, c.Err
	}
	if c.claims == nil {
		c.claims = map[string]claim{}
	}
	k := destinationID + "#" + fingerprint
	if cur, ok := c.claims[k]; ok {
		switch {
		case cur.confirmed && cur.at.After(at.Add(-window)):
			return cur.eventID, ingest.Duplicate, nil
		case !cur.confirmed && !cur.leaseUntil.Before(at):
			return cur.eventID, ingest.InFlight, nil
		}
	}
	c.claims[k] = claim{eventID: eventID, at: at, leaseUntil: at.Add(lease)}
	return eventID, ingest.Claimed, nil
}

// ConfirmDedupKey implements ingest.Claims.
func (c *Claims) ConfirmDedupKey(_ context.Context, destinationID, fingerprint, eventID string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.Err != nil {
		return c.Err
	}
	k := destinationID + "#" + fingerprint
	if cur, ok := c.claims[k]; ok && cur.eventID == eventID {
		cur.confirmed = true
		c.claims[k] = cur
	}
	return nil
}

// ReleaseDedupKey implements ingest.Claims.
func (c *Claims) ReleaseDedupKey(_ context.Context, destinationID, fingerprint, eventID string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.Err != nil {
		return c.Err
	}
	k := destinationID + "#" + fingerprint
	if cur, ok := c.claims[k]; ok && cur.eventID == eventID {
		delete(c.claims, k)
	}
	return nil
}

// Len is the number of claims held.
func (c *Claims) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.claims)
}

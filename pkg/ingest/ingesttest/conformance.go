package ingesttest

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/hooksentry/hooksentry/pkg/ingest"
)

// RunClaimsConformance checks what every ingest.Claims must do. It uses
// fresh random destination ids, so it can run against a shared table.
func RunClaimsConformance(t *testing.T, c ingest.Claims) {
	ctx := context.Background()
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	claim := func(t *testing.T, dest, fp, id string, at time.Time, window time.Duration, wantFirst string, wantDup bool) {
		t.Helper()
		first, dup, err := c.ClaimDedupKey(ctx, dest, fp, id, at, window)
		if err != nil {
			t.Fatalf("ClaimDedupKey(%s): %v", id, err)
		}
		if first != wantFirst || dup != wantDup {
			t.Errorf("ClaimDedupKey(%s) = %q, %v; want %q, %v", id, first, dup, wantFirst, wantDup)
		}
	}
	t.Run("FirstClaimWinsWithinTheWindow", func(t *testing.T) {
		dest := uuid.NewString()
		claim(t, dest, "fp", "e1", t0, time.Hour, "e1", false)
		claim(t, dest, "fp", "e2", t0.Add(time.Second), time.Hour, "e1", true)
		claim(t, dest, "fp", "e3", t0.Add(59*time.Minute), time.Hour, "e1", true)
	})
	t.Run("AClaimOlderThanTheWindowIsReplaced", func(t *testing.T) {
		dest := uuid.NewString()
		claim(t, dest, "fp", "e1", t0, time.Minute, "e1", false)
		claim(t, dest, "fp", "e2", t0.Add(time.Minute), time.Minute, "e2", false)
		claim(t, dest, "fp", "e3", t0.Add(90*time.Second), time.Minute, "e2", true)
	})
	t.Run("FingerprintsAndDestinationsAreApart", func(t *testing.T) {
		dest, other := uuid.NewString(), uuid.NewString()
		claim(t, dest, "fp1", "e1", t0, time.Hour, "e1", false)
		claim(t, dest, "fp2", "e2", t0, time.Hour, "e2", false)
		claim(t, other, "fp1", "e3", t0, time.Hour, "e3", false)
	})
	t.Run("ReleaseFreesOnlyItsOwnClaim", func(t *testing.T) {
		dest := uuid.NewString()
		claim(t, dest, "fp", "e1", t0, time.Hour, "e1", false)
		if err := c.ReleaseDedupKey(ctx, dest, "fp", "not-e1"); err != nil {
			t.Fatalf("ReleaseDedupKey of another event: %v", err)
		}
		claim(t, dest, "fp", "e2", t0.Add(time.Second), time.Hour, "e1", true)
		if err := c.ReleaseDedupKey(ctx, dest, "fp", "e1"); err != nil {
			t.Fatalf("ReleaseDedupKey: %v", err)
		}
		claim(t, dest, "fp", "e3", t0.Add(2*time.Second), time.Hour, "e3", false)
		if err := c.ReleaseDedupKey(ctx, uuid.NewString(), "fp", "e9"); err != nil {
			t.Errorf("ReleaseDedupKey of no claim: %v", err)
		}
	})
}

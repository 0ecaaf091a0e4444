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
	const lease = 30 * time.Second
	claim := func(t *testing.T, dest, fp, id string, at time.Time, window time.Duration, wantFirst string, wantState ingest.ClaimState) {
		t.Helper()
		first, state, err := c.ClaimDedupKey(ctx, dest, fp, id, at, window, lease)
		if err != nil {
			t.Fatalf("ClaimDedupKey(%s): %v", id, err)
		}
		if state != wantState || (wantState != ingest.InFlight && first != wantFirst) {
			t.Errorf("ClaimDedupKey(%s) = %q, state %d; want %q, state %d", id, first, state, wantFirst, wantState)
		}
	}
	confirm := func(t *testing.T, dest, fp, id string) {
		t.Helper()
		if err := c.ConfirmDedupKey(ctx, dest, fp, id); err != nil {
			t.Fatalf("ConfirmDedupKey(%s): %v", id, err)
		}
	}
	t.Run("AConfirmedClaimMakesDuplicatesWithinTheWindow", func(t *testing.T) {
		dest := uuid.NewString()
		claim(t, dest, "fp", "e1", t0, time.Hour, "e1", ingest.Claimed)
		confirm(t, dest, "fp", "e1")
		claim(t, dest, "fp", "e2", t0.Add(time.Second), time.Hour, "e1", ingest.Duplicate)
		claim(t, dest, "fp", "e3", t0.Add(59*time.Minute), time.Hour, "e1", ingest.Duplicate)
	})
	t.Run("APendingClaimIsInFlightUntilItsLeaseEnds", func(t *testing.T) {
		dest := uuid.NewString()
		claim(t, dest, "fp", "e1", t0, time.Hour, "e1", ingest.Claimed)
		claim(t, dest, "fp", "e2", t0.Add(time.Second), time.Hour, "", ingest.InFlight)
		claim(t, dest, "fp", "e3", t0.Add(lease+time.Second), time.Hour, "e3", ingest.Claimed) // e1's request died
		confirm(t, dest, "fp", "e1")                                                           // too late: e3 owns the key
		claim(t, dest, "fp", "e4", t0.Add(lease+2*time.Second), time.Hour, "", ingest.InFlight)
		confirm(t, dest, "fp", "e3")
		claim(t, dest, "fp", "e5", t0.Add(lease+3*time.Second), time.Hour, "e3", ingest.Duplicate)
	})
	t.Run("AClaimOlderThanTheWindowIsReplaced", func(t *testing.T) {
		dest := uuid.NewString()
		claim(t, dest, "fp", "e1", t0, time.Minute, "e1", ingest.Claimed)
		confirm(t, dest, "fp", "e1")
		claim(t, dest, "fp", "e2", t0.Add(time.Minute), time.Minute, "e2", ingest.Claimed)
		confirm(t, dest, "fp", "e2")
		claim(t, dest, "fp", "e3", t0.Add(90*time.Second), time.Minute, "e2", ingest.Duplicate)
	})
	t.Run("FingerprintsAndDestinationsAreApart", func(t *testing.T) {
		dest, other := uuid.NewString(), uuid.NewString()
		claim(t, dest, "fp1", "e1", t0, time.Hour, "e1", ingest.Claimed)
		claim(t, dest, "fp2", "e2", t0, time.Hour, "e2", ingest.Claimed)
		claim(t, other, "fp1", "e3", t0, time.Hour, "e3", ingest.Claimed)
	})
	t.Run("ReleaseFreesOnlyItsOwnClaim", func(t *testing.T) {
		dest := uuid.NewString()
		claim(t, dest, "fp", "e1", t0, time.Hour, "e1", ingest.Claimed)
		if err := c.ReleaseDedupKey(ctx, dest, "fp", "not-e1"); err != nil {
			t.Fatalf("ReleaseDedupKey of another event: %v", err)
		}
		claim(t, dest, "fp", "e2", t0.Add(time.Second), time.Hour, "", ingest.InFlight)
		if err := c.ReleaseDedupKey(ctx, dest, "fp", "e1"); err != nil {
			t.Fatalf("ReleaseDedupKey: %v", err)
		}
		claim(t, dest, "fp", "e3", t0.Add(2*time.Second), time.Hour, "e3", ingest.Claimed)
		if err := c.ReleaseDedupKey(ctx, uuid.NewString(), "fp", "e9"); err != nil {
			t.Errorf("ReleaseDedupKey of no claim: %v", err)
		}
	})
}

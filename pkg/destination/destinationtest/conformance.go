package destinationtest

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/hooksentry/hooksentry/pkg/alert"
	"github.com/hooksentry/hooksentry/pkg/apperror"
	"github.com/hooksentry/hooksentry/pkg/dedup"
	"github.com/hooksentry/hooksentry/pkg/destination"
	"github.com/hooksentry/hooksentry/pkg/verify"
)

// ConformanceStore is a destination.Store plus the two operations the
// conformance suite needs to set up and observe state: creating tenants and
// resolving ingest tokens (which ingest uses).
type ConformanceStore interface {
	destination.Store
	AddTenant(ctx context.Context, tenantID string) error
	ResolveIngestToken(ctx context.Context, hash string) (destinationID, tenantID string, found bool, err error)
	LookupIngestToken(ctx context.Context, hash string) (destination.TokenOwner, bool, error)
}

// RunStoreConformance checks the behaviour every destination.Store must
// have. It uses fresh random tenant and destination ids, so it can run
// against a shared table, and more than once.
func RunStoreConformance(t *testing.T, s ConformanceStore) {
	t.Run("TenantExists", func(t *testing.T) { testTenantExists(t, s) })
	t.Run("CreateGetRoundTrip", func(t *testing.T) { testCreateGet(t, s) })
	t.Run("CreateDuplicateID", func(t *testing.T) { testCreateDuplicate(t, s) })
	t.Run("GetUnknown", func(t *testing.T) { testGetUnknown(t, s) })
	t.Run("ListByTenant", func(t *testing.T) { testList(t, s) })
	t.Run("Update", func(t *testing.T) { testUpdate(t, s) })
	t.Run("UpdateVersionConflict", func(t *testing.T) { testUpdateConflict(t, s) })
	t.Run("Delete", func(t *testing.T) { testDelete(t, s) })
	t.Run("ReplaceIngestToken", func(t *testing.T) { testReplaceToken(t, s) })
	t.Run("ReplaceIngestTokenConflict", func(t *testing.T) { testReplaceTokenConflict(t, s) })
	t.Run("ReplaceSigningSecret", func(t *testing.T) { testReplaceSigningSecret(t, s) })
	t.Run("ChecksRoundTrip", func(t *testing.T) { testChecksRoundTrip(t, s) })
	t.Run("TokenFlagsChecks", func(t *testing.T) { testTokenFlagsChecks(t, s) })
}

// NewTenant adds a tenant with a random id and returns the id.
func NewTenant(t *testing.T, s ConformanceStore) string {
	t.Helper()
	id := uuid.NewString()
	if err := s.AddTenant(context.Background(), id); err != nil {
		t.Fatalf("AddTenant: %v", err)
	}
	return id
}

// NewDestination returns a valid destination of tenantID with a fresh id,
// token hash and creation time now (millisecond precision); change, if not
// nil, adjusts it. It is not stored.
func NewDestination(tenantID string, now time.Time, change func(*destination.Destination)) destination.Destination {
	_, hash, err := destination.NewIngestToken(nil)
	if err != nil {
		panic(err)
	}
	now = destination.Timestamp(now)
	d := destination.Destination{
		ID: uuid.NewString(), TenantID: tenantID, URL: "https://example.com/hook",
		Status: destination.Active, ServerRateLimit: destination.DefaultRateLimit,
		CreatedAt: now, UpdatedAt: now, TokenHash: hash, Version: 1,
	}
	if change != nil {
		change(&d)
	}
	return d
}

func withAuth(d *destination.Destination) {
	d.AuthType = destination.AuthBearerToken
	d.Sealed = &destination.Sealed{Ciphertext: []byte{1, 2, 3, 0, 255}, EncryptedKey: []byte("encrypted-data-key")}
}

func mustCreate(t *testing.T, s ConformanceStore, d destination.Destination) destination.Destination {
	t.Helper()
	if err := s.CreateDestination(context.Background(), d); err != nil {
		t.Fatalf("CreateDestination(%s): %v", d.ID, err)
	}
	return d
}

func mustGet(t *testing.T, s ConformanceStore, id string) destination.Destination {
	t.Helper()
	d, err := s.GetDestination(context.Background(), id)
	if err != nil {
		t.Fatalf("GetDestination(%s): %v", id, err)
	}
	return d
}

func wantCode(t *testing.T, what string, err error, want apperror.Code) {
	t.Helper()
	if got := apperror.CodeOf(err); err == nil || got != want {
		t.Errorf("%s: got error %v (code %d), want code %d", what, err, got, want)
	}
}

func wantResolves(t *testing.T, s ConformanceStore, hash string, d destination.Destination) {
	t.Helper()
	destID, tenantID, found, err := s.ResolveIngestToken(context.Background(), hash)
	if err != nil {
		t.Fatalf("ResolveIngestToken: %v", err)
	}
	if !found || destID != d.ID || tenantID != d.TenantID {
		t.Errorf("ResolveIngestToken: got (%q, %q, %v), want (%q, %q, true)", destID, tenantID, found, d.ID, d.TenantID)
	}
}

func wantUnresolvable(t *testing.T, s ConformanceStore, hash string) {
	t.Helper()
	destID, _, found, err := s.ResolveIngestToken(context.Background(), hash)
	if err != nil {
		t.Fatalf("ResolveIngestToken: %v", err)
	}
	if found {
		t.Errorf("ResolveIngestToken: got destination %q, want not found", destID)
	}
}

func sameDestination(t *testing.T, what string, got, want destination.Destination) {
	t.Helper()
	// Times are compared as instants; the location may differ.
	if !got.CreatedAt.Equal(want.CreatedAt) || !got.UpdatedAt.Equal(want.UpdatedAt) {
		t.Errorf("%s: got times %v/%v, want %v/%v", what, got.CreatedAt, got.UpdatedAt, want.CreatedAt, want.UpdatedAt)
	}
	got.CreatedAt, got.UpdatedAt = want.CreatedAt, want.UpdatedAt
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %+v (sealed %+v)\nwant %+v (sealed %+v)", what, got, got.Sealed, want, want.Sealed)
	}
}

func testTenantExists(t *testing.T, s ConformanceStore) {
	ctx := context.Background()
	known := NewTenant(t, s)
	for _, tc := range []struct {
		name   string
		tenant string
		want   bool
	}{
		{"added", known, true},
		{"unknown", uuid.NewString(), false},
		{"empty", "", false},
	} {
		got, err := s.TenantExists(ctx, tc.tenant)
		if err != nil {
			t.Fatalf("%s: TenantExists: %v", tc.name, err)
		}
		if got != tc.want {
			t.Errorf("%s: TenantExists(%q): got %v, want %v", tc.name, tc.tenant, got, tc.want)
		}
	}
}

func testCreateGet(t *testing.T, s ConformanceStore) {
	tenant := NewTenant(t, s)
	for _, tc := range []struct {
		name   string
		change func(*destination.Destination)
	}{
		{"no auth", nil},
		{"with auth", func(d *destination.Destination) {
			withAuth(d)
			d.URL = "https://example.com/a?b=c&d=%20e#f"
			d.ServerRateLimit = 1000
			d.Status = destination.Inactive
			d.UpdatedAt = d.CreatedAt.Add(1500 * time.Millisecond)
			d.Version = 7
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := mustCreate(t, s, NewDestination(tenant, time.Now(), tc.change))
			sameDestination(t, "GetDestination", mustGet(t, s, want.ID), want)
			wantResolves(t, s, want.TokenHash, want)
		})
	}
}

func testCreateDuplicate(t *testing.T, s ConformanceStore) {
	tenant := NewTenant(t, s)
	d := mustCreate(t, s, NewDestination(tenant, time.Now(), nil))
	dup := NewDestination(tenant, time.Now(), func(x *destination.Destination) { x.ID = d.ID; x.URL = "https://other.example" })
	if err := s.CreateDestination(context.Background(), dup); err == nil {
		t.Errorf("CreateDestination with a taken id: got nil error, want an error")
	}
	sameDestination(t, "GetDestination after refused duplicate", mustGet(t, s, d.ID), d)
}

func testGetUnknown(t *testing.T, s ConformanceStore) {
	_, err := s.GetDestination(context.Background(), uuid.NewString())
	wantCode(t, "GetDestination(unknown)", err, apperror.NotFound)
}

func testList(t *testing.T, s ConformanceStore) {
	ctx := context.Background()
	tenant, other := NewTenant(t, s), NewTenant(t, s)
	base := time.Now().Add(-time.Hour)
	var want []destination.Destination
	for i := range 5 {
		want = append(want, mustCreate(t, s, NewDestination(tenant, base.Add(time.Duration(i)*time.Second), nil)))
	}
	mustCreate(t, s, NewDestination(other, base, nil))

	got, err := s.ListDestinations(ctx, tenant)
	if err != nil {
		t.Fatalf("ListDestinations: %v", err)
	}
	if len(got) != len(want) {
		t.Fatalf("ListDestinations: got %d destinations, want %d", len(got), len(want))
	}
	byID := map[string]destination.Destination{}
	for _, d := range got {
		byID[d.ID] = d
	}
	for _, w := range want {
		g, ok := byID[w.ID]
		if !ok {
			t.Errorf("ListDestinations: missing %s", w.ID)
			continue
		}
		sameDestination(t, "listed destination", g, w)
	}

	none, err := s.ListDestinations(ctx, uuid.NewString())
	if err != nil {
		t.Fatalf("ListDestinations(unknown tenant): %v", err)
	}
	if len(none) != 0 {
		t.Errorf("ListDestinations(unknown tenant): got %d destinations, want 0", len(none))
	}
}

func testUpdate(t *testing.T, s ConformanceStore) {
	ctx := context.Background()
	tenant := NewTenant(t, s)
	orig := mustCreate(t, s, NewDestination(tenant, time.Now(), withAuth))

	next := orig
	next.URL = "https://changed.example/x"
	next.ServerRateLimit = 42
	next.Status = destination.Inactive
	next.UpdatedAt = orig.UpdatedAt.Add(time.Second)
	next.Sealed = &destination.Sealed{Ciphertext: []byte("new-ct"), EncryptedKey: []byte("new-key")}
	saved, err := s.UpdateDestination(ctx, next, false)
	if err != nil {
		t.Fatalf("UpdateDestination: %v", err)
	}
	want := next
	want.Version = orig.Version + 1
	sameDestination(t, "UpdateDestination result", saved, want)
	sameDestination(t, "GetDestination after update", mustGet(t, s, orig.ID), want)

	// Removing authentication removes the sealed credentials too.
	noAuth := saved
	noAuth.AuthType, noAuth.Sealed = destination.AuthNone, nil
	saved, err = s.UpdateDestination(ctx, noAuth, true)
	if err != nil {
		t.Fatalf("UpdateDestination(remove auth, reset breaker): %v", err)
	}
	got := mustGet(t, s, orig.ID)
	if got.AuthType != destination.AuthNone || got.Sealed != nil {
		t.Errorf("after removing auth: got authType %q sealed %v, want none and nil", got.AuthType, got.Sealed)
	}
	if got.Version != saved.Version || saved.Version != orig.Version+2 {
		t.Errorf("versions: got stored %d returned %d, want %d", got.Version, saved.Version, orig.Version+2)
	}
	wantResolves(t, s, orig.TokenHash, orig)
}

func testUpdateConflict(t *testing.T, s ConformanceStore) {
	ctx := context.Background()
	tenant := NewTenant(t, s)
	orig := mustCreate(t, s, NewDestination(tenant, time.Now(), nil))
	first := orig
	first.ServerRateLimit = 10
	if _, err := s.UpdateDestination(ctx, first, false); err != nil {
		t.Fatalf("first UpdateDestination: %v", err)
	}
	stale := orig
	stale.ServerRateLimit = 20
	_, err := s.UpdateDestination(ctx, stale, false)
	wantCode(t, "UpdateDestination with a stale version", err, apperror.Conflict)
	if got := mustGet(t, s, orig.ID).ServerRateLimit; got != 10 {
		t.Errorf("after refused stale update: got serverRateLimit %d, want 10", got)
	}

	if err := s.DeleteDestination(ctx, mustGet(t, s, orig.ID)); err != nil {
		t.Fatalf("DeleteDestination: %v", err)
	}
	_, err = s.UpdateDestination(ctx, atVersion(orig, 2), false)
	wantCode(t, "UpdateDestination of a deleted destination", err, apperror.NotFound)
}

// atVersion returns d at the given version, for writes aimed at an item that
// no longer exists.
func atVersion(d destination.Destination, version int64) destination.Destination {
	d.Version = version
	return d
}

func testDelete(t *testing.T, s ConformanceStore) {
	ctx := context.Background()
	tenant := NewTenant(t, s)
	keep := mustCreate(t, s, NewDestination(tenant, time.Now(), nil))
	gone := mustCreate(t, s, NewDestination(tenant, time.Now(), withAuth))
	if err := s.DeleteDestination(ctx, gone); err != nil {
		t.Fatalf("DeleteDestination: %v", err)
	}
	_, err := s.GetDestination(ctx, gone.ID)
	wantCode(t, "GetDestination after delete", err, apperror.NotFound)
	wantUnresolvable(t, s, gone.TokenHash)
	wantResolves(t, s, keep.TokenHash, keep)
	list, err := s.ListDestinations(ctx, tenant)
	if err != nil {
		t.Fatalf("ListDestinations: %v", err)
	}
	if len(list) != 1 || list[0].ID != keep.ID {
		t.Errorf("ListDestinations after delete: got %d items, want only %s", len(list), keep.ID)
	}
}

func testReplaceToken(t *testing.T, s ConformanceStore) {
	ctx := context.Background()
	tenant := NewTenant(t, s)
	d := mustCreate(t, s, NewDestination(tenant, time.Now(), withAuth))
	_, newHash, err := destination.NewIngestToken(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ReplaceIngestToken(ctx, d, newHash); err != nil {
		t.Fatalf("ReplaceIngestToken: %v", err)
	}
	wantUnresolvable(t, s, d.TokenHash)
	wantResolves(t, s, newHash, d)

	want := d
	want.TokenHash = newHash
	want.Version = d.Version + 1
	sameDestination(t, "GetDestination after ReplaceIngestToken", mustGet(t, s, d.ID), want)

	// Deleting afterwards removes the new lookup, not just the old one.
	if err := s.DeleteDestination(ctx, mustGet(t, s, d.ID)); err != nil {
		t.Fatalf("DeleteDestination: %v", err)
	}
	wantUnresolvable(t, s, newHash)
}

func testReplaceTokenConflict(t *testing.T, s ConformanceStore) {
	ctx := context.Background()
	tenant := NewTenant(t, s)
	d := mustCreate(t, s, NewDestination(tenant, time.Now(), nil))
	changed := d
	changed.ServerRateLimit = 9
	current, err := s.UpdateDestination(ctx, changed, false)
	if err != nil {
		t.Fatalf("UpdateDestination: %v", err)
	}
	_, staleHash, _ := destination.NewIngestToken(nil)
	err = s.ReplaceIngestToken(ctx, d, staleHash)
	wantCode(t, "ReplaceIngestToken with a stale version", err, apperror.Conflict)
	wantUnresolvable(t, s, staleHash)
	if got := mustGet(t, s, d.ID).TokenHash; got != d.TokenHash {
		t.Errorf("after refused replace: got token hash %q, want the original %q", got, d.TokenHash)
	}

	if err := s.DeleteDestination(ctx, current); err != nil {
		t.Fatalf("DeleteDestination: %v", err)
	}
	_, goneHash, _ := destination.NewIngestToken(nil)
	err = s.ReplaceIngestToken(ctx, current, goneHash)
	wantCode(t, "ReplaceIngestToken of a deleted destination", err, apperror.NotFound)
	wantUnresolvable(t, s, goneHash)
}

func testReplaceSigningSecret(t *testing.T, s ConformanceStore) {
	ctx := context.Background()
	tenant := NewTenant(t, s)
	first := &destination.Sealed{Ciphertext: []byte("sig-1"), EncryptedKey: []byte("key-1")}
	d := mustCreate(t, s, NewDestination(tenant, time.Now(), func(d *destination.Destination) { d.Signing = first }))
	sameDestination(t, "GetDestination with a signing secret", mustGet(t, s, d.ID), d)

	until := destination.Timestamp(time.Now().Add(destination.SigningOverlap))
	rotated := d
	rotated.Signing = &destination.Sealed{Ciphertext: []byte("sig-2"), EncryptedKey: []byte("key-2")}
	rotated.PrevSigning, rotated.PrevSigningUntil = first, until
	for _, tc := range []struct {
		name string
		next func(cur destination.Destination) destination.Destination
	}{
		{"with a previous secret", func(destination.Destination) destination.Destination { return rotated }},
		{"without one (the previous attributes go)", func(cur destination.Destination) destination.Destination {
			cur.Signing = &destination.Sealed{Ciphertext: []byte("sig-3"), EncryptedKey: []byte("key-3")}
			cur.PrevSigning, cur.PrevSigningUntil = nil, time.Time{}
			return cur
		}},
	} {
		next := tc.next(mustGet(t, s, d.ID))
		next.Version = mustGet(t, s, d.ID).Version
		if err := s.ReplaceSigningSecret(ctx, next); err != nil {
			t.Fatalf("%s: ReplaceSigningSecret: %v", tc.name, err)
		}
		want := next
		want.Version++
		sameDestination(t, "GetDestination after ReplaceSigningSecret "+tc.name, mustGet(t, s, d.ID), want)
	}
	// A write of the whole item keeps the signing secrets.
	cur := mustGet(t, s, d.ID)
	cur.ServerRateLimit = 11
	updated, err := s.UpdateDestination(ctx, cur, false)
	if err != nil {
		t.Fatalf("UpdateDestination: %v", err)
	}
	sameDestination(t, "GetDestination after UpdateDestination", mustGet(t, s, d.ID), updated)

	err = s.ReplaceSigningSecret(ctx, rotated) // rotated has the creation version
	wantCode(t, "ReplaceSigningSecret with a stale version", err, apperror.Conflict)
	if err := s.DeleteDestination(ctx, updated); err != nil {
		t.Fatalf("DeleteDestination: %v", err)
	}
	err = s.ReplaceSigningSecret(ctx, updated)
	wantCode(t, "ReplaceSigningSecret of a deleted destination", err, apperror.NotFound)
}

func withChecks(d *destination.Destination) {
	d.Verification = &destination.Verification{
		Config: verify.Config{Scheme: verify.Hmac, Header: "X-Signature", Algorithm: "sha512", Encoding: "base64", Prefix: "sha512="},
		Secret: destination.Sealed{Ciphertext: []byte{9, 8, 7}, EncryptedKey: []byte("verification-data-key")},
	}
	key, err := dedup.ParseKey("body:data.id")
	if err != nil {
		panic(err)
	}
	d.Deduplication = &destination.Deduplication{Key: key, Window: 90 * time.Minute}
	d.Alerts = []alert.Type{alert.EventFailed, alert.DestinationSuspended}
}

// testChecksRoundTrip: verification (with its sealed secret) and
// deduplication survive create and update, and an update removes them.
func testChecksRoundTrip(t *testing.T, s ConformanceStore) {
	ctx := context.Background()
	d := mustCreate(t, s, NewDestination(NewTenant(t, s), time.Now(), withChecks))
	sameDestination(t, "GetDestination of a destination with checks", mustGet(t, s, d.ID), d)

	stripe := d
	stripe.Verification = &destination.Verification{
		Config: verify.Config{Scheme: verify.Stripe},
		Secret: destination.Sealed{Ciphertext: []byte{1}, EncryptedKey: []byte("k2")},
	}
	stripe.Deduplication = nil
	saved, err := s.UpdateDestination(ctx, stripe, false)
	if err != nil {
		t.Fatalf("UpdateDestination: %v", err)
	}
	sameDestination(t, "GetDestination after changing the checks", mustGet(t, s, d.ID), saved)

	none := saved
	none.Verification = nil
	saved, err = s.UpdateDestination(ctx, none, false)
	if err != nil {
		t.Fatalf("UpdateDestination: %v", err)
	}
	got := mustGet(t, s, d.ID)
	if got.Verification != nil || got.Deduplication != nil {
		t.Errorf("after removing the checks: verification %+v, deduplication %+v; want none", got.Verification, got.Deduplication)
	}
	sameDestination(t, "GetDestination after removing the checks", got, saved)
}

// testTokenFlagsChecks: the ingest token says when its destination has
// checks (ingest reads the destination only then), through create,
// update and token replacement.
func testTokenFlagsChecks(t *testing.T, s ConformanceStore) {
	ctx := context.Background()
	tenant := NewTenant(t, s)
	wantChecks := func(what, hash string, want bool) {
		t.Helper()
		o, found, err := s.LookupIngestToken(ctx, hash)
		if err != nil || !found {
			t.Fatalf("%s: LookupIngestToken: found %v, %v", what, found, err)
		}
		if o.Checks() != want {
			t.Errorf("%s: Checks = %v (version %d), want %v", what, o.Checks(), o.ChecksVersion, want)
		}
		if want {
			// The checks version is one whose reads show the current checks.
			if d := mustGet(t, s, o.DestinationID); d.Version < o.ChecksVersion {
				t.Errorf("%s: ChecksVersion %d is beyond the destination's version %d", what, o.ChecksVersion, d.Version)
			}
		}
	}
	plain := mustCreate(t, s, NewDestination(tenant, time.Now(), nil))
	wantChecks("created without checks", plain.TokenHash, false)
	checked := mustCreate(t, s, NewDestination(tenant, time.Now(), withChecks))
	wantChecks("created with checks", checked.TokenHash, true)
	if o, _, _ := s.LookupIngestToken(ctx, checked.TokenHash); o.DestinationID != checked.ID || o.TenantID != tenant {
		t.Errorf("LookupIngestToken = %+v, want destination %s of tenant %s", o, checked.ID, tenant)
	}

	withDedup := plain
	withChecks(&withDedup)
	withDedup.Verification = nil
	saved, err := s.UpdateDestination(ctx, withDedup, false)
	if err != nil {
		t.Fatalf("UpdateDestination: %v", err)
	}
	wantChecks("after adding deduplication", plain.TokenHash, true)

	_, newHash, _ := destination.NewIngestToken(nil)
	if err := s.ReplaceIngestToken(ctx, saved, newHash); err != nil {
		t.Fatalf("ReplaceIngestToken: %v", err)
	}
	wantChecks("a new token of a destination with checks", newHash, true)

	cur := mustGet(t, s, plain.ID)
	cur.Deduplication = nil
	if _, err := s.UpdateDestination(ctx, cur, false); err != nil {
		t.Fatalf("UpdateDestination: %v", err)
	}
	wantChecks("after removing the checks", newHash, false)
}

package store_test

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/uuid"

	"github.com/hooksentry/hooksentry/pkg/apperror"
	"github.com/hooksentry/hooksentry/pkg/delivery"
	"github.com/hooksentry/hooksentry/pkg/destination"
	"github.com/hooksentry/hooksentry/pkg/destination/destinationtest"
	"github.com/hooksentry/hooksentry/pkg/event"
	"github.com/hooksentry/hooksentry/pkg/store"
)

// Times in these tests are whole milliseconds: the table keeps no more.
var base = time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)

// newDestination stores a destination of a fresh tenant with the status.
func newDestination(t *testing.T, s *store.Store, status destination.Status) destination.Destination {
	t.Helper()
	tenant := destinationtest.NewTenant(t, conformance{s})
	d := destinationtest.NewDestination(tenant, base, func(d *destination.Destination) { d.Status = status })
	if err := s.CreateDestination(context.Background(), d); err != nil {
		t.Fatalf("CreateDestination: %v", err)
	}
	// A worker's first read creates the delivery state.
	if _, _, found, err := s.LoadTarget(context.Background(), d.ID); err != nil || !found {
		t.Fatalf("LoadTarget: found %v, %v", found, err)
	}
	return d
}

func loadState(t *testing.T, s *store.Store, id string) delivery.State {
	t.Helper()
	st, err := s.LoadState(context.Background(), id)
	if err != nil {
		t.Fatalf("LoadState: %v", err)
	}
	return st
}

func stateItem(t *testing.T, id string) map[string]types.AttributeValue {
	t.Helper()
	pk, sk := store.DestinationStateKey(id)
	out, err := db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true), Key: map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: pk}, "sk": &types.AttributeValueMemberS{Value: sk},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return out.Item
}

func lease(slots int, expires time.Time) delivery.Lease {
	return delivery.Lease{Slots: slots, Expires: expires}
}

// sameLeases compares lease maps by instant: the table returns local times.
func sameLeases(a, b map[string]delivery.Lease) bool {
	if len(a) != len(b) {
		return false
	}
	for id, l := range a {
		o, ok := b[id]
		if !ok || o.Slots != l.Slots || !o.Expires.Equal(l.Expires) {
			return false
		}
	}
	return true
}

func TestLoadTarget(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	d := newDestination(t, s, destination.Active)
	leases := map[string]delivery.Lease{"l1": lease(2, base.Add(time.Minute))}
	if err := s.WriteLeases(ctx, d.ID, leases, 0); err != nil {
		t.Fatal(err)
	}
	got, st, found, err := s.LoadTarget(ctx, d.ID)
	if err != nil || !found {
		t.Fatalf("LoadTarget: got found %v, %v, want true, nil", found, err)
	}
	if got.ID != d.ID || got.URL != d.URL || got.Status != destination.Active || got.ServerRateLimit != d.ServerRateLimit || got.Version != d.Version {
		t.Errorf("destination: got %+v, want %+v", got, d)
	}
	if !sameLeases(st.Leases, leases) || st.LeaseVersion != 1 {
		t.Errorf("state: got leases %v version %d, want %v version 1", st.Leases, st.LeaseVersion, leases)
	}

	// A destination without a state item yet has the zero state.
	fresh := newDestination(t, s, destination.Inactive)
	got, st, found, err = s.LoadTarget(ctx, fresh.ID)
	if err != nil || !found || got.Status != destination.Inactive {
		t.Errorf("LoadTarget(fresh): got %+v, found %v, %v; want the Inactive destination", got, found, err)
	}
	if st.Leases == nil || len(st.Leases) != 0 || st.LeaseVersion != 0 || st.Failures != 0 {
		t.Errorf("LoadTarget(fresh): got state %+v, want the zero state with an empty lease map", st)
	}

	for _, id := range []string{uuid.NewString(), "not-a-uuid"} {
		got, st, found, err := s.LoadTarget(ctx, id)
		if err != nil || found {
			t.Errorf("LoadTarget(%q): got found %v, %v; want false, nil", id, found, err)
		}
		if got.ID != "" || st.Leases == nil {
			t.Errorf("LoadTarget(%q): got %+v, %+v; want a zero destination and an empty lease map", id, got, st)
		}
	}
}

func TestWriteLeasesVersion(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	d := newDestination(t, s, destination.Active)
	a := map[string]delivery.Lease{"a": lease(1, base.Add(time.Minute))}
	ab := map[string]delivery.Lease{"a": lease(1, base.Add(time.Minute)), "b": lease(3, base.Add(2*time.Minute))}
	for _, step := range []struct {
		name     string
		leases   map[string]delivery.Lease
		version  int64
		conflict bool
		want     map[string]delivery.Lease
		wantVer  int64
	}{
		{"first write, no state item yet", a, 0, false, a, 1},
		{"stale version 0", ab, 0, true, a, 1},
		{"current version", ab, 1, false, ab, 2},
		{"stale version 1", a, 1, true, ab, 2},
		{"version from the future", a, 7, true, ab, 2},
		{"empty map", map[string]delivery.Lease{}, 2, false, map[string]delivery.Lease{}, 3},
	} {
		err := s.WriteLeases(ctx, d.ID, step.leases, step.version)
		if step.conflict && apperror.CodeOf(err) != apperror.Conflict {
			t.Errorf("%s: got %v, want an apperror Conflict", step.name, err)
		}
		if !step.conflict && err != nil {
			t.Errorf("%s: got %v, want nil", step.name, err)
		}
		st := loadState(t, s, d.ID)
		if !sameLeases(st.Leases, step.want) || st.LeaseVersion != step.wantVer {
			t.Errorf("%s: state got leases %v version %d, want %v version %d", step.name, st.Leases, st.LeaseVersion, step.want, step.wantVer)
		}
	}

	// A state item flagged for held events before its first lease still
	// takes a first lease at version 0.
	other := newDestination(t, s, destination.Active)
	if _, err := s.Hold(ctx, event.Message{Version: 1, EventID: "e", DestinationID: other.ID, ReceivedAt: 1}, base); err != nil {
		t.Fatal(err)
	}
	if err := s.FlagHeld(ctx, other.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteLeases(ctx, other.ID, a, 0); err != nil {
		t.Errorf("WriteLeases at version 0 on a flagged state item: %v", err)
	}
}

// TestWriteLeasesOnAStateItemWithoutVersion: a state item an older version
// wrote without lver (flagging held events or resetting the breaker before
// any lease) takes a first lease at version 0.
func TestWriteLeasesOnAStateItemWithoutVersion(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	d := newDestination(t, s, destination.Active)
	pk, sk := store.DestinationStateKey(d.ID)
	_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: pk}, "sk": &types.AttributeValueMemberS{Value: sk},
		"gsi2pk": &types.AttributeValueMemberS{Value: "HELD"}, "gsi2sk": &types.AttributeValueMemberS{Value: d.ID},
	}})
	if err != nil {
		t.Fatal(err)
	}
	_, st, _, err := s.LoadTarget(ctx, d.ID)
	if err != nil || st.LeaseVersion != 0 {
		t.Fatalf("LoadTarget: version %d, %v", st.LeaseVersion, err)
	}
	if err := s.WriteLeases(ctx, d.ID, map[string]delivery.Lease{"a": lease(1, base.Add(time.Hour))}, 0); err != nil {
		t.Errorf("WriteLeases at version 0 on a state item without lver: %v", err)
	}
	if got := loadState(t, s, d.ID); got.LeaseVersion != 1 {
		t.Errorf("version after the first lease: got %d, want 1", got.LeaseVersion)
	}
}

// TestWriteLeasesRace: two workers that read the same state race to claim
// slots; exactly one write wins, every round.
func TestWriteLeasesRace(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	d := newDestination(t, s, destination.Active)
	for round := range 10 {
		st := loadState(t, s, d.ID)
		var wg sync.WaitGroup
		errs := make([]error, 2)
		ids := []string{fmt.Sprintf("w0-%d", round), fmt.Sprintf("w1-%d", round)}
		start := make(chan struct{})
		for i := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				leases := st.Live(base)
				leases[ids[i]] = lease(1, base.Add(time.Hour))
				<-start
				errs[i] = s.WriteLeases(ctx, d.ID, leases, st.LeaseVersion)
			}()
		}
		close(start)
		wg.Wait()
		var winners []string
		for i, err := range errs {
			switch {
			case err == nil:
				winners = append(winners, ids[i])
			case apperror.CodeOf(err) != apperror.Conflict:
				t.Fatalf("round %d: worker %d got %v, want nil or Conflict", round, i, err)
			}
		}
		if len(winners) != 1 {
			t.Fatalf("round %d: %d writes won, want exactly 1", round, len(winners))
		}
		after := loadState(t, s, d.ID)
		if after.LeaseVersion != st.LeaseVersion+1 {
			t.Errorf("round %d: version got %d, want %d", round, after.LeaseVersion, st.LeaseVersion+1)
		}
		if _, ok := after.Leases[winners[0]]; !ok || len(after.Leases) != round+1 {
			t.Errorf("round %d: leases got %v, want the %d winners so far", round, after.Leases, round+1)
		}
	}
}

func TestReleaseLease(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	d := newDestination(t, s, destination.Active)
	for _, step := range []struct {
		name         string
		outcome      delivery.Outcome
		wantFailures int
	}{
		{"failures are added", delivery.Outcome{TrailingFailures: 2}, 2},
		{"more failures are added", delivery.Outcome{TrailingFailures: 3}, 5},
		{"no attempts leave the count", delivery.Outcome{}, 5},
		{"a success sets the trailing failures", delivery.Outcome{Succeeded: true, TrailingFailures: 1}, 1},
		{"a clean success resets", delivery.Outcome{Succeeded: true}, 0},
		{"failing again", delivery.Outcome{TrailingFailures: 4}, 4},
	} {
		// Each step holds its own lease next to another worker's.
		st := loadState(t, s, d.ID)
		leases := st.Live(base)
		leases["mine"] = lease(2, base.Add(time.Minute))
		leases["theirs"] = lease(1, base.Add(time.Minute))
		if err := s.WriteLeases(ctx, d.ID, leases, st.LeaseVersion); err != nil {
			t.Fatalf("%s: WriteLeases: %v", step.name, err)
		}
		got, err := s.ReleaseLease(ctx, d.ID, "mine", step.outcome)
		if err != nil || got != step.wantFailures {
			t.Errorf("%s: ReleaseLease got %d, %v, want %d, nil", step.name, got, err, step.wantFailures)
		}
		after := loadState(t, s, d.ID)
		if want := map[string]delivery.Lease{"theirs": lease(1, base.Add(time.Minute))}; !sameLeases(after.Leases, want) {
			t.Errorf("%s: leases got %v, want only the other worker's %v", step.name, after.Leases, want)
		}
		if after.LeaseVersion != st.LeaseVersion+2 {
			t.Errorf("%s: version got %d, want %d (one write, one release)", step.name, after.LeaseVersion, st.LeaseVersion+2)
		}
		if after.Failures != step.wantFailures {
			t.Errorf("%s: stored failures got %d, want %d", step.name, after.Failures, step.wantFailures)
		}
	}

	// Releasing a lease that is already gone still records the outcome.
	if got, err := s.ReleaseLease(ctx, d.ID, "never-taken", delivery.Outcome{TrailingFailures: 1}); err != nil || got != 5 {
		t.Errorf("ReleaseLease(unknown lease): got %d, %v, want 5, nil", got, err)
	}

	// Without a state item there is nothing to release, and none is created.
	fresh := uuid.NewString() // deleted, state and all
	if got, err := s.ReleaseLease(ctx, fresh, "x", delivery.Outcome{TrailingFailures: 3}); err != nil || got != 0 {
		t.Errorf("ReleaseLease(no state): got %d, %v, want 0, nil", got, err)
	}
	if item := stateItem(t, fresh); len(item) != 0 {
		t.Errorf("ReleaseLease(no state) created a state item: %v", item)
	}
}

func TestSuspend(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	d := newDestination(t, s, destination.Active)
	openUntil := base.Add(time.Minute)
	ok, err := s.Suspend(ctx, d.ID, openUntil, time.Minute)
	if err != nil || !ok {
		t.Fatalf("Suspend(Active): got %v, %v, want true, nil", ok, err)
	}
	got, err := s.GetDestination(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != destination.Suspended || got.Version != d.Version+1 {
		t.Errorf("after Suspend: got status %s version %d, want Suspended version %d", got.Status, got.Version, d.Version+1)
	}
	st := loadState(t, s, d.ID)
	if !st.OpenUntil.Equal(openUntil) || st.Cooldown != time.Minute || !st.ProbeUntil.IsZero() {
		t.Errorf("breaker: got openUntil %v cooldown %v probeUntil %v, want %v, 1m, zero", st.OpenUntil, st.Cooldown, st.ProbeUntil, openUntil)
	}

	// The version bump makes a concurrent API update re-read.
	if _, err := s.UpdateDestination(ctx, d, false); apperror.CodeOf(err) != apperror.Conflict {
		t.Errorf("UpdateDestination with the pre-suspension version: got %v, want Conflict", err)
	}

	ok, err = s.Suspend(ctx, d.ID, base.Add(time.Hour), time.Hour)
	if err != nil || ok {
		t.Errorf("Suspend(Suspended): got %v, %v, want false, nil", ok, err)
	}
	if again, _ := s.GetDestination(ctx, d.ID); again.Version != got.Version {
		t.Errorf("second Suspend bumped the version to %d, want %d", again.Version, got.Version)
	}
	if st := loadState(t, s, d.ID); !st.OpenUntil.Equal(openUntil) {
		t.Errorf("second Suspend moved openUntil to %v, want %v", st.OpenUntil, openUntil)
	}

	for _, tc := range []struct {
		name string
		id   string
	}{
		{"Inactive", newDestination(t, s, destination.Inactive).ID},
		{"unknown", uuid.NewString()},
	} {
		ok, err := s.Suspend(ctx, tc.id, openUntil, time.Minute)
		if err != nil || ok {
			t.Errorf("Suspend(%s): got %v, %v, want false, nil", tc.name, ok, err)
		}
	}
}

func TestClaimProbe(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	d := newDestination(t, s, destination.Active)
	openUntil := base.Add(time.Minute)
	if ok, err := s.Suspend(ctx, d.ID, openUntil, time.Minute); err != nil || !ok {
		t.Fatalf("Suspend: %v, %v", ok, err)
	}
	for _, step := range []struct {
		name       string
		now, until time.Time
		want       bool
	}{
		{"while cooling down", base, base.Add(20 * time.Second), false},
		{"a millisecond early", openUntil.Add(-time.Millisecond), openUntil.Add(20 * time.Second), false},
		{"cooldown over", openUntil, openUntil.Add(20 * time.Second), true},
		{"second claimer", openUntil, openUntil.Add(20 * time.Second), false},
		{"probe still in flight", openUntil.Add(19 * time.Second), openUntil.Add(40 * time.Second), false},
		{"probe claim expired", openUntil.Add(20 * time.Second), openUntil.Add(40 * time.Second), true},
	} {
		ok, err := s.ClaimProbe(ctx, d.ID, step.now, step.until)
		if err != nil || ok != step.want {
			t.Errorf("%s: ClaimProbe got %v, %v, want %v, nil", step.name, ok, err, step.want)
		}
	}

	// Exactly one of several concurrent claimers wins.
	openUntil2 := base.Add(time.Hour)
	if err := s.ProbeFailed(ctx, d.ID, openUntil2, 2*time.Minute, "e1"); err != nil {
		t.Fatal(err)
	}
	st := loadState(t, s, d.ID)
	if !st.OpenUntil.Equal(openUntil2) || st.Cooldown != 2*time.Minute || !st.ProbeUntil.IsZero() {
		t.Errorf("after ProbeFailed: got openUntil %v cooldown %v probeUntil %v, want %v, 2m, zero", st.OpenUntil, st.Cooldown, st.ProbeUntil, openUntil2)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := s.ClaimProbe(ctx, d.ID, openUntil2, openUntil2.Add(20*time.Second))
			if err != nil {
				t.Errorf("concurrent ClaimProbe: %v", err)
			}
			if ok {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if wins != 1 {
		t.Errorf("concurrent ClaimProbe: %d winners, want 1", wins)
	}
}

func TestReactivate(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	d := newDestination(t, s, destination.Active)
	if err := s.WriteLeases(ctx, d.ID, map[string]delivery.Lease{"a": lease(1, base.Add(time.Minute))}, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReleaseLease(ctx, d.ID, "a", delivery.Outcome{TrailingFailures: 10}); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.Suspend(ctx, d.ID, base.Add(time.Minute), time.Minute); err != nil || !ok {
		t.Fatalf("Suspend: %v, %v", ok, err)
	}
	if ok, err := s.ClaimProbe(ctx, d.ID, base.Add(time.Minute), base.Add(2*time.Minute)); err != nil || !ok {
		t.Fatalf("ClaimProbe: %v, %v", ok, err)
	}

	ok, err := s.Reactivate(ctx, d.ID)
	if err != nil || !ok {
		t.Fatalf("Reactivate(Suspended): got %v, %v, want true, nil", ok, err)
	}
	got, err := s.GetDestination(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != destination.Active || got.Version != d.Version+2 {
		t.Errorf("after Reactivate: got status %s version %d, want Active version %d", got.Status, got.Version, d.Version+2)
	}
	st := loadState(t, s, d.ID)
	if st.Failures != 0 || st.Cooldown != 0 || !st.OpenUntil.IsZero() || !st.ProbeUntil.IsZero() {
		t.Errorf("breaker after Reactivate: got %+v, want reset", st)
	}

	// Not Suspended (any more): nothing to reactivate, the breaker is reset.
	if ok, err := s.Reactivate(ctx, d.ID); err != nil || ok {
		t.Errorf("Reactivate(Active): got %v, %v, want false, nil", ok, err)
	}
	if again, _ := s.GetDestination(ctx, d.ID); again.Version != got.Version || again.Status != destination.Active {
		t.Errorf("second Reactivate changed the destination: %+v", again)
	}
	inactive := newDestination(t, s, destination.Inactive)
	if ok, err := s.Reactivate(ctx, inactive.ID); err != nil || ok {
		t.Errorf("Reactivate(Inactive): got %v, %v, want false, nil", ok, err)
	}
	if again, _ := s.GetDestination(ctx, inactive.ID); again.Status != destination.Inactive {
		t.Errorf("Reactivate(Inactive) changed the status to %s", again.Status)
	}
}

func heldMessage(destinationID, eventID string, receivedAt int64) event.Message {
	return event.Message{
		Version: 1, EventID: eventID, DestinationID: destinationID, TenantID: "t", ReceivedAt: receivedAt,
		ContentType: "application/json", Headers: [][2]string{{"X-Sig", "a,b"}}, Body: []byte(`{"id":"` + eventID + `"}`), Attempts: 2,
	}
}

func heldDestinations(t *testing.T, s *store.Store) []string {
	t.Helper()
	ids, err := s.HeldDestinations(context.Background())
	if err != nil {
		t.Fatalf("HeldDestinations: %v", err)
	}
	return ids
}

func TestHeldEvents(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	d := newDestination(t, s, destination.Suspended)
	// Held out of order; 999 < 1000 < 10000 only if the keys are padded.
	arrivals := []struct {
		id string
		at int64
	}{{"e-c", 10000}, {"e-a", 999}, {"e-b", 1000}, {"e-d", 10000}, {"e-e", 1767225600000}}
	for i, a := range arrivals {
		if _, err := s.Hold(ctx, heldMessage(d.ID, a.id, a.at), time.UnixMilli(a.at)); err != nil {
			t.Fatalf("Hold(%s #%d): %v", a.id, i, err)
		}
	}
	if err := s.FlagHeld(ctx, d.ID); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(heldDestinations(t, s), d.ID) {
		t.Errorf("HeldDestinations: %s missing after Hold with the flag", d.ID)
	}

	held, err := s.ListHeld(ctx, d.ID, 100)
	if err != nil {
		t.Fatalf("ListHeld: %v", err)
	}
	var order []string
	for _, h := range held {
		order = append(order, h.Message.EventID)
	}
	if want := []string{"e-a", "e-b", "e-c", "e-d", "e-e"}; !reflect.DeepEqual(order, want) {
		t.Errorf("ListHeld order: got %v, want %v (by hold time)", order, want)
	}
	if want := heldMessage(d.ID, "e-a", 999); !reflect.DeepEqual(held[0].Message, want) {
		t.Errorf("held message: got %+v, want %+v", held[0].Message, want)
	}
	if first, err := s.ListHeld(ctx, d.ID, 2); err != nil || len(first) != 2 || first[1].Message.EventID != "e-b" {
		t.Errorf("ListHeld(limit 2): got %d items, %v; want e-a, e-b", len(first), err)
	}

	if err := s.DeleteHeld(ctx, d.ID, []string{held[0].SortKey, held[2].SortKey}); err != nil {
		t.Fatalf("DeleteHeld: %v", err)
	}
	rest, err := s.ListHeld(ctx, d.ID, 100)
	if err != nil {
		t.Fatal(err)
	}
	order = nil
	for _, h := range rest {
		order = append(order, h.Message.EventID)
	}
	if want := []string{"e-b", "e-d", "e-e"}; !reflect.DeepEqual(order, want) {
		t.Errorf("after DeleteHeld: got %v, want %v", order, want)
	}

	if err := s.ClearHeldFlag(ctx, d.ID); err != nil {
		t.Fatalf("ClearHeldFlag: %v", err)
	}
	if slices.Contains(heldDestinations(t, s), d.ID) {
		t.Errorf("HeldDestinations: %s still listed after ClearHeldFlag", d.ID)
	}
	// Clearing the flag keeps the events and the rest of the state.
	if again, _ := s.ListHeld(ctx, d.ID, 100); len(again) != 3 {
		t.Errorf("ListHeld after ClearHeldFlag: got %d, want 3", len(again))
	}

	// Holding without the flag does not list the destination.
	other := newDestination(t, s, destination.Inactive)
	if _, err := s.Hold(ctx, heldMessage(other.ID, "x", 1), base); err != nil {
		t.Fatal(err)
	}
	if slices.Contains(heldDestinations(t, s), other.ID) {
		t.Errorf("HeldDestinations: %s listed after a Hold without FlagHeld", other.ID)
	}
	// ClearHeldFlag never creates a state item for a gone destination.
	gone := uuid.NewString()
	if err := s.ClearHeldFlag(ctx, gone); err != nil {
		t.Errorf("ClearHeldFlag(unknown): %v", err)
	}
	if item := stateItem(t, gone); len(item) != 0 {
		t.Errorf("ClearHeldFlag(unknown) created a state item: %v", item)
	}
}

// TestDeleteHeldInBatches deletes more keys than one BatchWriteItem takes.
func TestDeleteHeldInBatches(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	d := newDestination(t, s, destination.Inactive)
	for i := range 60 {
		if _, err := s.Hold(ctx, heldMessage(d.ID, fmt.Sprintf("e-%02d", i), int64(1000+i)), time.UnixMilli(int64(1000+i))); err != nil {
			t.Fatal(err)
		}
	}
	held, err := s.ListHeld(ctx, d.ID, 100)
	if err != nil || len(held) != 60 {
		t.Fatalf("ListHeld: got %d, %v, want 60", len(held), err)
	}
	var keys []string
	for _, h := range held {
		keys = append(keys, h.SortKey)
	}
	if err := s.DeleteHeld(ctx, d.ID, keys); err != nil {
		t.Fatalf("DeleteHeld(60 keys): %v", err)
	}
	if rest, err := s.ListHeld(ctx, d.ID, 100); err != nil || len(rest) != 0 {
		t.Errorf("ListHeld after deleting all: got %d, %v, want 0", len(rest), err)
	}
	if err := s.DeleteHeld(ctx, d.ID, nil); err != nil {
		t.Errorf("DeleteHeld(no keys): %v", err)
	}
}

func dueEvents(t *testing.T, s *store.Store, before time.Time) []string {
	t.Helper()
	ids, err := s.DueEvents(context.Background(), before, 1000)
	if err != nil {
		t.Fatalf("DueEvents: %v", err)
	}
	return ids
}

func TestStoredEvents(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	// A base of its own, far from other tests' events.
	at := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	pending := heldMessage("dest-x", "ev-"+uuid.NewString(), at.UnixMilli())
	pending.Body = []byte("large body \x00\xff")
	failed := heldMessage("dest-x", "ev-"+uuid.NewString(), at.UnixMilli())
	if err := s.PutEvent(ctx, pending, event.StatusPending, at.Add(5*time.Minute)); err != nil {
		t.Fatalf("PutEvent(Pending): %v", err)
	}
	if err := s.PutEvent(ctx, failed, event.StatusFailed, at); err != nil {
		t.Fatalf("PutEvent(Failed): %v", err)
	}

	for _, step := range []struct {
		name        string
		reschedule  time.Time // zero: none
		before      time.Time
		wantPending bool
	}{
		{"not due yet", time.Time{}, at.Add(5 * time.Minute), false},
		{"due", time.Time{}, at.Add(5*time.Minute + time.Millisecond), true},
		{"rescheduled later: not due", at.Add(time.Hour), at.Add(30 * time.Minute), false},
		{"rescheduled: due at the new time", time.Time{}, at.Add(time.Hour + time.Millisecond), true},
		{"rescheduled earlier", at.Add(time.Minute), at.Add(2 * time.Minute), true},
	} {
		if !step.reschedule.IsZero() {
			if err := s.RescheduleEvent(ctx, pending.EventID, step.reschedule); err != nil {
				t.Fatalf("%s: RescheduleEvent: %v", step.name, err)
			}
		}
		ids := dueEvents(t, s, step.before)
		if got := slices.Contains(ids, pending.EventID); got != step.wantPending {
			t.Errorf("%s: pending event in DueEvents(%v): got %v, want %v", step.name, step.before, got, step.wantPending)
		}
		if slices.Contains(ids, failed.EventID) {
			t.Errorf("%s: a Failed event is in DueEvents", step.name)
		}
	}

	for _, tc := range []struct {
		name   string
		msg    event.Message
		status string
	}{
		{"pending", pending, event.StatusPending},
		{"failed", failed, event.StatusFailed},
	} {
		got, status, found, err := s.GetEvent(ctx, tc.msg.EventID)
		if err != nil || !found || status != tc.status || !reflect.DeepEqual(got, tc.msg) {
			t.Errorf("GetEvent(%s): got %+v, %q, %v, %v; want %+v, %q", tc.name, got, status, found, err, tc.msg, tc.status)
		}
	}

	// Rescheduling a Failed or unknown event neither indexes nor creates it.
	if err := s.RescheduleEvent(ctx, failed.EventID, at); err != nil {
		t.Errorf("RescheduleEvent(Failed): %v", err)
	}
	if slices.Contains(dueEvents(t, s, at.Add(time.Hour)), failed.EventID) {
		t.Errorf("RescheduleEvent(Failed) put it in DueEvents")
	}
	unknown := "ev-" + uuid.NewString()
	if err := s.RescheduleEvent(ctx, unknown, at); err != nil {
		t.Errorf("RescheduleEvent(unknown): %v", err)
	}
	if _, _, found, err := s.GetEvent(ctx, unknown); err != nil || found {
		t.Errorf("GetEvent(unknown): found %v, %v; want false, nil", found, err)
	}

	// Storing the pending event as Failed takes it out of the index.
	if err := s.PutEvent(ctx, pending, event.StatusFailed, at); err != nil {
		t.Fatal(err)
	}
	if slices.Contains(dueEvents(t, s, at.Add(24*time.Hour)), pending.EventID) {
		t.Errorf("an event stored as Failed is still in DueEvents")
	}

	if err := s.DeleteEvent(ctx, pending.EventID); err != nil {
		t.Fatalf("DeleteEvent: %v", err)
	}
	if _, _, found, _ := s.GetEvent(ctx, pending.EventID); found {
		t.Errorf("GetEvent after DeleteEvent: still found")
	}
}

// TestDeleteDestinationKeepsHeldFlag: the held events a deleted
// destination leaves behind stay findable, so the sweeper drops them
// (docs/DATA_MODEL.md, "Delete destination").
func TestDeleteDestinationKeepsHeldFlag(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name        string
		hold        bool
		wantFlagged bool
	}{
		{"with held events", true, true},
		{"without held events", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDestination(t, s, destination.Inactive)
			if err := s.WriteLeases(ctx, d.ID, map[string]delivery.Lease{"a": lease(1, base)}, 0); err != nil {
				t.Fatal(err)
			}
			if tc.hold {
				for i, id := range []string{"e-1", "e-2"} {
					if _, err := s.Hold(ctx, heldMessage(d.ID, id, int64(i+1)), time.UnixMilli(int64(i+1))); err != nil {
						t.Fatal(err)
					}
				}
				if err := s.FlagHeld(ctx, d.ID); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.DeleteDestination(ctx, d); err != nil {
				t.Fatalf("DeleteDestination: %v", err)
			}
			if _, _, found, err := s.LoadTarget(ctx, d.ID); err != nil || found {
				t.Errorf("LoadTarget after delete: found %v, %v; want false, nil", found, err)
			}
			if got := slices.Contains(heldDestinations(t, s), d.ID); got != tc.wantFlagged {
				t.Errorf("HeldDestinations lists the deleted destination: got %v, want %v", got, tc.wantFlagged)
			}
			if item := stateItem(t, d.ID); (len(item) != 0) != tc.wantFlagged {
				t.Errorf("state item after delete: got %v, want one only while events are held", item)
			}
		})
	}
}

func TestRetryStoredEventKeepsTheAttemptCount(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	at := time.Date(2002, 3, 4, 5, 6, 7, 0, time.UTC)
	m := heldMessage("dest-y", "ev-"+uuid.NewString(), at.UnixMilli())
	if err := s.PutEvent(ctx, m, event.StatusPending, at.Add(5*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.RetryStoredEvent(ctx, m.EventID, at.Add(time.Hour), 3); err != nil {
		t.Fatal(err)
	}
	got, status, found, err := s.GetEvent(ctx, m.EventID)
	if err != nil || !found || status != event.StatusPending {
		t.Fatalf("GetEvent: %v %v %q", err, found, status)
	}
	if got.Attempts != 3 {
		t.Errorf("attempts after a recorded retry = %d, want 3 (a sweeper re-drive must not reset them)", got.Attempts)
	}
	if ids := dueEvents(t, s, at.Add(30*time.Minute)); slices.Contains(ids, m.EventID) {
		t.Errorf("event due before its new retry time")
	}
	if ids := dueEvents(t, s, at.Add(time.Hour+time.Millisecond)); !slices.Contains(ids, m.EventID) {
		t.Errorf("event not due at its new retry time")
	}
}

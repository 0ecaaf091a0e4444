package deliverytest

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/hooksentry/hooksentry/pkg/apperror"
	"github.com/hooksentry/hooksentry/pkg/delivery"
	"github.com/hooksentry/hooksentry/pkg/destination"
	"github.com/hooksentry/hooksentry/pkg/event"
)

// Harness adapts one implementation of delivery.Store to Run.
type Harness struct {
	// New returns the store under test. Tests use fresh random ids, so a
	// store may be shared across tests.
	New func(t *testing.T) delivery.Store
	// AddDestination creates d as the management API does.
	AddDestination func(t *testing.T, s delivery.Store, d destination.Destination)
	// DeleteDestination deletes d as the management API does.
	DeleteDestination func(t *testing.T, s delivery.Store, d destination.Destination)
}

// Run holds an implementation to the behaviour the worker and the sweeper
// rely on. Every case fails on a store that gets the condition wrong.
func Run(t *testing.T, h Harness) {
	ctx := context.Background()
	now := time.UnixMilli(time.Now().UnixMilli()) // the table keeps milliseconds
	newDest := func(t *testing.T, s delivery.Store, status destination.Status) destination.Destination {
		t.Helper()
		d := destination.Destination{
			ID: uuid.NewString(), TenantID: uuid.NewString(), URL: "https://example.com/hook", Status: status,
			ServerRateLimit: 3, TokenHash: uuid.NewString(), Version: 1, CreatedAt: now, UpdatedAt: now,
		}
		h.AddDestination(t, s, d)
		if _, _, found, err := s.LoadTarget(ctx, d.ID); err != nil || !found {
			t.Fatalf("LoadTarget after AddDestination: found %v, err %v", found, err)
		}
		return d
	}
	load := func(t *testing.T, s delivery.Store, id string) (destination.Destination, delivery.State) {
		t.Helper()
		d, st, found, err := s.LoadTarget(ctx, id)
		if err != nil || !found {
			t.Fatalf("LoadTarget(%s): found %v, err %v", id, found, err)
		}
		return d, st
	}
	msg := func(d destination.Destination, id string) event.Message {
		return event.Message{Version: 1, EventID: id, DestinationID: d.ID, TenantID: d.TenantID, ReceivedAt: now.UnixMilli(),
			ContentType: "application/json", Headers: [][2]string{{"X-Sig", "t=1,v1=a"}}, Body: []byte(`{"id":"` + id + `"}`)}
	}

	t.Run("LoadTarget", func(t *testing.T) {
		s := h.New(t)
		if _, _, found, err := s.LoadTarget(ctx, uuid.NewString()); err != nil || found {
			t.Errorf("unknown destination: found %v, err %v; want not found, no error", found, err)
		}
		d := newDest(t, s, destination.Active)
		got, st := load(t, s, d.ID)
		if got.ID != d.ID || got.Status != destination.Active || got.ServerRateLimit != 3 {
			t.Errorf("destination: got %+v, want %+v", got, d)
		}
		if len(st.Leases) != 0 || st.LeaseVersion != 0 || st.Failures != 0 || !st.OpenUntil.IsZero() {
			t.Errorf("fresh state: got %+v, want empty", st)
		}
	})

	t.Run("WriteLeases is conditional on the version", func(t *testing.T) {
		s := h.New(t)
		d := newDest(t, s, destination.Active)
		_, st := load(t, s, d.ID)
		leases := map[string]delivery.Lease{"a": {Slots: 2, Expires: now.Add(time.Minute)}}
		if err := s.WriteLeases(ctx, d.ID, leases, st.LeaseVersion); err != nil {
			t.Fatalf("first WriteLeases: %v", err)
		}
		if err := s.WriteLeases(ctx, d.ID, map[string]delivery.Lease{"b": {Slots: 3, Expires: now.Add(time.Minute)}}, st.LeaseVersion); apperror.CodeOf(err) != apperror.Conflict {
			t.Errorf("WriteLeases with a stale version: got %v, want a Conflict", err)
		}
		got, err := s.LoadState(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.Leases, leases) || got.LeaseVersion != st.LeaseVersion+1 || got.InUse(now) != 2 {
			t.Errorf("state: got leases %v version %d, want %v version %d", got.Leases, got.LeaseVersion, leases, st.LeaseVersion+1)
		}
	})

	t.Run("no write re-creates the state of a deleted destination", func(t *testing.T) {
		s := h.New(t)
		d := newDest(t, s, destination.Active)
		_, st := load(t, s, d.ID)
		h.DeleteDestination(t, s, d)
		if err := s.WriteLeases(ctx, d.ID, map[string]delivery.Lease{"a": {Slots: 1, Expires: now.Add(time.Minute)}}, st.LeaseVersion); err == nil {
			t.Errorf("WriteLeases after delete: got nil, want an error")
		}
		// The worker's retry reads the state again: NotFound ends its wait.
		if _, err := s.LoadState(ctx, d.ID); apperror.CodeOf(err) != apperror.NotFound {
			t.Errorf("LoadState after delete: got %v, want NotFound", err)
		}
		if err := s.FlagHeld(ctx, d.ID); apperror.CodeOf(err) != apperror.NotFound {
			t.Errorf("FlagHeld after delete: got %v, want NotFound", err)
		}
		if ok, err := s.ClaimProbe(ctx, d.ID, now, now.Add(time.Minute)); ok || err != nil {
			t.Errorf("ClaimProbe after delete: got %v, %v; want false, nil", ok, err)
		}
		if err := s.ProbeFailed(ctx, d.ID, now.Add(time.Minute), time.Minute, "e1"); err != nil {
			t.Errorf("ProbeFailed after delete: %v", err)
		}
		if _, err := s.LoadState(ctx, d.ID); apperror.CodeOf(err) != apperror.NotFound {
			t.Errorf("state after delete and writes: got %v, want none (NotFound)", err)
		}
	})

	t.Run("ReleaseLease records the outcome", func(t *testing.T) {
		s := h.New(t)
		d := newDest(t, s, destination.Active)
		_, st := load(t, s, d.ID)
		leases := map[string]delivery.Lease{"a": {Slots: 1, Expires: now.Add(time.Minute)}, "b": {Slots: 1, Expires: now.Add(time.Minute)}}
		if err := s.WriteLeases(ctx, d.ID, leases, st.LeaseVersion); err != nil {
			t.Fatal(err)
		}
		if got, err := s.ReleaseLease(ctx, d.ID, "a", delivery.Outcome{TrailingFailures: 2}); err != nil || got != 2 {
			t.Errorf("ReleaseLease with 2 failures: got %d, %v; want 2", got, err)
		}
		if got, err := s.ReleaseLease(ctx, d.ID, "b", delivery.Outcome{Succeeded: true, TrailingFailures: 1}); err != nil || got != 1 {
			t.Errorf("ReleaseLease with a success then 1 failure: got %d, %v; want 1", got, err)
		}
		after, err := s.LoadState(ctx, d.ID)
		if err != nil || len(after.Leases) != 0 || after.Failures != 1 || after.LeaseVersion != st.LeaseVersion+3 {
			t.Errorf("state: got %+v, %v; want no leases, 1 failure, version %d", after, err, st.LeaseVersion+3)
		}
	})

	t.Run("the breaker opens once and one prober claims it", func(t *testing.T) {
		s := h.New(t)
		d := newDest(t, s, destination.Active)
		open := now.Add(time.Minute)
		if ok, err := s.Suspend(ctx, d.ID, open, time.Minute); !ok || err != nil {
			t.Fatalf("Suspend: got %v, %v; want true", ok, err)
		}
		if ok, err := s.Suspend(ctx, d.ID, open.Add(time.Hour), time.Hour); ok || err != nil {
			t.Errorf("second Suspend: got %v, %v; want false", ok, err)
		}
		got, st := load(t, s, d.ID)
		if got.Status != destination.Suspended || !st.OpenUntil.Equal(open) || st.Cooldown != time.Minute {
			t.Errorf("after Suspend: status %s, openUntil %v, cooldown %v; want Suspended, %v, 1m", got.Status, st.OpenUntil, st.Cooldown, open)
		}
		for _, tc := range []struct {
			at, until time.Time
			want      bool
		}{
			{now, now.Add(time.Hour), false},                           // cooling down
			{open, open.Add(30 * time.Second), true},                   // due
			{open.Add(10 * time.Second), open.Add(time.Minute), false}, // claimed
			{open.Add(30 * time.Second), open.Add(time.Minute), true},  // the claim passed
			{open.Add(31 * time.Second), open.Add(2 * time.Minute), false},
		} {
			if ok, err := s.ClaimProbe(ctx, d.ID, tc.at, tc.until); ok != tc.want || err != nil {
				t.Errorf("ClaimProbe at %v: got %v, %v; want %v", tc.at.Sub(now), ok, err, tc.want)
			}
		}
		if err := s.ProbeFailed(ctx, d.ID, open.Add(2*time.Minute), 2*time.Minute, "poison"); err != nil {
			t.Fatal(err)
		}
		_, st = load(t, s, d.ID)
		if !st.OpenUntil.Equal(open.Add(2*time.Minute)) || st.Cooldown != 2*time.Minute || !st.ProbeUntil.IsZero() || st.LastProbe != "poison" {
			t.Errorf("after ProbeFailed: got %+v", st)
		}
		if ok, err := s.Reactivate(ctx, d.ID); !ok || err != nil {
			t.Errorf("Reactivate: got %v, %v; want true", ok, err)
		}
		got, st = load(t, s, d.ID)
		if got.Status != destination.Active || st.Failures != 0 || !st.OpenUntil.IsZero() || st.Cooldown != 0 || st.LastProbe != "" {
			t.Errorf("after Reactivate: status %s, state %+v; want Active, breaker reset", got.Status, st)
		}
		if ok, err := s.Reactivate(ctx, d.ID); ok || err != nil {
			t.Errorf("second Reactivate: got %v, %v; want false", ok, err)
		}
	})

	t.Run("Suspend leaves an Inactive destination alone", func(t *testing.T) {
		s := h.New(t)
		d := newDest(t, s, destination.Inactive)
		if ok, err := s.Suspend(ctx, d.ID, now.Add(time.Minute), time.Minute); ok || err != nil {
			t.Errorf("Suspend: got %v, %v; want false", ok, err)
		}
		if got, _ := load(t, s, d.ID); got.Status != destination.Inactive {
			t.Errorf("status: got %s, want Inactive", got.Status)
		}
	})

	t.Run("every hold has a key of its own", func(t *testing.T) {
		// A drain deletes the holds it read; the same event held again
		// meanwhile must survive it.
		s := h.New(t)
		d := newDest(t, s, destination.Suspended)
		m := msg(d, "e1")
		first, err := s.Hold(ctx, m, now)
		if err != nil {
			t.Fatal(err)
		}
		again := m
		again.Attempts = 1
		second, err := s.Hold(ctx, again, now)
		if err != nil {
			t.Fatal(err)
		}
		if first == second {
			t.Fatalf("two holds of one event share the key %q", first)
		}
		if err := s.DeleteHeld(ctx, d.ID, []string{first}); err != nil {
			t.Fatal(err)
		}
		held, err := s.ListHeld(ctx, d.ID, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(held) != 1 || held[0].SortKey != second || !reflect.DeepEqual(held[0].Message, again) {
			t.Errorf("after deleting the first hold: got %+v, want only the second %+v", held, again)
		}
	})

	t.Run("holds list in the order they were made", func(t *testing.T) {
		s := h.New(t)
		d := newDest(t, s, destination.Inactive)
		for i, id := range []string{"late-arrival", "early-arrival", "probe-that-failed"} {
			if _, err := s.Hold(ctx, msg(d, id), now.Add(time.Duration(i))); err != nil {
				t.Fatal(err)
			}
		}
		held, err := s.ListHeld(ctx, d.ID, 2)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, h := range held {
			got = append(got, h.Message.EventID)
		}
		if want := []string{"late-arrival", "early-arrival"}; !reflect.DeepEqual(got, want) {
			t.Errorf("ListHeld(2): got %v, want %v", got, want)
		}
		if err := s.FlagHeld(ctx, d.ID); err != nil {
			t.Errorf("FlagHeld: %v", err)
		}
		if err := s.ClearHeldFlag(ctx, d.ID); err != nil {
			t.Errorf("ClearHeldFlag: %v", err)
		}
	})

	t.Run("one drain chain at a time", func(t *testing.T) {
		s := h.New(t)
		d := newDest(t, s, destination.Active)
		for _, tc := range []struct {
			name  string
			chain string
			at    time.Time
			want  bool
		}{
			{"first chain", "a", now, true},
			{"another chain while a's claim lives", "b", now.Add(10 * time.Second), false},
			{"a's next round", "a", now.Add(20 * time.Second), true},
			{"b once a's claim has passed", "b", now.Add(51 * time.Second), true},
			{"a's late round", "a", now.Add(52 * time.Second), false},
		} {
			if ok, err := s.ClaimDrain(ctx, d.ID, tc.chain, tc.at, tc.at.Add(30*time.Second)); ok != tc.want || err != nil {
				t.Errorf("ClaimDrain, %s: got %v, %v; want %v", tc.name, ok, err, tc.want)
			}
		}
		if err := s.ReleaseDrain(ctx, d.ID, "a"); err != nil {
			t.Fatal(err)
		}
		if ok, _ := s.ClaimDrain(ctx, d.ID, "c", now.Add(53*time.Second), now.Add(83*time.Second)); ok {
			t.Errorf("a released b's claim")
		}
		if err := s.ReleaseDrain(ctx, d.ID, "b"); err != nil {
			t.Fatal(err)
		}
		if ok, err := s.ClaimDrain(ctx, d.ID, "c", now.Add(54*time.Second), now.Add(84*time.Second)); !ok || err != nil {
			t.Errorf("ClaimDrain after b released: got %v, %v; want true", ok, err)
		}
	})

	t.Run("failing is decided once per attempt count", func(t *testing.T) {
		s := h.New(t)
		d := newDest(t, s, destination.Active)
		m := msg(d, uuid.NewString())
		m.Attempts = 5
		if err := s.PutEvent(ctx, m, event.StatusFailed, now); err != nil {
			t.Fatalf("first Failed put: %v", err)
		}
		if err := s.PutEvent(ctx, m, event.StatusFailed, now); apperror.CodeOf(err) != apperror.Conflict {
			t.Errorf("second Failed put at the same count: got %v, want Conflict", err)
		}
		replayed := m
		replayed.Prior, replayed.Attempts = 5, 2
		if err := s.PutEvent(ctx, replayed, event.StatusFailed, now); err != nil {
			t.Errorf("a replay failing again (7 attempts): %v, want stored", err)
		}
		if got, status, _, _ := s.GetEvent(ctx, m.EventID); status != event.StatusFailed || got.Prior != 5 || got.Attempts != 2 {
			t.Errorf("GetEvent: %+v %q, want the replay's Failed copy", got, status)
		}
		if err := s.PutEvent(ctx, m, event.StatusFailed, now); apperror.CodeOf(err) != apperror.Conflict {
			t.Errorf("an older failure after the replay's: got %v, want Conflict", err)
		}
	})

	t.Run("stored events", func(t *testing.T) {
		s := h.New(t)
		d := newDest(t, s, destination.Active)
		m := msg(d, uuid.NewString())
		if err := s.PutEvent(ctx, m, event.StatusPending, now.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		got, status, found, err := s.GetEvent(ctx, m.EventID)
		if err != nil || !found || status != event.StatusPending || !reflect.DeepEqual(got, m) {
			t.Fatalf("GetEvent: got %+v %q %v %v, want %+v Pending", got, status, found, err, m)
		}
		if err := s.RetryStoredEvent(ctx, m.EventID, now.Add(2*time.Minute), 3); err != nil {
			t.Fatal(err)
		}
		if got, _, _, _ := s.GetEvent(ctx, m.EventID); got.Attempts != 3 {
			t.Errorf("attempts after RetryStoredEvent: got %d, want 3", got.Attempts)
		}
		if err := s.FailStoredEvent(ctx, m.EventID, 4, now); err != nil {
			t.Fatal(err)
		}
		got, status, _, _ = s.GetEvent(ctx, m.EventID)
		if status != event.StatusFailed || got.Attempts != 4 || string(got.Body) != string(m.Body) {
			t.Errorf("after FailStoredEvent: got %+v %q, want Failed with 4 attempts and the body", got, status)
		}
		if err := s.DeleteEvent(ctx, m.EventID); err != nil {
			t.Fatal(err)
		}
		if _, _, found, err := s.GetEvent(ctx, m.EventID); found || err != nil {
			t.Errorf("GetEvent after delete: found %v, err %v", found, err)
		}
		if err := s.FailStoredEvent(ctx, m.EventID, 5, now); apperror.CodeOf(err) != apperror.NotFound {
			t.Errorf("FailStoredEvent of a gone event: got %v, want NotFound (never a body-less Failed record)", err)
		}
	})
}

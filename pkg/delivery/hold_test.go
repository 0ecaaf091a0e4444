package delivery_test

import (
	"context"
	"testing"
	"time"

	"github.com/hooksentry/hooksentry/pkg/delivery"
	"github.com/hooksentry/hooksentry/pkg/destination"
	"github.com/hooksentry/hooksentry/pkg/event"
	"github.com/hooksentry/hooksentry/pkg/testkit"
)

// TestDrainKeepsAnEventHeldAgainMeanwhile: defect 1. While a drain
// re-drives a page, another worker picks a re-driven event up and holds it
// again; the drain's delete must not take the new hold with it.
func TestDrainKeepsAnEventHeldAgainMeanwhile(t *testing.T) {
	f := newWorkerFixture(t)
	d := f.addDestination(destination.Active, 5, delivery.State{})
	m := f.events(d, 1)[0]
	if _, err := f.store.Hold(context.Background(), m, f.clock.Now()); err != nil {
		t.Fatal(err)
	}
	f.queue.onEnqueue = func(msgs []event.Message) {
		for _, m := range msgs {
			if _, err := f.store.Hold(context.Background(), m, f.clock.Now()); err != nil {
				t.Error(err)
			}
		}
	}
	if failed := f.handle(t, batch(t, event.DrainRequest(d.ID))); len(failed) != 0 {
		t.Errorf("drain: batch item failures %v", failed)
	}
	if got := heldIDsOf(f.store.Held(d.ID)); len(got) != 1 || got[0] != m.EventID {
		t.Errorf("held after the drain: got %v, want the second hold of %s", got, m.EventID)
	}
}

// TestEveryHoldOfABatchIsFlagged: defect 3. A drain that clears the flag
// between two holds of one batch must not leave the later holds unflagged.
func TestEveryHoldOfABatchIsFlagged(t *testing.T) {
	f := newWorkerFixture(t)
	d := f.addDestination(destination.Inactive, 5, delivery.State{})
	holds := 0
	f.store.OnHold = func(event.Message) {
		if holds++; holds == 1 {
			// a drain finishing between the batch's first and second hold
			if err := f.store.ClearHeldFlag(context.Background(), d.ID); err != nil {
				t.Error(err)
			}
		}
	}
	if failed := f.handle(t, batch(t, f.events(d, 3)...)); len(failed) != 0 {
		t.Errorf("batch item failures: %v", failed)
	}
	if got := len(f.store.Held(d.ID)); got != 3 {
		t.Errorf("held: got %d, want 3", got)
	}
	f.checkFlagged(t, d)
}

// TestHoldForADeletedDestinationIsDropped: a destination deleted while its
// events were being held loses them (CONTRACT §2) and keeps no state.
func TestHoldForADeletedDestinationIsDropped(t *testing.T) {
	f := newWorkerFixture(t)
	d := f.addDestination(destination.Inactive, 5, delivery.State{})
	f.store.OnHold = func(event.Message) { f.store.DeleteDestination(d.ID) }
	if failed := f.handle(t, batch(t, f.events(d, 2)...)); len(failed) != 0 {
		t.Errorf("batch item failures: %v", failed)
	}
	if got := len(f.store.Held(d.ID)); got != 0 {
		t.Errorf("held: got %d, want 0 (dropped with the destination)", got)
	}
}

// TestDrainFlagsAHoldMadeAsItClearedTheFlag: the last, empty round of a
// drain clears the flag; an event held just then is found by the final
// read and must be flagged again, or the sweeper could never find it if the
// destination stops being Active before the next round.
func TestDrainFlagsAHoldMadeAsItClearedTheFlag(t *testing.T) {
	f := newWorkerFixture(t)
	d := f.addDestination(destination.Active, 5, delivery.State{})
	f.store.OnClearHeldFlag = func(string) {
		// Another worker held an event and flagged it just before this
		// drain cleared the flag: the hold is there, the flag is not.
		f.store.OnClearHeldFlag = nil
		if _, err := f.store.Hold(context.Background(), f.events(d, 1)[0], f.clock.Now()); err != nil {
			t.Error(err)
		}
	}
	if failed := f.handle(t, batch(t, event.DrainRequest(d.ID))); len(failed) != 0 {
		t.Errorf("drain: batch item failures %v", failed)
	}
	if len(f.store.Held(d.ID)) != 1 {
		t.Fatalf("held: got %d, want the one held during the drain", len(f.store.Held(d.ID)))
	}
	f.checkFlagged(t, d)
}

// TestOneDrainChainAtATime: a drain request that finds another chain
// draining does nothing; the running chain carries its id to its next round.
func TestOneDrainChainAtATime(t *testing.T) {
	f := newWorkerFixture(t)
	d := f.addDestination(destination.Active, 5, delivery.State{})
	for _, m := range f.events(d, 3) {
		if _, err := f.store.Hold(context.Background(), m, f.clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if failed := f.handle(t, batch(t, event.DrainRequest(d.ID))); len(failed) != 0 {
		t.Fatalf("first drain: batch item failures %v", failed)
	}
	sent, enqueued := f.queue.messages()
	_, drains, _ := testkit.SplitMessages(sent)
	if len(enqueued) != 3 || len(drains) != 1 || drains[0].DrainChain == "" {
		t.Fatalf("first round: re-drove %d, next rounds %+v; want 3 and one round with the chain id", len(enqueued), drains)
	}
	// A second chain (the sweeper's request) while the first one's claim lives.
	for _, m := range f.events(d, 2) {
		if _, err := f.store.Hold(context.Background(), m, f.clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if failed := f.handle(t, batch(t, event.DrainRequest(d.ID))); len(failed) != 0 {
		t.Fatalf("second chain: batch item failures %v", failed)
	}
	if _, again := f.queue.messages(); len(again) != 3 {
		t.Errorf("the second chain re-drove %d more, want none while the first one drains", len(again)-3)
	}
	// The first chain's next round goes on.
	if failed := f.handle(t, batch(t, drains[0])); len(failed) != 0 {
		t.Fatalf("next round: batch item failures %v", failed)
	}
	if _, again := f.queue.messages(); len(again) != 5 {
		t.Errorf("after the chain's next round: re-drove %d in all, want 5", len(again))
	}
}

// TestDrainChainEndsWhenTheDestinationStopsBeingActive: a chain that finds
// its destination suspended gives its claim back, so the drain asked for
// when the destination recovers is not turned away.
func TestDrainChainEndsWhenTheDestinationStopsBeingActive(t *testing.T) {
	f := newWorkerFixture(t)
	d := f.addDestination(destination.Active, 5, delivery.State{})
	ctx := context.Background()
	if ok, err := f.store.ClaimDrain(ctx, d.ID, "old-chain", f.clock.Now(), f.clock.Now().Add(time.Minute)); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if ok, err := f.store.Suspend(ctx, d.ID, f.clock.Now().Add(time.Second), time.Second); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if failed := f.handle(t, batch(t, event.NextDrainRound(d.ID, "old-chain"))); len(failed) != 0 {
		t.Fatalf("round of the old chain: batch item failures %v", failed)
	}
	if ok, err := f.store.ClaimDrain(ctx, d.ID, "new-chain", f.clock.Now(), f.clock.Now().Add(time.Minute)); !ok || err != nil {
		t.Errorf("a new chain after the old one ended: got %v, %v; want the claim", ok, err)
	}
}

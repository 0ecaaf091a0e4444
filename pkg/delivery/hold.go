package delivery

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/hooksentry/hooksentry/pkg/apperror"
	"github.com/hooksentry/hooksentry/pkg/destination"
	"github.com/hooksentry/hooksentry/pkg/event"
)

// holdAll parks events of a destination that is not Active and returns
// those it could not park. Every hold gets a key of its own; the
// destination is flagged once, after the last hold, so a drainer (which
// clears the flag before its final read) either sees every hold or finds
// the flag set again. Failed probes are held behind the others: the next
// probe is another event.
func (w *Worker) holdAll(ctx context.Context, d destination.Destination, items []*item) []*item {
	if len(items) == 0 {
		return nil
	}
	// In arrival order, failed probes last (settle's outcomes come from a
	// map, in no order).
	slices.SortFunc(items, func(a, b *item) int {
		switch {
		case a.last != b.last && b.last:
			return -1
		case a.last != b.last:
			return 1
		}
		return cmp.Or(cmp.Compare(a.msg.ReceivedAt, b.msg.ReceivedAt), cmp.Compare(a.msg.EventID, b.msg.EventID))
	})
	now := w.now()
	var unsettled, held []*item
	var keys []string
	for i, it := range items {
		// One nanosecond apart: holds list in the order they are made.
		key, err := w.Store.Hold(ctx, it.full, now.Add(time.Duration(i)))
		if err != nil {
			w.log().ErrorContext(ctx, "hold event", "eventId", it.msg.EventID, "destinationId", d.ID, "error", err)
			unsettled = append(unsettled, it)
			continue
		}
		held, keys = append(held, it), append(keys, key)
	}
	if len(held) == 0 {
		return unsettled
	}
	err := w.Store.FlagHeld(ctx, d.ID)
	switch {
	case apperror.CodeOf(err) == apperror.NotFound:
		// Deleted while we held: its events go with it.
		if err := w.Store.DeleteHeld(ctx, d.ID, keys); err != nil {
			w.log().ErrorContext(ctx, "drop holds of deleted destination", "destinationId", d.ID, "error", err)
		}
	case err != nil:
		// Unflagged holds might never be re-driven: take them back and let
		// SQS deliver the messages again.
		w.log().ErrorContext(ctx, "flag held events", "destinationId", d.ID, "error", err)
		if err := w.Store.DeleteHeld(ctx, d.ID, keys); err != nil {
			w.log().ErrorContext(ctx, "take back unflagged holds", "destinationId", d.ID, "error", err)
		}
		return append(unsettled, held...)
	}
	for _, it := range held {
		err := w.releaseHold(ctx, d.ID, it)
		if err == nil && it.msg.Stored {
			err = w.Store.DeleteEvent(ctx, it.msg.EventID)
		}
		if err != nil {
			w.log().ErrorContext(ctx, "settle held event", "eventId", it.msg.EventID, "destinationId", d.ID, "error", err)
			unsettled = append(unsettled, it)
		}
	}
	return unsettled
}

// releaseHold deletes the hold an item was taken from, once its outcome is
// durable elsewhere. Only the reader of a hold deletes it.
func (w *Worker) releaseHold(ctx context.Context, destinationID string, it *item) error {
	if it.heldKey == "" {
		return nil
	}
	if err := w.Store.DeleteHeld(ctx, destinationID, []string{it.heldKey}); err != nil {
		return fmt.Errorf("release hold of event %s: %w", it.msg.EventID, err)
	}
	it.heldKey = ""
	return nil
}

// drainPage is how many held events one drain message re-drives.
const drainPage = 100

// drainClaim is how long one round of a drain chain keeps other chains
// out; a chain whose next round comes later (its worker died, the queue is
// long) gives way to the next drain request.
const drainClaim = 30 * time.Second

// drain re-drives up to a page of held events of an Active destination and
// asks for another round until none are left. It deletes exactly the holds
// it read and re-drove: an event held again meanwhile has a new key. One
// chain of rounds runs at a time (ClaimDrain): an activation, a probe and
// the sweeper may each ask, and two chains reading the same page would
// re-drive its events twice.
func (w *Worker) drain(ctx context.Context, req event.Message) (err error) {
	destinationID := req.DestinationID
	d, _, found, lerr := w.Store.LoadTarget(ctx, destinationID)
	if lerr != nil {
		return lerr
	}
	if !found || d.Status != destination.Active {
		// Not Active: a later activation or probe drains, so a running
		// chain ends here and gives its claim back for that one. Deleted:
		// the flag stays, and the sweeper drops the holds and the state.
		if found && req.DrainChain != "" {
			return w.Store.ReleaseDrain(ctx, destinationID, req.DrainChain)
		}
		return nil
	}
	chain := req.DrainChain
	if chain == "" {
		chain = uuid.NewString()
	}
	now := w.now()
	if ok, err := w.Store.ClaimDrain(ctx, destinationID, chain, now, now.Add(drainClaim)); err != nil || !ok {
		return err // another chain is draining
	}
	defer func() {
		if err != nil {
			// SQS delivers this round again, as a new chain (the first
			// round has none yet): let it claim at once.
			if rerr := w.Store.ReleaseDrain(ctx, destinationID, chain); rerr != nil {
				w.log().ErrorContext(ctx, "release drain claim", "destinationId", destinationID, "error", rerr)
			}
		}
	}()
	held, err := w.Store.ListHeld(ctx, destinationID, drainPage)
	if err != nil {
		return err
	}
	if len(held) == 0 {
		if err := w.Store.ClearHeldFlag(ctx, destinationID); err != nil {
			return err
		}
		// An event parked while the flag was being cleared must not strand:
		// flag it again (the destination may stop being Active before the
		// next round, which then leaves it to the sweeper) and go on.
		again, err := w.Store.ListHeld(ctx, destinationID, 1)
		if err != nil {
			return err
		}
		if len(again) == 0 {
			return w.Store.ReleaseDrain(ctx, destinationID, chain)
		}
		if err := w.Store.FlagHeld(ctx, destinationID); err != nil && apperror.CodeOf(err) != apperror.NotFound {
			return err
		}
		return w.Queue.Send(ctx, event.NextDrainRound(destinationID, chain))
	}
	msgs := make([]event.Message, len(held))
	for i, h := range held {
		msgs[i] = h.Message
		msgs[i].NotBefore = 0
	}
	notSent := map[int]bool{}
	failed, err := w.Queue.PublishBatch(ctx, msgs)
	if err != nil {
		w.log().ErrorContext(ctx, "re-drive held events", "destinationId", destinationID, "failed", len(failed), "error", err)
	}
	for _, i := range failed {
		notSent[i] = true
	}
	if len(failed) == len(held) {
		return fmt.Errorf("re-drive held events of %s: %w", destinationID, err)
	}
	var done []string // on the queue again
	for i, h := range held {
		if !notSent[i] {
			done = append(done, h.SortKey)
		}
	}
	if err := w.Store.DeleteHeld(ctx, destinationID, done); err != nil {
		return err
	}
	return w.Queue.Send(ctx, event.NextDrainRound(destinationID, chain))
}

package delivery

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/hooksentry/hooksentry/pkg/event"
	"github.com/hooksentry/hooksentry/pkg/history"
)

// The deliver function writes every event's history (CONTRACT §5): each
// settled event's Change, all of one batch's in one Recorder call, before
// any of them goes back on the queue, into a hold or into the table, so
// those messages can say that the record exists (Recorded). See the
// package doc for what a failed Record does.

// record makes the history changes of a destination's settled items in one
// call and sets the flags of the messages that go on: Recorded once their
// change is recorded, Manual cleared once an attempt was made (a replay's
// first attempt is Manual, the later ones Automatic).
func (w *Worker) record(ctx context.Context, destinationID string, todo map[*item]disposition) {
	var changes []history.Change
	var items []*item
	if w.History != nil {
		now := w.now()
		for it, disp := range todo {
			if c, ok := change(it, disp, now); ok {
				changes, items = append(changes, c), append(items, it)
			}
		}
	}
	for it := range todo {
		if it.attempt != nil {
			it.msg.Manual, it.full.Manual = false, false
		}
	}
	if len(changes) == 0 {
		return
	}
	// In receipt order (settle's outcomes come from a map, in no order).
	slices.SortFunc(changes, func(a, b history.Change) int {
		return cmp.Or(cmp.Compare(a.Event.ReceivedAt, b.Event.ReceivedAt), cmp.Compare(a.Event.EventID, b.Event.EventID))
	})
	if err := w.History.Record(ctx, changes); err != nil {
		// Observability, not delivery: the events are settled as usual.
		// Their messages keep the Recorded flag they had, so the next
		// change of an event that has no record yet creates it.
		w.log().ErrorContext(ctx, "record event history", "destinationId", destinationID, "events", len(changes), "error", err)
		return
	}
	for _, it := range items {
		it.msg.Recorded, it.full.Recorded = true, true
	}
}

// change is what settling it with disp does to its record; false when it
// does nothing: a drop, or a re-queue or redelivery of an event whose
// record exists already (it stays what it was). An event without a record
// that goes back to the queue unattempted is recorded Pending, so it is
// readable while it waits (a redelivery waits out the visibility timeout).
func change(it *item, disp disposition, now time.Time) (history.Change, bool) {
	c := history.Change{Event: it.recordedEvent(), Attempt: it.attempt, MayExist: it.redelivered}
	switch disp {
	case delivered:
		c.Status, c.DeliveredAt = history.Delivered, now
	case retry:
		c.Status, c.NextAttemptAt = history.Pending, it.due
	case failed:
		c.Status = history.Failed
	case hold:
		c.Status = history.Held
	case requeue, redeliver:
		if it.full.Recorded {
			return history.Change{}, false
		}
		c.Status = history.Pending
	default:
		return history.Change{}, false
	}
	return c, true
}

// recordedEvent is the event as its Change shows it: in full, with its
// flags as received and its attempt count as before this batch's attempt
// (spent by now when the attempt failed).
func (it *item) recordedEvent() event.Message {
	m := it.full
	m.Attempts = it.attempts()
	if it.attempt != nil {
		m.Attempts = it.attempt.Number - m.Prior - 1
	}
	return m
}

// slowBatch records the events of a batch Pending once the batch has
// taken longer than Config.RecordPendingAfter, so that an event is
// readable while its slow attempt (or its wait for a slot) lasts. A batch
// that settles in time writes nothing extra.
type slowBatch struct {
	mu       sync.Mutex
	timer    *time.Timer
	items    []*item // those that had no record when the batch began
	stopped  bool
	recorded bool
}

// recordIfSlow starts the watch over items; stop must be called before
// the batch is settled.
func (w *Worker) recordIfSlow(ctx context.Context, destinationID string, items []*item) *slowBatch {
	s := &slowBatch{}
	if w.History == nil {
		return s
	}
	var changes []history.Change
	for _, it := range items {
		if !it.full.Recorded {
			// A copy taken now: the attempts change the items meanwhile.
			s.items, changes = append(s.items, it), append(changes, history.Change{Event: it.full, Status: history.Pending, MayExist: it.redelivered})
		}
	}
	if len(changes) == 0 {
		return s
	}
	after := w.Config.RecordPendingAfter
	if after <= 0 {
		after = DefaultRecordPendingAfter
	}
	s.timer = time.AfterFunc(after, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.stopped {
			return
		}
		if err := w.History.Record(ctx, changes); err != nil {
			w.log().ErrorContext(ctx, "record slow events pending", "destinationId", destinationID, "events", len(changes), "error", err)
			return
		}
		s.recorded = true
	})
	return s
}

// stop ends the watch, waiting for a write under way, and marks the items
// it recorded, so their outcome updates the record rather than creating it.
func (s *slowBatch) stop() {
	if s.timer == nil {
		return
	}
	s.timer.Stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopped = true
	if s.recorded {
		for _, it := range s.items {
			it.msg.Recorded, it.full.Recorded = true, true
		}
	}
}

package delivery

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/hooksentry/hooksentry/pkg/destination"
	"github.com/hooksentry/hooksentry/pkg/event"
	"github.com/hooksentry/hooksentry/pkg/history"
)

// item is one event of a batch on its way through the worker.
type item struct {
	messageID   string        // its SQS message; empty for a held event a probe took
	msg         event.Message // as received: a reference when the body is stored
	full        event.Message // with body and headers
	heldKey     string        // the hold it was taken from; deleted once it is settled
	last        bool          // a failed probe: held behind everything else, so it is not the next probe
	redelivered bool          // SQS delivered its message before: its record may exist though the message says not

	attempt *history.Attempt // the attempt this batch made of it, for its history; nil when none
	due     time.Time        // a retry: when it is due
}

// attempts is the event's count of failed attempts: the message and the
// stored copy may disagree (a reference's stored event was retried through
// another message), and the higher count is the event's.
func (it *item) attempts() int { return max(it.msg.Attempts, it.full.Attempts) }

// spendAttempt counts a failed attempt.
func (it *item) spendAttempt() {
	n := it.attempts() + 1
	it.msg.Attempts, it.full.Attempts = n, n
}

// disposition is what becomes of an item once its batch is done with it.
type disposition int

const (
	delivered disposition = iota
	retry                 // a failed attempt: back on the queue with backoff, or Failed
	failed                // attempts spent (a failed probe): stored as Failed
	hold                  // parked until the destination is Active
	requeue               // not attempted: back on the queue as it was
	drop                  // its destination was deleted
	redeliver             // reported as a batch item failure: SQS delivers it again later
)

// Handle processes one SQS batch. Messages it cannot settle are reported
// as batch item failures, so SQS delivers them again; nothing is deleted
// before its event is delivered, re-queued, held or stored as failed.
func (w *Worker) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	ctx, t := withTally(ctx)
	if w.Metrics != nil {
		defer func() { w.Metrics.Delivery(t.batch()) }()
	}
	var resp events.SQSEventResponse
	var mu sync.Mutex
	fail := func(ids ...string) {
		mu.Lock()
		defer mu.Unlock()
		for _, id := range ids {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: id})
		}
	}
	groups := map[string][]*item{}
	var order []string
	now := w.now()
	for _, rec := range ev.Records {
		m, err := event.Decode(rec.Body)
		if err != nil {
			// A message nobody can read goes to the DLQ, where an alarm fires.
			w.log().ErrorContext(ctx, "undecodable message", "messageId", rec.MessageId, "error", err)
			fail(rec.MessageId)
			continue
		}
		if m.NotBefore > now.Add(time.Second).UnixMilli() {
			// Arrived early: its delay was longer than SQS allows.
			if err := w.Queue.Send(ctx, m); err != nil {
				w.log().ErrorContext(ctx, "re-delay message", "eventId", m.EventID, "destinationId", m.DestinationID, "error", err)
				fail(rec.MessageId)
			}
			continue
		}
		switch {
		case m.Drain:
			if err := w.drain(ctx, m); err != nil {
				w.log().ErrorContext(ctx, "drain held events", "destinationId", m.DestinationID, "error", err)
				fail(rec.MessageId)
			}
			continue
		case m.Probe:
			if err := w.probeHeld(ctx, m.DestinationID); err != nil {
				w.log().ErrorContext(ctx, "probe with a held event", "destinationId", m.DestinationID, "error", err)
				fail(rec.MessageId)
			}
			continue
		}
		if _, ok := groups[m.DestinationID]; !ok {
			order = append(order, m.DestinationID)
		}
		it := &item{messageID: rec.MessageId, msg: m, full: m, redelivered: receivedBefore(rec)}
		groups[m.DestinationID] = append(groups[m.DestinationID], it)
	}
	if len(order) == 1 {
		// The common case: no goroutine, the invocation's stack is warm.
		fail(messageIDs(w.deliverGroup(ctx, order[0], groups[order[0]]))...)
		return resp, nil
	}
	var wg sync.WaitGroup
	for _, id := range order {
		wg.Add(1)
		go func(items []*item) {
			defer wg.Done()
			fail(messageIDs(w.deliverGroup(ctx, id, items))...)
		}(groups[id])
	}
	wg.Wait()
	return resp, nil
}

// receivedBefore reports whether SQS has delivered rec before (its
// ApproximateReceiveCount, which the event source mapping passes on).
func receivedBefore(rec events.SQSMessage) bool {
	n, err := strconv.Atoi(rec.Attributes["ApproximateReceiveCount"])
	return err == nil && n > 1
}

// all gives every item the same disposition.
func all(items []*item, d disposition) map[*item]disposition {
	out := make(map[*item]disposition, len(items))
	for _, it := range items {
		out[it] = d
	}
	return out
}

func messageIDs(items []*item) []string {
	out := make([]string, 0, len(items))
	for _, it := range items {
		if it.messageID != "" {
			out = append(out, it.messageID)
		}
	}
	return out
}

// deliverGroup handles the events of one destination and returns those it
// could not settle.
func (w *Worker) deliverGroup(ctx context.Context, destinationID string, items []*item) []*item {
	d, st, found, err := w.Store.LoadTarget(ctx, destinationID)
	if err != nil {
		w.log().ErrorContext(ctx, "load destination", "destinationId", destinationID, "error", err)
		return items
	}
	if !found {
		// The destination was deleted: its events go with it (CONTRACT §2).
		return w.settle(ctx, d, all(items, drop), nil)
	}
	items, unloaded := w.loadBodies(ctx, items)
	var out map[*item]disposition
	var results map[*item]Result
	recovered := false
	slow := w.recordIfSlow(ctx, d.ID, items)
	switch {
	case d.Status == destination.Active:
		out, results = w.deliverActive(ctx, d, st, items)
	case d.Status == destination.Suspended && len(items) > 0 && st.ProbeDue(w.now()):
		if out, results, recovered, err = w.probeArriving(ctx, d, st, items); err != nil {
			slow.stop()
			w.log().ErrorContext(ctx, "claim probe", "destinationId", d.ID, "error", err)
			return append(unloaded, items...)
		}
	default: // Inactive, or Suspended and cooling down: hold without spending attempts
		out = all(items, hold)
	}
	slow.stop()
	unsettled := w.settle(ctx, d, out, results)
	if recovered {
		w.requestDrain(ctx, d.ID)
	}
	return append(unloaded, unsettled...)
}

// loadBodies replaces references with the stored events. A reference whose
// event is gone or no longer Pending was settled already (a duplicate
// message) and is dropped.
func (w *Worker) loadBodies(ctx context.Context, items []*item) (kept, unloaded []*item) {
	for _, it := range items {
		if !it.msg.Stored {
			kept = append(kept, it)
			continue
		}
		full, status, found, err := w.Store.GetEvent(ctx, it.msg.EventID)
		switch {
		case err != nil:
			w.log().ErrorContext(ctx, "load stored event", "eventId", it.msg.EventID, "error", err)
			unloaded = append(unloaded, it)
		case !found || status != event.StatusPending:
			// delivered or failed already: nothing to do
		default:
			it.full = it.msg.WithStored(full)
			kept = append(kept, it)
		}
	}
	return kept, unloaded
}

// settle makes each outcome durable before its message is deleted and
// returns the items it could not settle. First it decides what becomes of
// each item (a failed attempt is spent: retried at a due time, or Failed),
// then records the history of all of them at once (history.go), then
// sends, holds, stores and deletes.
func (w *Worker) settle(ctx context.Context, d destination.Destination, out map[*item]disposition, results map[*item]Result) []*item {
	todo := make(map[*item]disposition, len(out))
	for it, disp := range out {
		if it.heldKey != "" && !it.last && (disp == hold || disp == requeue) {
			continue // a held event that was not attempted stays where it is
		}
		if disp == retry {
			var spent bool
			if it.due, spent = w.planRetry(it, results[it]); spent {
				disp = failed
			}
		}
		todo[it] = disp
	}
	w.record(ctx, d.ID, todo)
	var unsettled, holds []*item
	for it, disp := range todo {
		var err error
		switch disp {
		case delivered, drop:
			if it.msg.Stored {
				err = w.Store.DeleteEvent(ctx, it.msg.EventID)
			}
		case retry:
			err = w.scheduleRetry(ctx, it)
		case failed:
			err = w.storeFailed(ctx, d, it, results[it])
		case hold:
			holds = append(holds, it)
			continue
		case requeue:
			err = w.Queue.Send(ctx, it.msg)
		case redeliver:
			unsettled = append(unsettled, it)
			continue
		}
		if err == nil {
			err = w.releaseHold(ctx, d.ID, it)
		}
		if err != nil {
			w.log().ErrorContext(ctx, "settle event", "eventId", it.msg.EventID, "destinationId", d.ID, "error", err)
			unsettled = append(unsettled, it)
			continue
		}
		if disp == delivered {
			countDelivered(ctx, it, w.now())
		}
	}
	notHeld := w.holdAll(ctx, d, holds)
	countHeld(ctx, holds, notHeld)
	return append(unsettled, notHeld...)
}

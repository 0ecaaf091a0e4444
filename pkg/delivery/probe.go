package delivery

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/hooksentry/hooksentry/pkg/alert"
	"github.com/hooksentry/hooksentry/pkg/destination"
	"github.com/hooksentry/hooksentry/pkg/event"
	"github.com/hooksentry/hooksentry/pkg/metrics"
)

// A Suspended destination is probed with one event once its cooldown has
// passed (State.ProbeDue): with an event that arrives then, or, when none
// does, with its oldest held event, on the probe request sent for the end
// of the cooldown when the breaker opened or a probe failed. A probe that
// fails counts as an attempt of its event, which is held behind the others
// and recorded as the last probe, so the next probe is another event while
// there is one: one event the destination always refuses never blocks the
// rest, and it ends Failed once its attempts are spent.

// suspend opens the breaker and asks for a probe at the end of the cooldown.
// Of many workers, only the one whose conditional Suspend succeeds alerts.
func (w *Worker) suspend(ctx context.Context, d destination.Destination, failures int) {
	cooldown := w.Config.FirstCooldown()
	now := w.now()
	openUntil := now.Add(cooldown)
	ok, err := w.Store.Suspend(ctx, d.ID, openUntil, cooldown)
	if err != nil {
		w.log().ErrorContext(ctx, "suspend destination", "destinationId", d.ID, "error", err)
	}
	if !ok {
		return
	}
	// Won, even if a later step of Suspend failed: this worker decided
	// the occurrence, and nobody else will tell it.
	w.log().WarnContext(ctx, "destination suspended by circuit breaker", "destinationId", d.ID, "consecutiveFailures", failures)
	w.requestProbe(ctx, d.ID, openUntil)
	count(ctx, func(b *metrics.DeliveryBatch) { b.Suspended++ })
	w.alert(ctx, alert.Occurrence{
		Type: alert.DestinationSuspended, OccurredAt: now, TenantID: d.TenantID, DestinationID: d.ID,
		Detail: fmt.Sprintf("Destination %s (%s) was suspended by the circuit breaker after %d consecutive failed attempts; its events wait until a probe succeeds.", d.ID, alert.Host(d.URL), failures),
	})
}

// requestProbe sends the probe request for at. If it cannot be sent, the
// sweeper's pass asks for the probe instead.
func (w *Worker) requestProbe(ctx context.Context, destinationID string, at time.Time) {
	if err := w.Queue.Send(ctx, event.ProbeRequest(destinationID, at)); err != nil {
		w.log().ErrorContext(ctx, "request probe", "destinationId", destinationID, "error", err)
	}
}

// requestDrain asks for the held events of a destination that is Active
// again; if it cannot be sent, the sweeper's pass drains instead.
func (w *Worker) requestDrain(ctx context.Context, destinationID string) {
	if err := w.Queue.Send(ctx, event.DrainRequest(destinationID)); err != nil {
		w.log().ErrorContext(ctx, "request drain", "destinationId", destinationID, "error", err)
	}
}

// probeClaim is how long a probe claim keeps other probers out: all a probe
// may take (a wait for the slot, then one attempt), so two never overlap.
func (w *Worker) probeClaim(now time.Time) time.Time {
	return now.Add(w.Config.MaxSlotWait + w.Sender.Timeout + 5*time.Second)
}

// probeArriving probes with the first of a batch of arriving events, if
// this worker wins the claim; otherwise the events are held.
func (w *Worker) probeArriving(ctx context.Context, d destination.Destination, st State, items []*item) (map[*item]disposition, map[*item]Result, bool, error) {
	now := w.now()
	claimed, err := w.Store.ClaimProbe(ctx, d.ID, now, w.probeClaim(now))
	if err != nil {
		return nil, nil, false, err
	}
	if !claimed {
		return all(items, hold), nil, false, nil
	}
	out, results, recovered := w.probe(ctx, d, st, items)
	return out, results, recovered, nil
}

// probeHeld answers a probe request: it probes a Suspended destination
// whose cooldown has passed with its oldest held event, or the next one if
// the oldest was the last probe that failed. With nothing held it claims
// nothing, so the next event to arrive probes at once.
func (w *Worker) probeHeld(ctx context.Context, destinationID string) error {
	d, st, found, err := w.Store.LoadTarget(ctx, destinationID)
	if err != nil {
		return err
	}
	now := w.now()
	if !found || d.Status != destination.Suspended || !st.ProbeDue(now) {
		return nil // deleted, re-activated, or a later probe is planned
	}
	held, err := w.Store.ListHeld(ctx, d.ID, 2)
	if err != nil || len(held) == 0 {
		return err
	}
	h := held[0]
	if h.Message.EventID == st.LastProbe && len(held) > 1 {
		h = held[1]
	}
	claimed, err := w.Store.ClaimProbe(ctx, d.ID, now, w.probeClaim(now))
	if err != nil || !claimed {
		return err
	}
	it := &item{msg: h.Message, full: h.Message, heldKey: h.SortKey}
	out, results, recovered := w.probe(ctx, d, st, []*item{it})
	unsettled := w.settle(ctx, d, out, results)
	if recovered {
		w.requestDrain(ctx, d.ID) // after the probe's own hold is gone
	}
	if len(unsettled) > 0 {
		return errors.New("probe event not settled")
	}
	return nil
}

// probe tries the first event against a Suspended destination whose probe
// claim this worker holds. Success reactivates the destination (the caller
// asks for a drain once the batch is settled); failure lengthens the
// cooldown and asks for the next probe. The other events are held.
func (w *Worker) probe(ctx context.Context, d destination.Destination, st State, items []*item) (out map[*item]disposition, results map[*item]Result, recovered bool) {
	out = all(items, hold)
	if len(items) == 0 {
		return out, nil, false
	}
	now := w.now()
	sec, err := w.open(ctx, d)
	if err != nil {
		// Our outage, not the destination's: no attempt, try again once
		// the claim has passed.
		w.log().ErrorContext(ctx, "open credentials", "destinationId", d.ID, "error", err)
		w.requestProbe(ctx, d.ID, w.probeClaim(now))
		return out, nil, false
	}
	leaseID := uuid.NewString()
	slots, expires, err := w.acquire(ctx, d, st, 1, leaseID)
	if err != nil || slots == 0 {
		w.requestProbe(ctx, d.ID, w.probeClaim(now))
		return out, nil, false
	}
	if !w.timeLeft(ctx, expires) {
		// The invocation ends first: an attempt cut short by our own
		// deadline must not count against the destination or the event.
		if _, err := w.Store.ReleaseLease(ctx, d.ID, leaseID, Outcome{}); err != nil {
			w.log().ErrorContext(ctx, "release probe lease", "destinationId", d.ID, "error", err)
		}
		w.requestProbe(ctx, d.ID, w.now())
		return out, nil, false
	}
	first := items[0]
	res := w.attempt(ctx, d, sec, first, true)
	trailing := 1
	if res.OK() {
		trailing = 0
	}
	if _, err := w.Store.ReleaseLease(ctx, d.ID, leaseID, Outcome{Succeeded: res.OK(), TrailingFailures: trailing}); err != nil {
		w.log().ErrorContext(ctx, "release probe lease", "destinationId", d.ID, "error", err)
	}
	results = map[*item]Result{first: res}
	now = w.now()
	if !res.OK() {
		cooldown := w.Config.NextCooldown(st)
		if err := w.Store.ProbeFailed(ctx, d.ID, now.Add(cooldown), cooldown, first.msg.EventID); err != nil {
			w.log().ErrorContext(ctx, "record failed probe", "destinationId", d.ID, "error", err)
		}
		w.requestProbe(ctx, d.ID, now.Add(cooldown))
		first.spendAttempt()
		if w.Config.Spent(first.msg.Attempts) {
			out[first] = failed
		} else {
			first.last = true
		}
		w.log().InfoContext(ctx, "probe failed; breaker stays open", "destinationId", d.ID, "eventId", first.msg.EventID, "status", res.Status, "cooldown", cooldown.String())
		return out, results, false
	}
	reactivated, err := w.Store.Reactivate(ctx, d.ID)
	if err != nil {
		w.log().ErrorContext(ctx, "reactivate destination", "destinationId", d.ID, "error", err)
	}
	w.log().InfoContext(ctx, "destination recovered; circuit breaker closed", "destinationId", d.ID)
	if reactivated { // of many workers, only the one whose Reactivate succeeded
		count(ctx, func(b *metrics.DeliveryBatch) { b.Recovered++ })
		w.alert(ctx, alert.Occurrence{
			Type: alert.DestinationRecovered, OccurredAt: now, TenantID: d.TenantID, DestinationID: d.ID,
			Detail: fmt.Sprintf("Destination %s (%s) is Active again: a probe delivery succeeded and its waiting events are being delivered.", d.ID, alert.Host(d.URL)),
		})
	}
	out[first] = delivered
	for _, it := range items[1:] {
		out[it] = requeue
	}
	return out, results, true
}

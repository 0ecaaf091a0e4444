// Package delivery owns getting events to destinations: the SQS consumer
// (Worker.Handle) with partial batch failures, the concurrency limit shared
// by every worker through leases, the circuit breaker, retries with backoff,
// holding events for destinations that are not Active, and the outbound
// HTTP attempt with each auth type. See docs/DELIVERY.md.
package delivery

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/uuid"

	"github.com/hooksentry/hooksentry/pkg/apperror"
	"github.com/hooksentry/hooksentry/pkg/destination"
	"github.com/hooksentry/hooksentry/pkg/event"
)

// Store is the shared state the worker reads and writes.
//
// WriteLeases returns an apperror Conflict when the lease version moved.
type Store interface {
	LoadTarget(ctx context.Context, destinationID string) (destination.Destination, State, bool, error)
	LoadState(ctx context.Context, destinationID string) (State, error)
	WriteLeases(ctx context.Context, destinationID string, leases map[string]Lease, version int64) error
	ReleaseLease(ctx context.Context, destinationID, leaseID string, o Outcome) (int, error)
	Suspend(ctx context.Context, destinationID string, openUntil time.Time, cooldown time.Duration) (bool, error)
	ClaimProbe(ctx context.Context, destinationID string, now, until time.Time) (bool, error)
	ProbeFailed(ctx context.Context, destinationID string, openUntil time.Time, cooldown time.Duration) error
	Reactivate(ctx context.Context, destinationID string) (bool, error)

	Hold(ctx context.Context, m event.Message, flag bool) error
	ListHeld(ctx context.Context, destinationID string, limit int) ([]event.Held, error)
	DeleteHeld(ctx context.Context, destinationID string, sortKeys []string) error
	ClearHeldFlag(ctx context.Context, destinationID string) error

	GetEvent(ctx context.Context, eventID string) (event.Message, string, bool, error)
	PutEvent(ctx context.Context, m event.Message, status string, due time.Time) error
	DeleteEvent(ctx context.Context, eventID string) error
	RetryStoredEvent(ctx context.Context, eventID string, due time.Time, attempts int) error
}

// Queue puts messages back on the delivery queue.
type Queue interface {
	Send(ctx context.Context, m event.Message) error
	Enqueue(ctx context.Context, m event.Message) error // stores bodies too large for a message
	// EnqueueBatch sends many with few requests and returns the indexes
	// of the messages it could not send.
	EnqueueBatch(ctx context.Context, msgs []event.Message) ([]int, error)
}

// Config holds the delivery rules.
type Config struct {
	MaxAttempts      int
	FailureThreshold int
	Cooldown         time.Duration // first wait before a probe
	MaxCooldown      time.Duration // cap on the growing cooldown
	MaxSlotWait      time.Duration // how long a batch waits for a free slot
}

// Worker consumes batches from the delivery queue.
type Worker struct {
	Store   Store
	Queue   Queue
	Sender  *Sender
	Sealer  destination.Sealer
	Backoff Backoff
	Config  Config
	Now     func() time.Time
	Log     *slog.Logger
}

// Stored event statuses, as written by the store.
const (
	eventPending = event.StatusPending
	eventFailed  = event.StatusFailed
)

type item struct {
	messageID string
	msg       event.Message // as received: a reference when the body is stored
	full      event.Message // with body and headers
}

type disposition int

const (
	delivered disposition = iota
	retry
	hold
	requeue
	drop
	redeliver // report as a batch item failure: SQS delivers it again later
)

func (w *Worker) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}

func (w *Worker) log() *slog.Logger {
	if w.Log != nil {
		return w.Log
	}
	return slog.Default()
}

// Handle processes one SQS batch. Messages it cannot settle are reported
// as batch item failures, so SQS delivers them again; nothing is deleted
// before its event is delivered, re-queued, held or stored as failed.
func (w *Worker) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
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
		if m.Drain {
			if err := w.drain(ctx, m.DestinationID); err != nil {
				w.log().ErrorContext(ctx, "drain held events", "destinationId", m.DestinationID, "error", err)
				fail(rec.MessageId)
			}
			continue
		}
		if m.NotBefore > now.Add(time.Second).UnixMilli() {
			// Arrived early: its delay was longer than SQS allows.
			if err := w.Queue.Send(ctx, m); err != nil {
				w.log().ErrorContext(ctx, "re-delay message", "eventId", m.EventID, "error", err)
				fail(rec.MessageId)
			}
			continue
		}
		if _, ok := groups[m.DestinationID]; !ok {
			order = append(order, m.DestinationID)
		}
		groups[m.DestinationID] = append(groups[m.DestinationID], &item{messageID: rec.MessageId, msg: m, full: m})
	}
	if len(order) == 1 {
		// The common case: no goroutine, the invocation's stack is warm.
		fail(w.deliverGroup(ctx, order[0], groups[order[0]])...)
		return resp, nil
	}
	var wg sync.WaitGroup
	for _, id := range order {
		wg.Add(1)
		go func(items []*item) {
			defer wg.Done()
			fail(w.deliverGroup(ctx, id, items)...)
		}(groups[id])
	}
	wg.Wait()
	return resp, nil
}

func ids(items []*item) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.messageID
	}
	return out
}

// deliverGroup handles the events of one destination and returns the
// message ids to report as failures.
func (w *Worker) deliverGroup(ctx context.Context, destinationID string, items []*item) []string {
	d, st, found, err := w.Store.LoadTarget(ctx, destinationID)
	if err != nil {
		w.log().ErrorContext(ctx, "load destination", "destinationId", destinationID, "error", err)
		return ids(items)
	}
	out := map[*item]disposition{}
	if !found {
		// The destination was deleted: its events go with it (CONTRACT §2).
		for _, it := range items {
			out[it] = drop
		}
		return w.settle(ctx, d, out, nil)
	}
	items, failed := w.loadBodies(ctx, items)
	results := map[*item]Result{}
	now := w.now()
	switch d.Status {
	case destination.Active:
		out, results = w.deliverActive(ctx, d, st, items)
	case destination.Suspended:
		if !now.Before(st.OpenUntil) && !now.Before(st.ProbeUntil) {
			claimed, err := w.Store.ClaimProbe(ctx, d.ID, now, now.Add(w.Sender.Timeout+5*time.Second))
			if err != nil {
				w.log().ErrorContext(ctx, "claim probe", "destinationId", d.ID, "error", err)
				return append(failed, ids(items)...)
			}
			if claimed {
				out, results = w.probe(ctx, d, st, items)
				break
			}
		}
		fallthrough
	default: // Inactive, or Suspended and cooling down: hold without spending attempts
		for _, it := range items {
			out[it] = hold
		}
	}
	return append(failed, w.settle(ctx, d, out, results)...)
}

// loadBodies replaces references with the stored events. A reference whose
// event is gone was already delivered (a duplicate message) and is dropped.
func (w *Worker) loadBodies(ctx context.Context, items []*item) (kept []*item, failed []string) {
	for _, it := range items {
		if !it.msg.Stored {
			kept = append(kept, it)
			continue
		}
		full, status, found, err := w.Store.GetEvent(ctx, it.msg.EventID)
		switch {
		case err != nil:
			w.log().ErrorContext(ctx, "load stored event", "eventId", it.msg.EventID, "error", err)
			failed = append(failed, it.messageID)
		case !found || status != eventPending:
			// delivered or failed already: nothing to do
		default:
			full.Attempts, full.Stored = it.msg.Attempts, false
			it.full = full
			kept = append(kept, it)
		}
	}
	return kept, failed
}

// deliverActive attempts the events over as many lanes as the leases allow.
func (w *Worker) deliverActive(ctx context.Context, d destination.Destination, st State, items []*item) (map[*item]disposition, map[*item]Result) {
	out := make(map[*item]disposition, len(items))
	results := make(map[*item]Result, len(items))
	if len(items) == 0 {
		return out, results
	}
	// Credentials first: if KMS is unavailable that is our outage, not the
	// destination's, so no attempt is spent and the breaker is not fed.
	creds, err := w.credentials(ctx, d)
	if err != nil {
		w.log().ErrorContext(ctx, "open credentials", "destinationId", d.ID, "error", err)
		for _, it := range items {
			out[it] = redeliver
		}
		return out, results
	}
	leaseID := uuid.NewString()
	slots, expires, err := w.acquire(ctx, d, st, len(items), leaseID)
	if err != nil || slots == 0 {
		if err != nil {
			w.log().ErrorContext(ctx, "acquire slots", "destinationId", d.ID, "error", err)
		}
		for _, it := range items {
			out[it] = requeue
		}
		return out, results
	}

	var mu sync.Mutex
	failures, trailing, succeeded, suspend := st.Failures, 0, false, false
	work := make(chan *item, len(items))
	for _, it := range items {
		work <- it
	}
	close(work)
	var wg sync.WaitGroup
	for range slots {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range work {
				mu.Lock()
				stop := suspend
				mu.Unlock()
				switch {
				case stop:
					mu.Lock()
					out[it] = hold
					mu.Unlock()
					continue
				case !w.timeLeft(ctx, expires):
					mu.Lock()
					out[it] = requeue
					mu.Unlock()
					continue
				}
				res := w.Sender.Attempt(ctx, d, creds, it.full)
				w.afterAbandoned(ctx, res)
				mu.Lock()
				results[it] = res
				if res.OK() {
					out[it] = delivered
					succeeded, trailing, failures = true, 0, 0
				} else {
					out[it] = retry
					trailing++
					failures++
					if failures >= w.Config.FailureThreshold {
						suspend = true
					}
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	total, err := w.Store.ReleaseLease(ctx, d.ID, leaseID, Outcome{Succeeded: succeeded, TrailingFailures: trailing})
	if err != nil {
		w.log().ErrorContext(ctx, "release lease", "destinationId", d.ID, "error", err)
	}
	if suspend || total >= w.Config.FailureThreshold {
		now := w.now()
		if ok, err := w.Store.Suspend(ctx, d.ID, now.Add(w.Config.Cooldown), w.Config.Cooldown); err != nil {
			w.log().ErrorContext(ctx, "suspend destination", "destinationId", d.ID, "error", err)
		} else if ok {
			w.log().WarnContext(ctx, "destination suspended by circuit breaker", "destinationId", d.ID, "consecutiveFailures", max(failures, total))
		}
	}
	return out, results
}

// probe tries one event against a Suspended destination whose cooldown has
// passed. Success reactivates it and re-drives its held events; failure
// lengthens the cooldown. Either way the probe spends no attempt.
func (w *Worker) probe(ctx context.Context, d destination.Destination, st State, items []*item) (map[*item]disposition, map[*item]Result) {
	out := make(map[*item]disposition, len(items))
	for _, it := range items {
		out[it] = hold
	}
	if len(items) == 0 {
		return out, nil
	}
	creds, err := w.credentials(ctx, d)
	if err != nil {
		w.log().ErrorContext(ctx, "open credentials", "destinationId", d.ID, "error", err)
		return out, nil // held; the probe claim expires and is retried
	}
	leaseID := uuid.NewString()
	slots, _, err := w.acquire(ctx, d, st, 1, leaseID)
	if err != nil || slots == 0 {
		return out, nil
	}
	first := items[0]
	res := w.Sender.Attempt(ctx, d, creds, first.full)
	w.afterAbandoned(ctx, res)
	trailing := 1
	if res.OK() {
		trailing = 0
	}
	if _, err := w.Store.ReleaseLease(ctx, d.ID, leaseID, Outcome{Succeeded: res.OK(), TrailingFailures: trailing}); err != nil {
		w.log().ErrorContext(ctx, "release probe lease", "destinationId", d.ID, "error", err)
	}
	now := w.now()
	if !res.OK() {
		cooldown := min(max(st.Cooldown, w.Config.Cooldown)*2, max(w.Config.MaxCooldown, w.Config.Cooldown))
		if err := w.Store.ProbeFailed(ctx, d.ID, now.Add(cooldown), cooldown); err != nil {
			w.log().ErrorContext(ctx, "record failed probe", "destinationId", d.ID, "error", err)
		}
		return out, nil
	}
	if _, err := w.Store.Reactivate(ctx, d.ID); err != nil {
		w.log().ErrorContext(ctx, "reactivate destination", "destinationId", d.ID, "error", err)
	}
	w.log().InfoContext(ctx, "destination recovered; circuit breaker closed", "destinationId", d.ID)
	out[first] = delivered
	for _, it := range items[1:] {
		out[it] = requeue
	}
	if err := w.Queue.Send(ctx, event.Message{DestinationID: d.ID, Drain: true}); err != nil {
		w.log().ErrorContext(ctx, "request drain", "destinationId", d.ID, "error", err)
	}
	return out, map[*item]Result{first: res}
}

// abandonGrace is how long a slot stays taken after an attempt that got no
// response (timeout, reset). We closed the connection, but the destination
// only notices when its server reads the close; sending the next request on
// the same slot at once could briefly put serverRateLimit+1 requests in
// flight from its point of view.
const abandonGrace = 100 * time.Millisecond

func (w *Worker) afterAbandoned(ctx context.Context, res Result) {
	if res.Status != 0 || res.Err == nil {
		return
	}
	select {
	case <-ctx.Done():
	case <-time.After(abandonGrace):
	}
}

// acquire claims up to want slots of the destination's limit, waiting a
// bounded time for other workers to release theirs.
func (w *Worker) acquire(ctx context.Context, d destination.Destination, st State, want int, leaseID string) (int, time.Time, error) {
	deadline := w.now().Add(w.Config.MaxSlotWait)
	if dl, ok := ctx.Deadline(); ok && dl.Add(-w.Sender.Timeout-2*time.Second).Before(deadline) {
		deadline = dl.Add(-w.Sender.Timeout - 2*time.Second)
	}
	wait := 10 * time.Millisecond
	for {
		now := w.now()
		free := d.ServerRateLimit - st.InUse(now)
		if free > 0 {
			k := min(free, want)
			expires := w.leaseExpiry(ctx, now, want, k)
			leases := st.Live(now)
			leases[leaseID] = Lease{Slots: k, Expires: expires}
			err := w.Store.WriteLeases(ctx, d.ID, leases, st.LeaseVersion)
			if err == nil {
				return k, expires, nil
			}
			if apperror.CodeOf(err) != apperror.Conflict {
				return 0, time.Time{}, err
			}
		} else {
			if now.After(deadline) {
				return 0, time.Time{}, nil
			}
			select {
			case <-ctx.Done():
				return 0, time.Time{}, ctx.Err()
			case <-time.After(wait/2 + time.Duration(rand.Int64N(int64(wait/2)+1))):
			}
			wait = min(wait*2, 100*time.Millisecond)
		}
		var err error
		if st, err = w.Store.LoadState(ctx, d.ID); err != nil {
			return 0, time.Time{}, err
		}
	}
}

// leaseExpiry covers every round of attempts the lanes may make, and no
// more than the invocation can last, so a dead worker's slots come back soon.
func (w *Worker) leaseExpiry(ctx context.Context, now time.Time, want, slots int) time.Time {
	rounds := (want + slots - 1) / slots
	expires := now.Add(time.Duration(rounds)*(w.Sender.Timeout+time.Second) + 2*time.Second)
	if dl, ok := ctx.Deadline(); ok && dl.Add(time.Second).Before(expires) {
		expires = dl.Add(time.Second)
	}
	return expires
}

// timeLeft reports whether one more attempt fits in both the lease and the
// invocation: an attempt must never outlive the lease that admits it.
func (w *Worker) timeLeft(ctx context.Context, leaseExpires time.Time) bool {
	end := w.now().Add(w.Sender.Timeout + 500*time.Millisecond)
	if dl, ok := ctx.Deadline(); ok && end.After(dl) {
		return false
	}
	return end.Before(leaseExpires)
}

func (w *Worker) credentials(ctx context.Context, d destination.Destination) (destination.Credentials, error) {
	if d.AuthType == destination.AuthNone {
		return destination.Credentials{}, nil
	}
	return destination.OpenCredentials(ctx, w.Sealer, d)
}

// settle makes each outcome durable before its message is deleted. The
// first hold of a batch always (re)flags the destination: a drain may have
// cleared the flag since the state was read.
func (w *Worker) settle(ctx context.Context, d destination.Destination, out map[*item]disposition, results map[*item]Result) []string {
	var failed []string
	flagged := false
	for it, disp := range out {
		var err error
		switch disp {
		case delivered, drop:
			if it.msg.Stored {
				err = w.Store.DeleteEvent(ctx, it.msg.EventID)
			}
		case retry:
			err = w.scheduleRetry(ctx, it, results[it])
		case hold:
			err = w.Store.Hold(ctx, it.full, !flagged)
			if err == nil {
				flagged = true
				if it.msg.Stored {
					err = w.Store.DeleteEvent(ctx, it.msg.EventID)
				}
			}
		case requeue:
			err = w.Queue.Send(ctx, it.msg)
		case redeliver:
			failed = append(failed, it.messageID)
			continue
		}
		if err != nil {
			w.log().ErrorContext(ctx, "settle event", "eventId", it.msg.EventID, "destinationId", d.ID, "error", err)
			failed = append(failed, it.messageID)
		}
	}
	return failed
}

// scheduleRetry re-enqueues a failed event with backoff, or stores it as
// failed once its attempts are spent.
func (w *Worker) scheduleRetry(ctx context.Context, it *item, res Result) error {
	m := it.msg
	m.Attempts++
	now := w.now()
	if m.Attempts >= w.Config.MaxAttempts {
		full := it.full
		full.Attempts = m.Attempts
		w.log().WarnContext(ctx, "event failed permanently", "eventId", m.EventID, "destinationId", m.DestinationID, "attempts", m.Attempts, "lastStatus", res.Status)
		return w.Store.PutEvent(ctx, full, eventFailed, now)
	}
	delay := w.Backoff.Delay(m.Attempts, res.RetryAfter)
	m.NotBefore = now.Add(delay).UnixMilli()
	if m.Stored {
		if err := w.Store.RetryStoredEvent(ctx, m.EventID, now.Add(delay+event.StoredGrace), m.Attempts); err != nil {
			return err
		}
	}
	return w.Queue.Send(ctx, m)
}

// drain re-drives up to a page of held events of an Active destination and
// asks for another round until none are left.
func (w *Worker) drain(ctx context.Context, destinationID string) error {
	d, _, found, err := w.Store.LoadTarget(ctx, destinationID)
	if err != nil {
		return err
	}
	if found && d.Status != destination.Active {
		return nil // a later activation or probe drains
	}
	const page = 100
	held, err := w.Store.ListHeld(ctx, destinationID, page)
	if err != nil {
		return err
	}
	if len(held) == 0 {
		if err := w.Store.ClearHeldFlag(ctx, destinationID); err != nil {
			return err
		}
		// An event parked while the flag was being cleared must not strand.
		if again, err := w.Store.ListHeld(ctx, destinationID, 1); err != nil || len(again) == 0 {
			return err
		}
		return w.Queue.Send(ctx, event.Message{DestinationID: destinationID, Drain: true})
	}
	notSent := map[int]bool{}
	if found {
		msgs := make([]event.Message, len(held))
		for i, h := range held {
			msgs[i] = h.Message
			msgs[i].NotBefore = 0
		}
		failed, err := w.Queue.EnqueueBatch(ctx, msgs)
		if err != nil {
			w.log().ErrorContext(ctx, "re-drive held events", "destinationId", destinationID, "failed", len(failed), "error", err)
		}
		for _, i := range failed {
			notSent[i] = true
		}
	}
	var done []string // sent, or dropped with their deleted destination
	for i, h := range held {
		if !notSent[i] {
			done = append(done, h.SortKey)
		}
	}
	if err := w.Store.DeleteHeld(ctx, destinationID, done); err != nil {
		return err
	}
	return w.Queue.Send(ctx, event.Message{DestinationID: destinationID, Drain: true})
}

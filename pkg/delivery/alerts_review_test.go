package delivery_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hooksentry/hooksentry/pkg/alert"
	"github.com/hooksentry/hooksentry/pkg/delivery"
	"github.com/hooksentry/hooksentry/pkg/destination"
	"github.com/hooksentry/hooksentry/pkg/event"
)

// suspendErrStore wins the Suspend but fails its second write (opening the
// breaker's timer), as a throttled table would.
type suspendErrStore struct{ delivery.Store }

func (s suspendErrStore) Suspend(ctx context.Context, id string, openUntil time.Time, cooldown time.Duration) (bool, error) {
	ok, err := s.Store.Suspend(ctx, id, openUntil, cooldown)
	if ok && err == nil {
		err = errors.New("open breaker: throttled")
	}
	return ok, err
}

// failPutStore cannot store events.
type failPutStore struct{ delivery.Store }

func (failPutStore) PutEvent(context.Context, event.Message, string, time.Time) error {
	return errors.New("throttled")
}

func alertCount(f *workerFixture, typ alert.Type) (n int) {
	_, enqueued := f.queue.messages()
	for _, m := range enqueued {
		if m.Alert && strings.Contains(string(m.Body), `"type":"`+string(typ)+`"`) {
			n++
		}
	}
	return n
}

// Review finding: the worker that won the suspension but whose second
// write failed must still alert (it decided the occurrence).
func TestWorkerAlertsASuspensionItWonDespiteALaterError(t *testing.T) {
	f := newWorkerFixture(t)
	f.w.Store = suspendErrStore{f.store}
	f.recv.SetRespond(func(w http.ResponseWriter, _ *http.Request, _ int) { w.WriteHeader(http.StatusBadGateway) })
	d := f.addDestination(destination.Active, 1, delivery.State{})
	f.w.Subscribers = subscribers{d, {ID: "watcher", TenantID: d.TenantID, Alerts: []alert.Type{alert.DestinationSuspended}}}
	f.handle(t, batch(t, f.events(d, threshold)...))
	if got := f.store.Destination(d.ID).Status; got != destination.Suspended {
		t.Fatalf("status %s, want Suspended", got)
	}
	if n := alertCount(f, alert.DestinationSuspended); n != 1 {
		t.Errorf("%d destination.suspended alerts, want 1", n)
	}
}

// Review finding: a message delivered twice (an SQS duplicate, a
// redelivered batch) whose attempts are spent raises one event.failed.
func TestWorkerAlertsAFailedEventOnce(t *testing.T) {
	f := newWorkerFixture(t)
	f.recv.SetRespond(func(w http.ResponseWriter, _ *http.Request, _ int) { w.WriteHeader(http.StatusBadGateway) })
	d := f.addDestination(destination.Active, 1, delivery.State{})
	f.w.Subscribers = subscribers{d, {ID: "watcher", TenantID: d.TenantID, Alerts: []alert.Type{alert.EventFailed}}}
	m := f.events(d, 1)[0]
	m.Attempts = maxAttempts - 1
	f.handle(t, batch(t, m))
	f.handle(t, batch(t, m))
	if n := alertCount(f, alert.EventFailed); n != 1 {
		t.Errorf("%d event.failed alerts, want 1", n)
	}
	// A replay that fails again is a new occurrence.
	replayed := m
	replayed.Prior, replayed.Attempts, replayed.Manual = maxAttempts, maxAttempts-1, true
	f.handle(t, batch(t, replayed))
	if n := alertCount(f, alert.EventFailed); n != 2 {
		t.Errorf("after a replay failed again: %d event.failed alerts, want 2", n)
	}
}

// Review finding: an event that could not be stored Failed (and so goes
// back to SQS) is not counted as failed.
func TestWorkerCountsAFailedEventOnlyOnceStored(t *testing.T) {
	f := newWorkerFixture(t)
	rec := &recordedMetrics{}
	f.w.Metrics = rec
	f.w.Store = failPutStore{f.store}
	f.recv.SetRespond(func(w http.ResponseWriter, _ *http.Request, _ int) { w.WriteHeader(http.StatusBadGateway) })
	d := f.addDestination(destination.Active, 1, delivery.State{})
	m := f.events(d, 1)[0]
	m.Attempts = maxAttempts - 1
	if failed := f.handle(t, batch(t, m)); len(failed) != 1 {
		t.Fatalf("batch item failures %v, want the event redelivered", failed)
	}
	if b := rec.batches[0]; b.Failed != 0 {
		t.Errorf("EventsFailed = %d for an event that was not stored Failed", b.Failed)
	}
}

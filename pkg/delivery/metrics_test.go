package delivery_test

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/hooksentry/hooksentry/pkg/alert"
	"github.com/hooksentry/hooksentry/pkg/delivery"
	"github.com/hooksentry/hooksentry/pkg/destination"
	"github.com/hooksentry/hooksentry/pkg/metrics"
)

// recordedMetrics keeps every invocation's batch.
type recordedMetrics struct {
	mu      sync.Mutex
	batches []metrics.DeliveryBatch
}

func (r *recordedMetrics) Delivery(b metrics.DeliveryBatch) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.batches = append(r.batches, b)
}

// subscribers lists fixed destinations as the tenant's.
type subscribers []destination.Destination

func (s subscribers) ListDestinations(context.Context, string) ([]destination.Destination, error) {
	return s, nil
}

func TestWorkerCountsEachInvocation(t *testing.T) {
	f := newWorkerFixture(t)
	rec := &recordedMetrics{}
	f.w.Metrics = rec
	d := f.addDestination(destination.Active, 2, delivery.State{})
	f.handle(t, batch(t, f.events(d, 2)...))
	if len(rec.batches) != 1 {
		t.Fatalf("got %d metric batches, want 1 per invocation", len(rec.batches))
	}
	b := rec.batches[0]
	if b.Attempts != 2 || b.AttemptsFailed != 0 || b.Delivered != 2 || b.Failed != 0 || b.Held != 0 || b.Suspended != 0 {
		t.Errorf("batch %+v: want 2 attempts, 2 delivered", b)
	}
	// e1 was received 59 s before now, e2 58 s (the fixture's clock).
	if len(b.Latencies) != 2 || b.Latencies[0]+b.Latencies[1] != 117*time.Second {
		t.Errorf("latencies %v: want 59 s and 58 s", b.Latencies)
	}
}

// TestWorkerAlertsWhenTheBreakerOpens: the worker whose Suspend succeeds
// publishes one destination.suspended per subscriber (not the subject),
// and counts the opening and the alert.
func TestWorkerAlertsWhenTheBreakerOpens(t *testing.T) {
	f := newWorkerFixture(t)
	rec := &recordedMetrics{}
	f.w.Metrics = rec
	f.recv.SetRespond(func(w http.ResponseWriter, _ *http.Request, _ int) { w.WriteHeader(http.StatusBadGateway) })
	d := f.addDestination(destination.Active, 1, delivery.State{})
	d.Alerts = alert.Types() // subscribed, but never told about itself
	watcher := destination.Destination{ID: "watcher", TenantID: d.TenantID, Alerts: []alert.Type{alert.DestinationSuspended}}
	deaf := destination.Destination{ID: "deaf", TenantID: d.TenantID, Alerts: []alert.Type{alert.EventFailed}}
	f.w.Subscribers = subscribers{d, watcher, deaf}

	f.handle(t, batch(t, f.events(d, 5)...))
	b := rec.batches[0]
	if b.Attempts != threshold || b.AttemptsFailed != threshold || b.Held != 5-threshold || b.Suspended != 1 || b.Alerts != 1 {
		t.Errorf("batch %+v: want %d failed attempts, %d held, 1 suspension, 1 alert", b, threshold, 5-threshold)
	}
	_, enqueued := f.queue.messages()
	var alerts []map[string]any
	for _, m := range enqueued {
		if m.Alert {
			var body map[string]any
			if err := json.Unmarshal(m.Body, &body); err != nil {
				t.Fatal(err)
			}
			if m.DestinationID != watcher.ID || m.ContentType != "application/json" {
				t.Errorf("alert to %s (%s), want to %s as JSON", m.DestinationID, m.ContentType, watcher.ID)
			}
			alerts = append(alerts, body)
		}
	}
	if len(alerts) != 1 || alerts[0]["type"] != "destination.suspended" || alerts[0]["destinationId"] != d.ID || alerts[0]["tenantId"] != d.TenantID {
		t.Errorf("alerts %v: want one destination.suspended about %s", alerts, d.ID)
	}

	// The breaker is open: the next batch holds without suspending again.
	f.handle(t, batch(t, f.events(d, 1)...))
	if b := rec.batches[1]; b.Suspended != 0 || b.Alerts != 0 || b.Held != 1 {
		t.Errorf("second batch %+v: want one held event, no second suspension or alert", b)
	}
}

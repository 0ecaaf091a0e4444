package delivery_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hooksentry/hooksentry/pkg/testkit"
)

var timestampRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$`)

// alertBody is the JSON of CONTRACT §6.
type alertBody struct {
	Type          string  `json:"type"`
	OccurredAt    string  `json:"occurredAt"`
	TenantID      string  `json:"tenantId"`
	DestinationID string  `json:"destinationId"`
	EventID       *string `json:"eventId"`
	Detail        string  `json:"detail"`
}

// alertsOf decodes the alert requests a receiver got, by HookSentry-Event-Id
// (an alert retried is one alert).
func alertsOf(t *testing.T, reqs []testkit.Request) map[string]alertBody {
	t.Helper()
	out := map[string]alertBody{}
	for _, r := range reqs {
		var a alertBody
		if json.Unmarshal(r.Body, &a) != nil || a.Type == "" {
			continue
		}
		out[r.Header.Get("HookSentry-Event-Id")] = a
	}
	return out
}

// TestAlertsAroundABreakerCycleAndAFailedEvent: with 4 workers, a
// destination subscribed to alerts receives destination.suspended and
// destination.recovered once around another destination's breaker cycle,
// and event.failed once when an event ends Failed; each signed and
// authenticated like any delivery; and nothing about itself.
func TestAlertsAroundABreakerCycleAndAFailedEvent(t *testing.T) {
	c := newTenant(t)
	alerts := testkit.NewReceiver(t, ca)
	const alertToken = "alert-receiver-token"
	watcher := createDestination(t, c, map[string]any{
		"url": alerts.URL + "/alerts", "authType": "BearerToken", "credentials": map[string]string{"token": alertToken},
		"alerts": []string{"destination.suspended", "destination.recovered", "event.failed"},
	})

	// flaky fails until healed; it is subscribed too, and must hear
	// nothing about itself.
	flakyRcv := testkit.NewReceiver(t, ca)
	var healthy atomic.Bool
	flakyRcv.SetRespond(func(w http.ResponseWriter, _ *http.Request, _ int) {
		if healthy.Load() {
			w.WriteHeader(http.StatusOK)
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	flaky := createDestination(t, c, map[string]any{"url": flakyRcv.URL + "/flaky", "serverRateLimit": 4, "alerts": []string{"destination.suspended", "destination.recovered"}})
	for i := range 8 {
		ingest(t, flaky.IngestToken, []byte(fmt.Sprint(i)), nil)
	}
	testkit.WaitFor(t, 20*time.Second, "flaky Suspended", func() bool { return status(t, c, flaky.ID) == "Suspended" })
	healthy.Store(true)
	testkit.WaitFor(t, 30*time.Second, "flaky Active again", func() bool { return status(t, c, flaky.ID) == "Active" })

	// broken always refuses: its one event ends Failed (6 attempts, the
	// breaker opening on the way).
	brokenRcv := testkit.NewReceiver(t, ca)
	brokenRcv.SetRespond(func(w http.ResponseWriter, _ *http.Request, _ int) { w.WriteHeader(http.StatusBadRequest) })
	broken := createDestination(t, c, map[string]any{"url": brokenRcv.URL + "/broken"})
	failedID := ingest(t, broken.IngestToken, []byte(`{"doomed":true}`), nil)

	wantOnce := func(typ, dest string) alertBody {
		t.Helper()
		var got []alertBody
		testkit.WaitFor(t, 60*time.Second, typ+" about "+dest, func() bool {
			got = got[:0]
			for _, a := range alertsOf(t, alerts.Requests()) {
				if a.Type == typ && a.DestinationID == dest {
					got = append(got, a)
				}
			}
			return len(got) > 0
		})
		time.Sleep(time.Second) // a second alert of the same occurrence would come at once
		got = got[:0]
		for _, a := range alertsOf(t, alerts.Requests()) {
			if a.Type == typ && a.DestinationID == dest {
				got = append(got, a)
			}
		}
		if len(got) != 1 {
			t.Errorf("%s about %s: %d alerts, want exactly 1: %+v", typ, dest, len(got), got)
		}
		return got[0]
	}
	suspended := wantOnce("destination.suspended", flaky.ID)
	recovered := wantOnce("destination.recovered", flaky.ID)
	failed := wantOnce("event.failed", broken.ID)
	var view struct {
		TenantID string   `json:"tenantId"`
		Alerts   []string `json:"alerts"`
	}
	c.Do(t, http.MethodGet, "/api/v1/destinations/"+watcher.ID, nil, nil).JSON(t, &view)
	if len(view.Alerts) != 3 {
		t.Errorf("GET alerts = %v, want the three types", view.Alerts)
	}
	for _, a := range []alertBody{suspended, recovered, failed} {
		if a.TenantID != view.TenantID || a.Detail == "" || !timestampRE.MatchString(a.OccurredAt) {
			t.Errorf("alert %+v: want the tenant, a detail and an RFC 3339 millisecond timestamp", a)
		}
	}
	if failed.EventID == nil || *failed.EventID != failedID {
		t.Errorf("event.failed eventId = %v, want %s", failed.EventID, failedID)
	}
	if suspended.EventID != nil {
		t.Errorf("destination.suspended carries eventId %q", *suspended.EventID)
	}

	// Delivered like any event: JSON, the watcher's auth, signed with its secret.
	for _, r := range alerts.Requests() {
		if r.Header.Get("Content-Type") != "application/json" || r.Header.Get("Authorization") != "Bearer "+alertToken {
			t.Errorf("alert request headers %v: want application/json and the watcher's bearer token", r.Header)
		}
		if err := verifyWith(watcher.SigningSecret, r); err != nil {
			t.Errorf("alert %s: signature does not verify with the watcher's secret: %v", r.Header.Get("HookSentry-Event-Id"), err)
		}
	}
	// Nothing about itself: flaky is subscribed but hears nothing about flaky.
	for _, a := range alertsOf(t, flakyRcv.Requests()) {
		if a.DestinationID == flaky.ID {
			t.Errorf("flaky received an alert about itself: %+v", a)
		}
	}
}

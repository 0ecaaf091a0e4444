package history_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hooksentry/hooksentry/pkg/testkit"
)

func TestDeliveredEventShowsOneAttempt(t *testing.T) {
	t.Parallel()
	c := newTenant(t)
	rcv := testkit.NewReceiver(t, ca)
	d := createDestination(t, c, map[string]any{"url": rcv.URL})
	header := http.Header{
		"Content-Type":  {"application/json"},
		"X-Shop-Topic":  {"orders/create"},
		"Authorization": {"Bearer sender-secret-123"},
		"Cookie":        {"session=sender-cookie-456"},
		"Webhook-Id":    {"msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"},
		// HookSentry's namespace is never the sender's: not forwarded,
		// so not in the history either.
		"HookSentry-Verified": {"true"},
		"hooksentry-event-id": {"forged"},
	}
	body := []byte(`{"order":42,"note":"ünïcode"}`)
	accepted := time.Now()
	id := ingest(t, d.IngestToken, body, header)

	// Readable within 5 s of its 202 (CONTRACT §5).
	testkit.WaitFor(t, 5*time.Second-time.Since(accepted), "event "+id+" to be readable", func() bool {
		_, ok := getEvent(t, c, id)
		return ok
	})
	v := waitStatus(t, c, id, "Delivered", 10*time.Second)

	if v.ID != id || v.DestinationID != d.ID || v.AttemptCount != 1 || v.DeliveredAt == nil || v.LastAttemptAt == nil || v.NextAttemptAt != nil {
		t.Errorf("summary: got %+v, want id %s, destination %s, 1 attempt, delivered, no next attempt", v, id, d.ID)
	}
	if v.Body != string(body) || v.BodyEncoding != "" || v.ContentType == nil || *v.ContentType != "application/json" {
		t.Errorf("body: got %q (%q, %v), want %q as text with its content type", v.Body, v.BodyEncoding, v.ContentType, body)
	}
	if got, want := v.Headers["X-Shop-Topic"], []string{"orders/create"}; !slices.Equal(got, want) {
		t.Errorf("headers[X-Shop-Topic]: got %v, want %v", got, want)
	}
	if got, want := v.Headers["Webhook-Id"], []string{"msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"}; !slices.Equal(got, want) {
		t.Errorf("headers[Webhook-Id]: got %v, want the sender's %v", got, want)
	}
	for name := range v.Headers {
		if k := http.CanonicalHeaderKey(name); k == "Authorization" || k == "Cookie" || strings.HasPrefix(k, "Hooksentry-") {
			t.Errorf("headers include %s", name)
		}
	}
	r := byEventID(rcv.Requests())[id]
	if len(r) != 1 {
		t.Fatalf("the destination received %d requests of %s, want 1", len(r), id)
	}
	for name, want := range map[string][]string{
		"Hooksentry-Event-Id": {id}, "Hooksentry-Attempt": {"1"}, "Hooksentry-Verified": nil,
		"Webhook-Id": {"msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"},
	} {
		if got := r[0].Header.Values(name); !slices.Equal(got, want) {
			t.Errorf("delivered %s: got %q, want %q", name, got, want)
		}
	}
	if len(v.Attempts) != 1 {
		t.Fatalf("attempts: got %+v, want 1", v.Attempts)
	}
	a := v.Attempts[0]
	if a.Number != 1 || a.Trigger != "Automatic" || a.Outcome != "Delivered" || a.StatusCode == nil || *a.StatusCode != 200 || a.Error != nil || a.ResponseBody != nil {
		t.Errorf("attempt: got %+v, want number 1, Automatic, Delivered, 200, no error, no response body", a)
	}
	if _, err := time.Parse("2006-01-02T15:04:05.000Z", a.StartedAt); err != nil {
		t.Errorf("startedAt %q: %v", a.StartedAt, err)
	}
}

func TestRetriedEventShowsEachAttempt(t *testing.T) {
	t.Parallel()
	c := newTenant(t)
	rcv := testkit.NewReceiver(t, ca)
	rcv.SetRespond(func(w http.ResponseWriter, r *http.Request, n int) {
		if n <= 2 {
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprintf(w, "boom %d", n)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	d := createDestination(t, c, map[string]any{"url": rcv.URL})
	id := ingest(t, d.IngestToken, []byte(`{"retry":true}`), nil)
	v := waitStatus(t, c, id, "Delivered", 15*time.Second)

	type attempt struct {
		number int
		code   int
		err    string
		body   string
	}
	var got []attempt
	for _, a := range v.Attempts {
		at := attempt{number: a.Number}
		if a.StatusCode != nil {
			at.code = *a.StatusCode
		}
		if a.Error != nil {
			at.err = *a.Error
		}
		if a.ResponseBody != nil {
			at.body = *a.ResponseBody
		}
		got = append(got, at)
	}
	want := []attempt{{1, 500, "status", "boom 1"}, {2, 500, "status", "boom 2"}, {3, 200, "", ""}}
	if !slices.Equal(got, want) {
		t.Errorf("attempts: got %+v, want %+v", got, want)
	}
	if v.AttemptCount != 3 {
		t.Errorf("attemptCount: got %d, want 3", v.AttemptCount)
	}
}

func TestBulkReplayDeliversFailedEventsAfterHealing(t *testing.T) {
	t.Parallel()
	c := newTenant(t)
	rcv := testkit.NewReceiver(t, ca)
	var healthy atomic.Bool
	rcv.SetRespond(func(w http.ResponseWriter, r *http.Request, n int) {
		if healthy.Load() {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	d := createDestination(t, c, map[string]any{"url": rcv.URL, "serverRateLimit": 10})
	const n = 6
	var ids []string
	for i := 0; i < n; i++ {
		ids = append(ids, ingest(t, d.IngestToken, []byte(fmt.Sprintf(`{"n":%d}`, i)), nil))
	}
	testkit.WaitFor(t, 20*time.Second, "every event to fail", func() bool {
		return list(t, c, d.ID, url.Values{"status": {"failed"}}).Total == n
	})

	healthy.Store(true)
	resp := c.Do(t, http.MethodPost, "/api/v1/destinations/"+d.ID+"/events/replay", map[string]any{}, nil)
	if resp.Status != http.StatusAccepted {
		t.Fatalf("bulk replay: got %d %s, want 202", resp.Status, resp.Body)
	}
	var out struct {
		Replayed  int `json:"replayed"`
		Remaining int `json:"remaining"`
	}
	resp.JSON(t, &out)
	if out.Replayed != n || out.Remaining != 0 {
		t.Errorf("bulk replay: got %+v, want %d replayed, 0 remaining", out, n)
	}
	for _, id := range ids {
		v := waitStatus(t, c, id, "Delivered", 15*time.Second)
		if len(v.Attempts) != 4 || v.Attempts[3].Number != 4 || v.Attempts[3].Trigger != "Manual" || v.Attempts[3].Outcome != "Delivered" {
			t.Errorf("event %s attempts: got %+v, want 3 failed automatic ones and a 4th, Manual, Delivered", id, v.Attempts)
		}
	}
	got := byEventID(rcv.Requests())
	for _, id := range ids {
		if len(got[id]) != 4 {
			t.Errorf("event %s reached the destination %d times, want 4 (3 failed, 1 replayed) with the same event id", id, len(got[id]))
			continue
		}
		var attempts []string
		for _, r := range got[id] {
			attempts = append(attempts, r.Header.Get("HookSentry-Attempt"))
		}
		if want := []string{"1", "2", "3", "4"}; !slices.Equal(attempts, want) {
			t.Errorf("event %s HookSentry-Attempt: got %q, want %q (counting on across the replay)", id, attempts, want)
		}
	}
	// Nothing left to replay.
	resp = c.Do(t, http.MethodPost, "/api/v1/destinations/"+d.ID+"/events/replay", map[string]any{"status": "Failed"}, nil)
	resp.JSON(t, &out)
	if resp.Status != http.StatusAccepted || out.Replayed != 0 || out.Remaining != 0 {
		t.Errorf("second bulk replay: got %d %+v, want 202 with nothing replayed", resp.Status, out)
	}
}

func TestReplayOfADeliveredEventSendsItAgainWithTheSameID(t *testing.T) {
	t.Parallel()
	c := newTenant(t)
	rcv := testkit.NewReceiver(t, ca)
	d := createDestination(t, c, map[string]any{"url": rcv.URL})
	id := ingest(t, d.IngestToken, []byte(`{"again":true}`), nil)
	waitStatus(t, c, id, "Delivered", 10*time.Second)

	resp := c.Do(t, http.MethodPost, "/api/v1/events/"+id+"/replay", nil, nil)
	if resp.Status != http.StatusAccepted {
		t.Fatalf("replay: got %d %s, want 202", resp.Status, resp.Body)
	}
	var sum eventView
	resp.JSON(t, &sum)
	if sum.ID != id || sum.Status != "Pending" || sum.Body != "" {
		t.Errorf("replay answer: got %+v, want the summary of %s, Pending, without body", sum, id)
	}
	testkit.WaitFor(t, 10*time.Second, "the replay to arrive", func() bool { return len(byEventID(rcv.Requests())[id]) == 2 })
	v := waitStatus(t, c, id, "Delivered", 10*time.Second)
	if len(v.Attempts) != 2 || v.Attempts[1].Number != 2 || v.Attempts[1].Trigger != "Manual" {
		t.Errorf("attempts: got %+v, want a second, Manual attempt", v.Attempts)
	}
	// Attempt numbers count on across the replay, as in the history.
	for i, r := range byEventID(rcv.Requests())[id] {
		if got, want := r.Header.Values("HookSentry-Attempt"), []string{strconv.Itoa(i + 1)}; !slices.Equal(got, want) {
			t.Errorf("delivery %d: HookSentry-Attempt got %q, want %q", i+1, got, want)
		}
	}
}

func TestReplayOfAPendingEventIsAConflict(t *testing.T) {
	t.Parallel()
	c := newTenant(t)
	rcv := testkit.NewReceiver(t, ca)
	rcv.SetRespond(func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Retry-After", "60") // the retry waits: Pending meanwhile
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	d := createDestination(t, c, map[string]any{"url": rcv.URL})
	id := ingest(t, d.IngestToken, []byte(`{}`), nil)
	v := waitStatus(t, c, id, "Pending", 10*time.Second)
	testkit.WaitFor(t, 10*time.Second, "the first attempt to be recorded", func() bool {
		v, _ = getEvent(t, c, id)
		return v.AttemptCount == 1 && v.NextAttemptAt != nil
	})
	resp := c.Do(t, http.MethodPost, "/api/v1/events/"+id+"/replay", nil, nil)
	if resp.Status != http.StatusConflict || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("replay of a pending event: got %d %s, want 409 problem+json", resp.Status, resp.Body)
	}
}

func TestAnotherTenantsEventIsForbidden(t *testing.T) {
	t.Parallel()
	owner, other := newTenant(t), newTenant(t)
	rcv := testkit.NewReceiver(t, ca)
	d := createDestination(t, owner, map[string]any{"url": rcv.URL})
	id := ingest(t, d.IngestToken, []byte(`{}`), nil)
	waitStatus(t, owner, id, "Delivered", 10*time.Second)

	for _, req := range []struct{ method, path string }{
		{http.MethodGet, "/api/v1/events/" + id},
		{http.MethodPost, "/api/v1/events/" + id + "/replay"},
		{http.MethodGet, "/api/v1/destinations/" + d.ID + "/events"},
		{http.MethodPost, "/api/v1/destinations/" + d.ID + "/events/replay"},
		{http.MethodGet, "/api/v1/destinations/" + d.ID + "/events/stats"},
	} {
		if got := other.Do(t, req.method, req.path, nil, nil).Status; got != http.StatusForbidden {
			t.Errorf("%s %s by another tenant: got %d, want 403", req.method, req.path, got)
		}
	}
	if got := len(byEventID(rcv.Requests())[id]); got != 1 {
		t.Errorf("the other tenant's replay reached the destination: %d deliveries, want 1", got)
	}
}

func TestUnknownEventsAreNotFound(t *testing.T) {
	t.Parallel()
	c := newTenant(t)
	for _, id := range []string{"not-a-uuid", "0b9ad2e4-7c1d-4e8a-9f3b-2a6c8d0e4f1a", "0195c2e4-1a2b-8c3d-8e4f-5a6b7c8d9e0f"} {
		for _, req := range []struct{ method, path string }{
			{http.MethodGet, "/api/v1/events/" + id},
			{http.MethodPost, "/api/v1/events/" + id + "/replay"},
		} {
			resp := c.Do(t, req.method, req.path, nil, nil)
			if resp.Status != http.StatusNotFound || resp.Header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("%s %s: got %d %s, want 404 problem+json", req.method, req.path, resp.Status, resp.Body)
			}
		}
	}
}

func TestExpiredEventIsNotFound(t *testing.T) {
	t.Parallel()
	c := newTenant(t)
	rcv := testkit.NewReceiver(t, ca)
	d := createDestination(t, c, map[string]any{"url": rcv.URL})
	received := time.Now()
	id := ingest(t, d.IngestToken, []byte(`{"old":true}`), nil)
	waitStatus(t, c, id, "Delivered", 10*time.Second)
	if got := list(t, c, d.ID, nil).Total; got != 1 {
		t.Errorf("list before expiry: total %d, want 1", got)
	}

	time.Sleep(time.Until(received.Add(retention + time.Second)))
	if _, ok := getEvent(t, c, id); ok {
		t.Errorf("event %s still readable after its retention", id)
	}
	if got := list(t, c, d.ID, nil); got.Total != 0 || len(got.Items) != 0 {
		t.Errorf("list after expiry: got %+v, want empty", got)
	}
	if got := c.Do(t, http.MethodPost, "/api/v1/events/"+id+"/replay", nil, nil).Status; got != http.StatusNotFound {
		t.Errorf("replay after expiry: got %d, want 404", got)
	}
}

func TestHeldEventIsVisible(t *testing.T) {
	t.Parallel()
	c := newTenant(t)
	rcv := testkit.NewReceiver(t, ca)
	d := createDestination(t, c, map[string]any{"url": rcv.URL})
	if resp := c.Do(t, http.MethodPatch, "/api/v1/destinations/"+d.ID, map[string]any{"status": "inactive"}, nil); resp.Status != http.StatusOK {
		t.Fatalf("deactivate: got %d %s", resp.Status, resp.Body)
	}
	id := ingest(t, d.IngestToken, []byte(`{"held":true}`), nil)
	v := waitStatus(t, c, id, "Held", 10*time.Second)
	if v.AttemptCount != 0 || len(v.Attempts) != 0 {
		t.Errorf("held event: got %+v, want no attempts", v)
	}
	if resp := c.Do(t, http.MethodPatch, "/api/v1/destinations/"+d.ID, map[string]any{"status": "active"}, nil); resp.Status != http.StatusOK {
		t.Fatalf("activate: got %d %s", resp.Status, resp.Body)
	}
	waitStatus(t, c, id, "Delivered", 15*time.Second)
}

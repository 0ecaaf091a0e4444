package alert_test

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/hooksentry/hooksentry/pkg/alert"
	"github.com/hooksentry/hooksentry/pkg/event"
)

func TestRecipients(t *testing.T) {
	subs := []alert.Subscriber{
		{ID: "subject", Alerts: alert.Types()}, // subscribed, but it is what happened
		{ID: "all", Alerts: alert.Types()},
		{ID: "failed-only", Alerts: []alert.Type{alert.EventFailed}},
		{ID: "none"},
	}
	tests := []struct {
		typ  alert.Type
		want []string
	}{
		{alert.DestinationSuspended, []string{"all"}},
		{alert.DestinationRecovered, []string{"all"}},
		{alert.EventFailed, []string{"all", "failed-only"}},
	}
	for _, tt := range tests {
		got := alert.Recipients(alert.Occurrence{Type: tt.typ, DestinationID: "subject"}, subs)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: recipients %v, want %v (never the subject)", tt.typ, got, tt.want)
		}
	}
}

func TestMessage(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	recipient := "7d8e9f0a-1b2c-4d3e-8f5a-6b7c8d9e0f1a"
	o := alert.Occurrence{
		Type: alert.EventFailed, OccurredAt: now.Add(-time.Second), TenantID: "t1",
		DestinationID: "d1", EventID: "e1", Detail: "Event e1 failed.",
	}
	m := alert.Message(o, recipient, now)
	if m.DestinationID != recipient || m.TenantID != "t1" || m.ContentType != "application/json" || !m.Alert || m.ReceivedAt != now.UnixMilli() {
		t.Errorf("message %+v: want an alert event of the recipient", m)
	}
	if id, ok := event.ParseID(m.EventID); !ok || id.Route != event.Route(recipient) {
		t.Errorf("event id %q: want an id routed to the recipient", m.EventID)
	}
	var got map[string]any
	if err := json.Unmarshal(m.Body, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"type": "event.failed", "occurredAt": "2026-12-01T09:59:59.000Z", "tenantId": "t1",
		"destinationId": "d1", "eventId": "e1", "detail": "Event e1 failed.",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("body %v, want %v", got, want)
	}
	o.Type, o.EventID = alert.DestinationSuspended, ""
	got = nil
	if err := json.Unmarshal(alert.Message(o, recipient, now).Body, &got); err != nil {
		t.Fatal(err)
	}
	if _, has := got["eventId"]; has {
		t.Errorf("a destination alert carries eventId: %v", got)
	}
}

func TestParseType(t *testing.T) {
	for in, want := range map[string]alert.Type{"event.failed": alert.EventFailed, "Destination.Suspended": alert.DestinationSuspended} {
		if got, ok := alert.ParseType(in); !ok || got != want {
			t.Errorf("ParseType(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "event.delivered", "event.failed "} {
		if _, ok := alert.ParseType(in); ok {
			t.Errorf("ParseType(%q) accepted", in)
		}
	}
}

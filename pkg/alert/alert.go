// Package alert owns HookSentry's operational events (CONTRACT §6): their
// types, the JSON a subscribed destination receives, and which of a
// tenant's destinations receive an occurrence. Alerts are delivered as
// ordinary events (pkg/delivery publishes them), so they are signed,
// authenticated, limited and retried like any other.
package alert

import (
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/hooksentry/hooksentry/pkg/event"
)

// Type names an operational event.
type Type string

const (
	DestinationSuspended Type = "destination.suspended"
	DestinationRecovered Type = "destination.recovered"
	EventFailed          Type = "event.failed"
)

// Types returns every type, in the order of CONTRACT §6.
func Types() []Type { return []Type{DestinationSuspended, DestinationRecovered, EventFailed} }

// ParseType matches s case-insensitively, as the API matches its other
// enumerations, and returns the canonical spelling.
func ParseType(s string) (Type, bool) {
	for _, t := range Types() {
		if strings.EqualFold(s, string(t)) {
			return t, true
		}
	}
	return "", false
}

// Occurrence is one thing that happened to a destination of a tenant.
type Occurrence struct {
	Type          Type
	OccurredAt    time.Time
	TenantID      string
	DestinationID string // the destination it happened to
	EventID       string // event.failed only
	Detail        string // a human-readable sentence
}

// body is the JSON of CONTRACT §6.
type body struct {
	Type          Type   `json:"type"`
	OccurredAt    string `json:"occurredAt"`
	TenantID      string `json:"tenantId"`
	DestinationID string `json:"destinationId"`
	EventID       string `json:"eventId,omitempty"`
	Detail        string `json:"detail"`
}

// Subscriber is a destination as far as alerts go.
type Subscriber struct {
	ID     string
	Alerts []Type
}

// Recipients returns the subscribers that receive o: those subscribed to
// its type, except the destination it happened to (an alert about itself
// would go where it cannot arrive, or loop).
func Recipients(o Occurrence, subscribers []Subscriber) []string {
	var ids []string
	for _, s := range subscribers {
		if s.ID != o.DestinationID && slices.Contains(s.Alerts, o.Type) {
			ids = append(ids, s.ID)
		}
	}
	return ids
}

// Message is the event that tells recipient about o, received now.
func Message(o Occurrence, recipient string, now time.Time) event.Message {
	b, _ := json.Marshal(body{ // a struct of strings always marshals
		Type: o.Type, OccurredAt: o.OccurredAt.UTC().Format("2006-01-02T15:04:05.000Z"),
		TenantID: o.TenantID, DestinationID: o.DestinationID, EventID: o.EventID, Detail: o.Detail,
	})
	return event.Message{
		Version: 1, EventID: event.NewID(recipient, now), DestinationID: recipient, TenantID: o.TenantID,
		ReceivedAt: now.UnixMilli(), ContentType: "application/json", Body: b, Alert: true,
	}
}

// Host is what an alert's detail may say of a destination's URL: its host
// only. Many webhook URLs carry a secret in their path or query (Slack's,
// ?token=), and an alert goes to another endpoint, often a third party.
func Host(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return "an unparsable URL"
	}
	return u.Host
}

// Join writes a list of types as a field error message lists them.
func Join(ts []Type) string {
	names := make([]string, len(ts))
	for i, t := range ts {
		names[i] = string(t)
	}
	return strings.Join(names, ", ")
}

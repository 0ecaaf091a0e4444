package httpapi

import (
	"encoding/base64"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hooksentry/hooksentry/pkg/destination"
	"github.com/hooksentry/hooksentry/pkg/history"
)

// The event routes of CONTRACT §5, each served by its own function.
var eventRoutes = []Route{
	{"list-events", http.MethodGet, "/api/v1/destinations/{id}/events"},
	{"get-event", http.MethodGet, "/api/v1/events/{eventId}"},
	{"replay-event", http.MethodPost, "/api/v1/events/{eventId}/replay"},
	{"replay-events", http.MethodPost, "/api/v1/destinations/{id}/events/replay"},
	{"event-stats", http.MethodGet, "/api/v1/destinations/{id}/events/stats"},
}

// EventSummary is an event in a list or a replay answer (CONTRACT §5).
type EventSummary struct {
	ID            string  `json:"id"`
	DestinationID string  `json:"destinationId"`
	TenantID      string  `json:"tenantId"`
	Status        string  `json:"status"`
	AttemptCount  int     `json:"attemptCount"`
	ReceivedAt    string  `json:"receivedAt"`
	LastAttemptAt *string `json:"lastAttemptAt"`
	NextAttemptAt *string `json:"nextAttemptAt"`
	DeliveredAt   *string `json:"deliveredAt"`
}

// EventDetail is one event with its body and attempts.
type EventDetail struct {
	EventSummary
	ContentType  *string             `json:"contentType"`
	Headers      map[string][]string `json:"headers"`
	Body         string              `json:"body"`
	BodyEncoding string              `json:"bodyEncoding,omitempty"`
	Attempts     []AttemptView       `json:"attempts"`
}

// AttemptView is one delivery attempt.
type AttemptView struct {
	Number       int     `json:"number"`
	StartedAt    string  `json:"startedAt"`
	DurationMs   int64   `json:"durationMs"`
	Trigger      string  `json:"trigger"`
	Outcome      string  `json:"outcome"`
	StatusCode   *int    `json:"statusCode"`
	Error        *string `json:"error"`
	ResponseBody *string `json:"responseBody"`
}

func optionalTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := destination.FormatTime(t)
	return &s
}

// NewEventSummary renders a record's summary.
func NewEventSummary(r history.Record) EventSummary {
	return EventSummary{
		ID: r.EventID, DestinationID: r.DestinationID, TenantID: r.TenantID, Status: string(r.Status),
		AttemptCount: r.AttemptCount, ReceivedAt: destination.FormatTime(r.ReceivedAt),
		LastAttemptAt: optionalTime(r.LastAttemptAt), NextAttemptAt: optionalTime(r.NextAttemptAt),
		DeliveredAt: optionalTime(r.DeliveredAt),
	}
}

// NewEventDetail renders a record in full. Headers were filtered at ingest
// (no Authorization or Cookie); the body is text when it is valid UTF-8.
func NewEventDetail(r history.Record) EventDetail {
	v := EventDetail{EventSummary: NewEventSummary(r), Headers: map[string][]string{}, Attempts: []AttemptView{}}
	if r.ContentType != "" {
		ct := r.ContentType
		v.ContentType = &ct
	}
	for _, h := range r.Headers {
		v.Headers[h[0]] = append(v.Headers[h[0]], h[1])
	}
	if utf8.Valid(r.Body) {
		v.Body = string(r.Body)
	} else {
		v.Body, v.BodyEncoding = base64.StdEncoding.EncodeToString(r.Body), "base64"
	}
	for _, a := range r.Attempts {
		av := AttemptView{
			Number: a.Number, StartedAt: destination.FormatTime(a.StartedAt), DurationMs: a.Duration.Milliseconds(),
			Trigger: string(a.Trigger), Outcome: "Failed",
		}
		if a.Delivered {
			av.Outcome = "Delivered"
		}
		if a.StatusCode != 0 {
			code := a.StatusCode
			av.StatusCode = &code
		}
		if a.Error != "" {
			e := a.Error
			av.Error = &e
		}
		if !a.Delivered && len(a.ResponseBody) > 0 {
			// Invalid UTF-8 (a binary answer, or a character cut by the
			// 1,024-byte limit) becomes "?", never longer than the bytes it
			// stands for, so the string stays within the limit.
			rb := strings.ToValidUTF8(string(a.ResponseBody), "?")
			av.ResponseBody = &rb
		}
		v.Attempts = append(v.Attempts, av)
	}
	return v
}

func (a *API) listEvents(w http.ResponseWriter, r *http.Request) {
	serve(w, r, a, http.StatusOK, func(tenant string) (any, error) {
		values, err := parseQuery(r.URL.RawQuery)
		if err != nil {
			return nil, err
		}
		p, err := history.ParseListParams(values)
		if err != nil {
			return nil, err
		}
		page, err := a.Events.List(r.Context(), tenant, r.PathValue("id"), p)
		if err != nil {
			return nil, err
		}
		items := make([]EventSummary, len(page.Items))
		for i, rec := range page.Items {
			items[i] = NewEventSummary(rec)
		}
		return struct {
			Total       int            `json:"total"`
			TotalCapped bool           `json:"totalCapped,omitempty"`
			Items       []EventSummary `json:"items"`
		}{page.Total, page.TotalCapped, items}, nil
	})
}

func (a *API) getEvent(w http.ResponseWriter, r *http.Request) {
	serve(w, r, a, http.StatusOK, func(tenant string) (any, error) {
		rec, err := a.Events.Get(r.Context(), tenant, r.PathValue("eventId"))
		if err != nil {
			return nil, err
		}
		return NewEventDetail(rec), nil
	})
}

func (a *API) replayEvent(w http.ResponseWriter, r *http.Request) {
	serve(w, r, a, http.StatusAccepted, func(tenant string) (any, error) {
		rec, err := a.Events.Replay(r.Context(), tenant, r.PathValue("eventId"))
		if err != nil {
			return nil, err
		}
		return NewEventSummary(rec), nil
	})
}

func (a *API) replayEvents(w http.ResponseWriter, r *http.Request) {
	serve(w, r, a, http.StatusAccepted, func(tenant string) (any, error) {
		body, err := readBody(r)
		if err != nil {
			return nil, err
		}
		b, err := history.ParseBulkReplay(body)
		if err != nil {
			return nil, err
		}
		res, err := a.Events.ReplayMatching(r.Context(), tenant, r.PathValue("id"), b)
		if err != nil {
			return nil, err
		}
		return struct {
			Replayed        int  `json:"replayed"`
			Remaining       int  `json:"remaining"`
			RemainingCapped bool `json:"remainingCapped,omitempty"`
		}{res.Replayed, res.Remaining, res.RemainingCapped}, nil
	})
}

func (a *API) eventStats(w http.ResponseWriter, r *http.Request) {
	serve(w, r, a, http.StatusOK, func(tenant string) (any, error) {
		values, err := parseQuery(r.URL.RawQuery)
		if err != nil {
			return nil, err
		}
		rng, err := history.ParseStatsRange(values, a.Events.Clock())
		if err != nil {
			return nil, err
		}
		buckets, err := a.Events.Stats(r.Context(), tenant, r.PathValue("id"), rng)
		if err != nil {
			return nil, err
		}
		type bucket struct {
			Start  string         `json:"start"`
			Counts map[string]int `json:"counts"`
		}
		out := struct {
			From    string   `json:"from"`
			To      string   `json:"to"`
			Buckets []bucket `json:"buckets"`
		}{destination.FormatTime(rng.From), destination.FormatTime(rng.To), make([]bucket, len(buckets))}
		for i, b := range buckets {
			out.Buckets[i] = bucket{Start: destination.FormatTime(b.Start), Counts: map[string]int{}}
			for st, n := range b.Counts {
				out.Buckets[i].Counts[string(st)] = n
			}
		}
		return out, nil
	})
}

// serve runs one handler body for the caller's tenant and writes its
// result as JSON with status, or its error as problem+json.
func serve(w http.ResponseWriter, r *http.Request, a *API, status int, body func(tenant string) (any, error)) {
	v, err := func() (any, error) {
		tenant, err := a.tenant(r.Context())
		if err != nil {
			return nil, err
		}
		return body(tenant)
	}()
	if err != nil {
		WriteError(w, r, a.Log, err)
		return
	}
	writeJSON(w, status, v)
}

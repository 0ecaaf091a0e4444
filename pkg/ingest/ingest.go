// Package ingest owns the public ingest route (CONTRACT §2): resolving an
// ingest token by its hash, bounding the body, and making the event durable
// on the delivery queue before answering 202.
package ingest

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/hooksentry/hooksentry/pkg/apperror"
	"github.com/hooksentry/hooksentry/pkg/destination"
	"github.com/hooksentry/hooksentry/pkg/event"
	"github.com/hooksentry/hooksentry/pkg/httpapi"
	"github.com/hooksentry/hooksentry/pkg/lambdahttp"
)

// Tokens resolves ingest-token hashes.
type Tokens interface {
	ResolveIngestToken(ctx context.Context, hash string) (destinationID, tenantID string, found bool, err error)
}

// Queue makes an event durable (an event.Publisher): once Publish returns
// nil the event will be delivered at least once.
type Queue interface {
	Publish(ctx context.Context, m event.Message) error
}

// Handler serves POST /ingest/{token}.
type Handler struct {
	Tokens Tokens
	Queue  Queue
	Log    *slog.Logger
	Now    func() time.Time
}

// Path is the API Gateway route of the ingest function.
const Path = "/ingest/{token}"

// ServeHTTP accepts one webhook.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id, err := h.accept(r)
	if err != nil {
		httpapi.WriteError(w, r, h.Log, err)
		return
	}
	// The same bytes json.NewEncoder(w).Encode(map[string]string{...})
	// writes, without the map and the encoder.
	out, _ := json.Marshal(accepted{EventID: id})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_, _ = w.Write(append(out, '\n'))
}

// accepted is the 202 answer (CONTRACT §2).
type accepted struct {
	EventID string `json:"eventId"`
}

func (h *Handler) accept(r *http.Request) (string, error) {
	if r.Method != http.MethodPost {
		return "", apperror.New(apperror.NotFound, "No route matches this request.")
	}
	token := strings.TrimPrefix(r.URL.Path, "/ingest/")
	if strings.Contains(token, "/") || !destination.WellFormedIngestToken(token) {
		return "", apperror.New(apperror.Unauthorized, "The ingest token is not valid.")
	}
	body, err := lambdahttp.ReadBody(r.Body, r.ContentLength, event.MaxBodySize)
	if err != nil {
		return "", apperror.New(apperror.Invalid, "The request body could not be read.")
	}
	if len(body) > event.MaxBodySize {
		return "", apperror.New(apperror.TooLarge, "The body exceeds %d bytes.", event.MaxBodySize)
	}
	destID, tenantID, found, err := h.Tokens.ResolveIngestToken(r.Context(), destination.HashIngestToken(token))
	if err != nil {
		return "", err
	}
	if !found {
		return "", apperror.New(apperror.Unauthorized, "The ingest token is not valid.")
	}
	now := time.Now()
	if h.Now != nil {
		now = h.Now()
	}
	m := event.Message{
		Version:       1,
		EventID:       event.NewID(destID, now),
		DestinationID: destID,
		TenantID:      tenantID,
		ReceivedAt:    now.UnixMilli(),
		ContentType:   r.Header.Get("Content-Type"),
		Headers:       event.Forwardable(r.Header),
		Body:          body,
	}
	if err := h.Queue.Publish(r.Context(), m); err != nil {
		return "", err
	}
	return m.EventID, nil
}

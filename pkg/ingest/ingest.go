// Package ingest owns the public ingest route (CONTRACT §2): resolving an
// ingest token by its hash, bounding the body, checking the destination's
// verification and deduplication, and making the event durable on the
// delivery queue before answering 202.
package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/hooksentry/hooksentry/pkg/apperror"
	"github.com/hooksentry/hooksentry/pkg/destination"
	"github.com/hooksentry/hooksentry/pkg/event"
	"github.com/hooksentry/hooksentry/pkg/httpapi"
	"github.com/hooksentry/hooksentry/pkg/lambdahttp"
	"github.com/hooksentry/hooksentry/pkg/metrics"
)

// Tokens resolves ingest-token hashes.
type Tokens interface {
	LookupIngestToken(ctx context.Context, hash string) (destination.TokenOwner, bool, error)
}

// Destinations reads the destination of a token whose owner has checks.
// GetDestination returns an apperror NotFound error for an unknown id.
type Destinations interface {
	GetDestination(ctx context.Context, id string) (destination.Destination, error)
}

// Queue makes an event durable (an event.Publisher): once Publish returns
// nil the event will be delivered at least once.
type Queue interface {
	Publish(ctx context.Context, m event.Message) error
}

// Handler serves POST /ingest/{token}. Destinations, Sealer and Claims
// are needed only for destinations with checks (verification,
// deduplication); a request for one is refused while they are missing.
type Handler struct {
	Tokens       Tokens
	Destinations Destinations
	Sealer       destination.Sealer // opens verification secrets
	Claims       Claims
	Queue        Queue
	Log          *slog.Logger
	Now          func() time.Time
	// Tolerance is the allowed skew of timestamped signatures;
	// verify.DefaultTolerance when zero.
	Tolerance time.Duration
	// Metrics, if set, counts each request's outcome (a *metrics.Sink).
	Metrics interface{ Ingest(metrics.IngestOutcome) }

	cache checksCache
}

// Path is the API Gateway route of the ingest function.
const Path = "/ingest/{token}"

func (h *Handler) log() *slog.Logger {
	if h.Log != nil {
		return h.Log
	}
	return slog.Default()
}

// ServeHTTP accepts one webhook.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a, err := h.accept(r)
	if h.Metrics != nil {
		h.Metrics.Ingest(outcome(a, err))
	}
	if err != nil {
		if apperror.CodeOf(err) == apperror.Conflict {
			w.Header().Set("Retry-After", "2") // an in-flight request with the same deduplication key
		}
		httpapi.WriteError(w, r, h.Log, err)
		return
	}
	// The same bytes json.NewEncoder(w).Encode(map[string]string{...})
	// writes, without the map and the encoder.
	out, _ := json.Marshal(a)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_, _ = w.Write(append(out, '\n'))
}

// accepted is the 202 answer (CONTRACT §2).
type accepted struct {
	EventID   string `json:"eventId"`
	Duplicate bool   `json:"duplicate,omitempty"`
}

// outcome classifies a request for the metrics, as its answer does:
// apperror's Internal is the 5xx of a failed dependency, every other code
// a 4xx refusal.
func outcome(a accepted, err error) metrics.IngestOutcome {
	var unverified *unverifiedError
	switch {
	case err == nil && a.Duplicate:
		return metrics.IngestDuplicate
	case err == nil:
		return metrics.IngestAccepted
	case errors.As(err, &unverified):
		return metrics.IngestUnverified
	case apperror.CodeOf(err) == apperror.Internal:
		return metrics.IngestError
	default:
		return metrics.IngestRefused
	}
}

func invalidToken() error {
	return apperror.New(apperror.Unauthorized, "The ingest token is not valid.")
}

func (h *Handler) accept(r *http.Request) (accepted, error) {
	if r.Method != http.MethodPost {
		return accepted{}, apperror.New(apperror.NotFound, "No route matches this request.")
	}
	token := strings.TrimPrefix(r.URL.Path, "/ingest/")
	if strings.Contains(token, "/") || !destination.WellFormedIngestToken(token) {
		return accepted{}, invalidToken()
	}
	body, err := lambdahttp.ReadBody(r.Body, r.ContentLength, event.MaxBodySize)
	if err != nil {
		return accepted{}, apperror.New(apperror.Invalid, "The request body could not be read.")
	}
	if len(body) > event.MaxBodySize {
		return accepted{}, apperror.New(apperror.TooLarge, "The body exceeds %d bytes.", event.MaxBodySize)
	}
	ctx := r.Context()
	hash := destination.HashIngestToken(token)
	owner, found, err := h.Tokens.LookupIngestToken(ctx, hash)
	if err != nil {
		return accepted{}, err
	}
	if !found {
		return accepted{}, invalidToken()
	}
	now := time.Now()
	if h.Now != nil {
		now = h.Now()
	}
	m := event.Message{
		Version:       1,
		EventID:       event.NewID(owner.DestinationID, now),
		DestinationID: owner.DestinationID,
		TenantID:      owner.TenantID,
		ReceivedAt:    now.UnixMilli(),
		ContentType:   r.Header.Get("Content-Type"),
		Headers:       event.Forwardable(r.Header),
		Body:          body,
	}
	if !owner.Checks() {
		return h.publish(ctx, m)
	}
	return h.acceptChecked(ctx, r.Header, owner, m, now)
}

// publish makes m durable: from then on it is accepted.
func (h *Handler) publish(ctx context.Context, m event.Message) (accepted, error) {
	if err := h.Queue.Publish(ctx, m); err != nil {
		return accepted{}, err
	}
	return accepted{EventID: m.EventID}, nil
}

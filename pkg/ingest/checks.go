package ingest

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/hooksentry/hooksentry/pkg/apperror"
	"github.com/hooksentry/hooksentry/pkg/dedup"
	"github.com/hooksentry/hooksentry/pkg/destination"
	"github.com/hooksentry/hooksentry/pkg/event"
	"github.com/hooksentry/hooksentry/pkg/verify"
)

// Claims remembers the deduplication keys of accepted events. A claim is
// made pending, before the event is published, and confirmed once it is:
// only a confirmed claim makes a later request a duplicate, so no request
// is ever answered as a duplicate of an event that was not stored.
type Claims interface {
	// ClaimDedupKey records eventID, accepted at at, as the pending first
	// event with fingerprint for destinationID, unless a confirmed claim
	// of an event accepted within window before at holds it (Duplicate,
	// with that event's id), or a pending claim whose lease has not run
	// out (InFlight: that event is being accepted right now). A pending
	// claim past its lease (its request died) is taken over.
	ClaimDedupKey(ctx context.Context, destinationID, fingerprint, eventID string, at time.Time, window, lease time.Duration) (first string, state ClaimState, err error)
	// ConfirmDedupKey confirms eventID's pending claim: its event is stored.
	ConfirmDedupKey(ctx context.Context, destinationID, fingerprint, eventID string) error
	// ReleaseDedupKey removes eventID's claim (its event could not be
	// stored) and leaves another event's claim alone.
	ReleaseDedupKey(ctx context.Context, destinationID, fingerprint, eventID string) error
}

// ClaimState is what a claim found.
type ClaimState int

const (
	Claimed   ClaimState = iota // the claim is this event's, pending
	Duplicate                   // a confirmed claim of an earlier event holds the key
	InFlight                    // an earlier request with the key is being accepted
)

// ClaimLease is how long a pending claim keeps the key: longer than an
// ingest request can take (API Gateway ends an HTTP API integration after
// 30 s), so a live request's claim is never taken over.
const ClaimLease = 35 * time.Second

// acceptChecked accepts m for a destination that may have checks: the
// signature is verified before anything is written, and the deduplication
// key is claimed before the event is published, so a duplicate is never
// stored and an unverified request leaves no trace.
func (h *Handler) acceptChecked(ctx context.Context, header http.Header, owner destination.TokenOwner, m event.Message, now time.Time) (accepted, error) {
	if h.Destinations == nil || h.Sealer == nil || h.Claims == nil {
		return accepted{}, fmt.Errorf("ingest: destination %s has checks but the handler has no destination reader, sealer or claims", m.DestinationID)
	}
	d, err := h.checked(ctx, owner, now)
	if err != nil {
		return accepted{}, err
	}
	if d.Verification != nil {
		if err := h.verify(ctx, d, header, m.Body, now); err != nil {
			return accepted{}, err
		}
		m.Verified = string(d.Verification.Config.Scheme)
	}
	if d.Deduplication == nil {
		return h.publish(ctx, m)
	}
	value, ok := d.Deduplication.Key.Value(header, m.Body)
	if !ok {
		return h.publish(ctx, m) // CONTRACT §2: a request without the key is accepted normally
	}
	fp := dedup.Fingerprint(d.Deduplication.Key, value)
	first, state, err := h.Claims.ClaimDedupKey(ctx, d.ID, fp, m.EventID, now, d.Deduplication.Window, ClaimLease)
	if err != nil {
		return accepted{}, err
	}
	switch state {
	case Duplicate:
		return accepted{EventID: first, Duplicate: true}, nil
	case InFlight:
		// Not yet accepted, and it may still fail: the sender's retry
		// must come back, not be told of an event that may never exist.
		return accepted{}, apperror.New(apperror.Conflict, "A request with the same deduplication key is being accepted right now; retry in a few seconds.")
	}
	if err := h.Queue.Publish(ctx, m); err != nil {
		// Released, the key is free for the sender's retry at once (else
		// only once the lease runs out).
		if rerr := h.Claims.ReleaseDedupKey(context.WithoutCancel(ctx), d.ID, fp, m.EventID); rerr != nil {
			return accepted{}, fmt.Errorf("%w (and releasing its deduplication key failed: %v)", err, rerr)
		}
		return accepted{}, err
	}
	// The event is durable: answer 202 even if the confirmation fails.
	// The claim then stays pending and a retry after its lease is accepted
	// as a new event (delivered twice, never lost).
	if err := h.Claims.ConfirmDedupKey(context.WithoutCancel(ctx), d.ID, fp, m.EventID); err != nil {
		h.log().ErrorContext(ctx, "confirm deduplication key; a retry after the lease is accepted again", "destinationId", d.ID, "eventId", m.EventID, "error", err)
	}
	return accepted{EventID: m.EventID}, nil
}

// checked returns the destination of owner with its current checks, from
// the cache when it holds a read made for owner's checks version.
func (h *Handler) checked(ctx context.Context, owner destination.TokenOwner, now time.Time) (destination.Destination, error) {
	if d, ok := h.cache.get(owner, now); ok {
		return d, nil
	}
	d, err := h.Destinations.GetDestination(ctx, owner.DestinationID)
	if apperror.CodeOf(err) == apperror.NotFound {
		return destination.Destination{}, invalidToken() // deleted since the token was read
	}
	if err != nil {
		return destination.Destination{}, err
	}
	h.cache.put(owner, d, now)
	return d, nil
}

// verify checks the request's signature; a failure is 401 with the
// scheme's reason, which names what is wrong but never a secret.
func (h *Handler) verify(ctx context.Context, d destination.Destination, header http.Header, body []byte, now time.Time) error {
	key, err := destination.OpenVerificationKey(ctx, h.Sealer, d)
	if err != nil {
		return err
	}
	defer clear(key)
	if err := verify.Verify(d.Verification.Config, key, header, body, now, h.Tolerance); err != nil {
		return &unverifiedError{apperror.New(apperror.Unauthorized, "The webhook signature could not be verified: %v", err)}
	}
	return nil
}

// unverifiedError is the 401 of a signature that did not verify. It is its
// own type so that ServeHTTP counts it apart from an invalid ingest token,
// which is a 401 too; the HTTP answer is its apperror's.
type unverifiedError struct{ err *apperror.Error }

func (e *unverifiedError) Error() string { return e.err.Error() }
func (e *unverifiedError) Unwrap() error { return e.err }

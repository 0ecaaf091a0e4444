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

// Claims remembers the deduplication keys of accepted events.
type Claims interface {
	// ClaimDedupKey records eventID, accepted at at, as the first event
	// with fingerprint for destinationID, unless an event accepted within
	// window before at holds it: then it returns that event's id and true.
	ClaimDedupKey(ctx context.Context, destinationID, fingerprint, eventID string, at time.Time, window time.Duration) (first string, duplicate bool, err error)
	// ReleaseDedupKey removes eventID's claim (its event could not be
	// stored) and leaves another event's claim alone.
	ReleaseDedupKey(ctx context.Context, destinationID, fingerprint, eventID string) error
}

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
		if err := h.Queue.Publish(ctx, m); err != nil {
			return accepted{}, err
		}
		return accepted{EventID: m.EventID}, nil
	}
	value, ok := d.Deduplication.Key.Value(header, m.Body)
	if !ok {
		// CONTRACT §2: a request without the key is accepted normally.
		if err := h.Queue.Publish(ctx, m); err != nil {
			return accepted{}, err
		}
		return accepted{EventID: m.EventID}, nil
	}
	fp := dedup.Fingerprint(d.Deduplication.Key, value)
	first, dup, err := h.Claims.ClaimDedupKey(ctx, d.ID, fp, m.EventID, now, d.Deduplication.Window)
	if err != nil {
		return accepted{}, err
	}
	if dup {
		return accepted{EventID: first, Duplicate: true}, nil
	}
	if err := h.Queue.Publish(ctx, m); err != nil {
		// Without the release, the sender's retry of this event would be
		// answered as a duplicate of an event that was never stored.
		if rerr := h.Claims.ReleaseDedupKey(context.WithoutCancel(ctx), d.ID, fp, m.EventID); rerr != nil {
			return accepted{}, fmt.Errorf("%w (and releasing its deduplication key failed: %v)", err, rerr)
		}
		return accepted{}, err
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

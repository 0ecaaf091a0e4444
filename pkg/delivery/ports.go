package delivery

import (
	"context"
	"time"

	"github.com/hooksentry/hooksentry/pkg/destination"
	"github.com/hooksentry/hooksentry/pkg/event"
)

// The ports below are what delivery needs from the table, one per concern,
// each as small as its callers. pkg/store implements all of them; the
// deliverytest package has an in-memory fake and the conformance suite
// that holds both to the same conditional behaviour.

// TargetStore reads what a batch is delivered to.
type TargetStore interface {
	// LoadTarget returns a destination and its delivery state; found is
	// false once the destination was deleted.
	LoadTarget(ctx context.Context, destinationID string) (d destination.Destination, st State, found bool, err error)
}

// LeaseStore guards the concurrency limit: leases on the shared state item.
type LeaseStore interface {
	// LoadState reads the state; apperror NotFound once the destination
	// was deleted.
	LoadState(ctx context.Context, destinationID string) (State, error)
	// WriteLeases replaces the lease map if its version is still version;
	// otherwise (or if the state is gone) it returns an apperror Conflict.
	// It never creates the state of a deleted destination.
	WriteLeases(ctx context.Context, destinationID string, leases map[string]Lease, version int64) error
	// ReleaseLease gives a lease back and records the batch's outcome for
	// the breaker in the same write; it returns the consecutive failures.
	ReleaseLease(ctx context.Context, destinationID, leaseID string, o Outcome) (int, error)
}

// BreakerStore changes the circuit breaker's shared state. Each change is
// conditional, so that of many workers exactly one opens or closes it.
type BreakerStore interface {
	// Suspend makes an Active destination Suspended with its breaker open
	// until openUntil; false if it was not Active.
	Suspend(ctx context.Context, destinationID string, openUntil time.Time, cooldown time.Duration) (bool, error)
	// ClaimProbe lets one worker probe once ProbeDue holds; until bounds
	// the claim, so a dead prober's claim passes.
	ClaimProbe(ctx context.Context, destinationID string, now, until time.Time) (bool, error)
	// ProbeFailed keeps the breaker open until openUntil and records the
	// event whose probe failed.
	ProbeFailed(ctx context.Context, destinationID string, openUntil time.Time, cooldown time.Duration, eventID string) error
	// Reactivate makes a Suspended destination Active and resets its
	// breaker; false if it was no longer Suspended.
	Reactivate(ctx context.Context, destinationID string) (bool, error)
}

// HeldStore parks events of destinations that are not Active. Every hold
// gets a key of its own, so a hold is only ever deleted by whoever read it.
type HeldStore interface {
	// Hold parks m under a key of its own, which it returns; holds are
	// listed in heldAt order.
	Hold(ctx context.Context, m event.Message, heldAt time.Time) (sortKey string, err error)
	// FlagHeld marks the destination as having held events (the sweeper's
	// index). Called after the holds it covers; apperror NotFound when the
	// destination is gone.
	FlagHeld(ctx context.Context, destinationID string) error
	ListHeld(ctx context.Context, destinationID string, limit int) ([]event.Held, error)
	DeleteHeld(ctx context.Context, destinationID string, sortKeys []string) error
	// ClearHeldFlag is called by a drainer before its final ListHeld.
	ClearHeldFlag(ctx context.Context, destinationID string) error
	// ClaimDrain lets one chain of drain rounds run at a time: it succeeds
	// for chain if no other chain's claim is live at now, and holds the
	// claim until until. False, not an error, when another chain drains.
	ClaimDrain(ctx context.Context, destinationID, chain string, now, until time.Time) (bool, error)
	// ReleaseDrain ends chain's claim, once nothing is left to drain.
	ReleaseDrain(ctx context.Context, destinationID, chain string) error
}

// EventStore keeps events in the table: bodies too large for a message
// (Pending, referenced by the message) and events whose attempts are spent
// (Failed).
type EventStore interface {
	// GetEvent reads a stored event; found is false if there is none.
	GetEvent(ctx context.Context, eventID string) (m event.Message, status string, found bool, err error)
	// PutEvent stores an event with its body. Storing it Failed when it is
	// Failed already at the same or a higher attempt count (Prior +
	// Attempts) is an apperror Conflict: failing is decided once.
	PutEvent(ctx context.Context, m event.Message, status string, due time.Time) error
	// FailStoredEvent marks an existing Pending stored event Failed at
	// failedAt with its attempt count, keeping its body; apperror NotFound
	// if it is gone.
	FailStoredEvent(ctx context.Context, eventID string, attempts int, failedAt time.Time) error
	DeleteEvent(ctx context.Context, eventID string) error
	// RetryStoredEvent records a failed attempt of a Pending stored event.
	RetryStoredEvent(ctx context.Context, eventID string, due time.Time, attempts int) error
}

// Store is every port together: what the deliver function is wired with.
type Store interface {
	TargetStore
	LeaseStore
	BreakerStore
	HeldStore
	EventStore
}

// Queue puts messages back on the delivery queue (an event.Publisher).
type Queue interface {
	// Send enqueues a message that fits: a retry, a reference, a control
	// message.
	Send(ctx context.Context, m event.Message) error
	// PublishBatch makes many events durable with few requests (storing
	// bodies too large for a message first) and returns the indexes of
	// those it could not.
	PublishBatch(ctx context.Context, msgs []event.Message) ([]int, error)
}

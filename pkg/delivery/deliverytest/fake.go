// Package deliverytest holds delivery's test doubles and the conformance
// suite of its store ports: Fake, an in-memory delivery.Store; Recorder,
// an in-memory history.Recorder that keeps the worker's history changes;
// and Run, which holds any delivery.Store (the Fake, and pkg/store over
// dynalite) to the same conditional behaviour, so tests written against
// the Fake say something about the real table.
package deliverytest

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/hooksentry/hooksentry/pkg/apperror"
	"github.com/hooksentry/hooksentry/pkg/delivery"
	"github.com/hooksentry/hooksentry/pkg/destination"
	"github.com/hooksentry/hooksentry/pkg/event"
)

// Fake is an in-memory delivery.Store with the conditional semantics of
// pkg/store (checked by Run), recording the calls a test asserts on.
type Fake struct {
	// OnHold, when set, runs after each hold is made, outside the lock:
	// a test uses it to interleave another worker's step.
	OnHold func(m event.Message)
	// OnClearHeldFlag, when set, runs after the flag is cleared.
	OnClearHeldFlag func(destinationID string)

	mu      sync.Mutex
	dests   map[string]destination.Destination
	states  map[string]*delivery.State
	held    map[string][]event.Held
	flagged map[string]bool
	events  map[string]StoredEvent
	drains  map[string]drainClaim
	seq     int

	holds    []HoldCall
	puts     []PutCall
	suspends []SuspendCall
	releases []ReleaseCall
}

// StoredEvent is an event kept by the Fake's EventStore.
type StoredEvent struct {
	Msg    event.Message
	Status string
	Due    time.Time
}

// HoldCall records a Hold.
type HoldCall struct {
	Msg    event.Message
	HeldAt time.Time
	Key    string
}

// PutCall records a PutEvent.
type PutCall struct {
	Msg    event.Message
	Status string
	Due    time.Time
}

// SuspendCall records a Suspend.
type SuspendCall struct {
	DestinationID string
	OpenUntil     time.Time
	Cooldown      time.Duration
}

// ReleaseCall records a ReleaseLease.
type ReleaseCall struct {
	DestinationID, LeaseID string
	Outcome                delivery.Outcome
}

var _ delivery.Store = (*Fake)(nil)

// NewFake returns an empty Fake.
func NewFake() *Fake {
	return &Fake{
		dests: map[string]destination.Destination{}, states: map[string]*delivery.State{},
		held: map[string][]event.Held{}, flagged: map[string]bool{}, events: map[string]StoredEvent{},
		drains: map[string]drainClaim{},
	}
}

type drainClaim struct {
	chain string
	until time.Time
}

// AddDestination stores d with the delivery state st.
func (s *Fake) AddDestination(d destination.Destination, st delivery.State) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dests[d.ID] = d
	st = copyState(st)
	s.states[d.ID] = &st
}

// DeleteDestination removes d as pkg/store does: the state item stays
// while it flags held events.
func (s *Fake) DeleteDestination(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.dests, id)
	if !s.flagged[id] {
		delete(s.states, id)
	}
}

// Destination returns the stored destination.
func (s *Fake) Destination(id string) destination.Destination {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dests[id]
}

// Flagged reports whether the destination is in the held index.
func (s *Fake) Flagged(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.flagged[id]
}

// Held returns the held events of a destination, oldest first.
func (s *Fake) Held(id string) []event.Held {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.held[id])
}

// Event returns a stored event.
func (s *Fake) Event(id string) (StoredEvent, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.events[id]
	return e, ok
}

// Calls are the recorded calls, in order.
type Calls struct {
	Holds    []HoldCall
	Puts     []PutCall
	Suspends []SuspendCall
	Releases []ReleaseCall
}

// Calls returns copies of the recorded calls.
func (s *Fake) Calls() Calls {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Calls{slices.Clone(s.holds), slices.Clone(s.puts), slices.Clone(s.suspends), slices.Clone(s.releases)}
}

func copyState(st delivery.State) delivery.State {
	st.Leases = maps.Clone(st.Leases)
	if st.Leases == nil {
		st.Leases = map[string]delivery.Lease{}
	}
	return st
}

func (s *Fake) LoadTarget(_ context.Context, id string) (destination.Destination, delivery.State, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.dests[id]
	if !ok {
		return destination.Destination{}, delivery.State{Leases: map[string]delivery.Lease{}}, false, nil
	}
	if s.states[id] == nil {
		s.states[id] = &delivery.State{Leases: map[string]delivery.Lease{}}
	}
	return d, copyState(*s.states[id]), true, nil
}

func (s *Fake) LoadState(_ context.Context, id string) (delivery.State, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.states[id]; st != nil {
		return copyState(*st), nil
	}
	return delivery.State{}, apperror.New(apperror.NotFound, "destination %s has no delivery state", id)
}

func (s *Fake) WriteLeases(_ context.Context, id string, leases map[string]delivery.Lease, version int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.states[id]
	if st == nil || st.LeaseVersion != version {
		return apperror.New(apperror.Conflict, "leases of %s changed concurrently", id)
	}
	st.Leases, st.LeaseVersion = maps.Clone(leases), version+1
	return nil
}

func (s *Fake) ReleaseLease(_ context.Context, id, leaseID string, o delivery.Outcome) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.releases = append(s.releases, ReleaseCall{id, leaseID, o})
	st := s.states[id]
	if st == nil {
		return 0, nil
	}
	delete(st.Leases, leaseID)
	st.LeaseVersion++
	if o.Succeeded {
		st.Failures = o.TrailingFailures
	} else {
		st.Failures += o.TrailingFailures
	}
	return st.Failures, nil
}

func (s *Fake) Suspend(_ context.Context, id string, openUntil time.Time, cooldown time.Duration) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.suspends = append(s.suspends, SuspendCall{id, openUntil, cooldown})
	d, ok := s.dests[id]
	if !ok || d.Status != destination.Active {
		return false, nil
	}
	d.Status, d.Version = destination.Suspended, d.Version+1
	s.dests[id] = d
	if st := s.states[id]; st != nil {
		st.OpenUntil, st.Cooldown, st.ProbeUntil, st.LastProbe = openUntil, cooldown, time.Time{}, ""
	}
	return true, nil
}

func (s *Fake) ClaimProbe(_ context.Context, id string, now, until time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.states[id]
	if st == nil || !st.ProbeDue(now) {
		return false, nil
	}
	st.ProbeUntil = until
	return true, nil
}

func (s *Fake) ProbeFailed(_ context.Context, id string, openUntil time.Time, cooldown time.Duration, eventID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.states[id]; st != nil {
		st.OpenUntil, st.Cooldown, st.ProbeUntil, st.LastProbe = openUntil, cooldown, time.Time{}, eventID
	}
	return nil
}

func (s *Fake) Reactivate(_ context.Context, id string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.states[id]; st != nil {
		st.Failures, st.Cooldown, st.OpenUntil, st.ProbeUntil, st.LastProbe = 0, 0, time.Time{}, time.Time{}, ""
	}
	d, ok := s.dests[id]
	if !ok || d.Status != destination.Suspended {
		return false, nil
	}
	d.Status, d.Version = destination.Active, d.Version+1
	s.dests[id] = d
	return true, nil
}

func (s *Fake) Hold(_ context.Context, m event.Message, heldAt time.Time) (string, error) {
	s.mu.Lock()
	s.seq++
	key := fmt.Sprintf("HELD#%019d#%s#%08x", heldAt.UnixNano(), m.EventID, s.seq)
	s.holds = append(s.holds, HoldCall{m, heldAt, key})
	s.held[m.DestinationID] = append(s.held[m.DestinationID], event.Held{SortKey: key, Message: m})
	slices.SortFunc(s.held[m.DestinationID], func(a, b event.Held) int { return cmp.Compare(a.SortKey, b.SortKey) })
	hook := s.OnHold
	s.mu.Unlock()
	if hook != nil {
		hook(m)
	}
	return key, nil
}

func (s *Fake) FlagHeld(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.states[id] == nil {
		return apperror.New(apperror.NotFound, "destination %s has no delivery state", id)
	}
	s.flagged[id] = true
	return nil
}

func (s *Fake) ListHeld(_ context.Context, id string, limit int) ([]event.Held, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.held[id]
	return slices.Clone(h[:min(limit, len(h))]), nil
}

func (s *Fake) DeleteHeld(_ context.Context, id string, sortKeys []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.held[id] = slices.DeleteFunc(s.held[id], func(h event.Held) bool { return slices.Contains(sortKeys, h.SortKey) })
	return nil
}

func (s *Fake) ClearHeldFlag(_ context.Context, id string) error {
	s.mu.Lock()
	delete(s.flagged, id)
	hook := s.OnClearHeldFlag
	s.mu.Unlock()
	if hook != nil {
		hook(id)
	}
	return nil
}

func (s *Fake) GetEvent(_ context.Context, id string) (event.Message, string, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.events[id]
	return e.Msg, e.Status, ok, nil
}

func (s *Fake) PutEvent(_ context.Context, m event.Message, status string, due time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur, ok := s.events[m.EventID]; ok && status == event.StatusFailed && cur.Status == event.StatusFailed &&
		cur.Msg.Prior+cur.Msg.Attempts >= m.Prior+m.Attempts {
		return apperror.New(apperror.Conflict, "event %s is Failed already", m.EventID)
	}
	s.puts = append(s.puts, PutCall{m, status, due})
	s.events[m.EventID] = StoredEvent{m, status, due}
	return nil
}

func (s *Fake) FailStoredEvent(_ context.Context, id string, attempts int, _ time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.events[id]
	if !ok {
		return apperror.New(apperror.NotFound, "stored event %s not found", id)
	}
	e.Status, e.Msg.Attempts = event.StatusFailed, attempts
	s.events[id] = e
	return nil
}

func (s *Fake) DeleteEvent(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.events, id)
	return nil
}

func (s *Fake) RetryStoredEvent(_ context.Context, id string, due time.Time, attempts int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.events[id]; ok && e.Status == event.StatusPending {
		e.Due, e.Msg.Attempts = due, attempts
		s.events[id] = e
	}
	return nil
}

func (s *Fake) ClaimDrain(_ context.Context, id, chain string, now, until time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.states[id] == nil {
		return false, nil
	}
	if c, ok := s.drains[id]; ok && c.chain != chain && now.Before(c.until) {
		return false, nil
	}
	s.drains[id] = drainClaim{chain, until}
	return true, nil
}

func (s *Fake) ReleaseDrain(_ context.Context, id, chain string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.drains[id]; ok && c.chain == chain {
		delete(s.drains, id)
	}
	return nil
}

package delivery_test

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

// fakeStore is an in-memory delivery.Store with the conditional semantics
// of pkg/store, recording the calls a test asserts on.
type fakeStore struct {
	mu      sync.Mutex
	dests   map[string]destination.Destination
	states  map[string]*delivery.State
	held    map[string][]event.Held
	flagged map[string]bool
	events  map[string]storedEvent

	holds    []holdCall
	puts     []putCall
	suspends []suspendCall
	releases []releaseCall
	deleted  []string // stored event ids
}

type storedEvent struct {
	msg    event.Message
	status string
	due    time.Time
}

type holdCall struct {
	msg  event.Message
	flag bool
}

type putCall struct {
	msg    event.Message
	status string
	due    time.Time
}

type suspendCall struct {
	destinationID string
	openUntil     time.Time
	cooldown      time.Duration
}

type releaseCall struct {
	destinationID, leaseID string
	outcome                delivery.Outcome
}

var _ delivery.Store = (*fakeStore)(nil)

func newFakeStore() *fakeStore {
	return &fakeStore{
		dests: map[string]destination.Destination{}, states: map[string]*delivery.State{},
		held: map[string][]event.Held{}, flagged: map[string]bool{}, events: map[string]storedEvent{},
	}
}

// addDestination stores d with a fresh delivery state.
func (s *fakeStore) addDestination(d destination.Destination, st delivery.State) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dests[d.ID] = d
	if st.Leases == nil {
		st.Leases = map[string]delivery.Lease{}
	}
	s.states[d.ID] = &st
}

func (s *fakeStore) state(id string) *delivery.State {
	st, ok := s.states[id]
	if !ok {
		st = &delivery.State{Leases: map[string]delivery.Lease{}}
		s.states[id] = st
	}
	return st
}

func copyState(st delivery.State) delivery.State {
	st.Leases = maps.Clone(st.Leases)
	if st.Leases == nil {
		st.Leases = map[string]delivery.Lease{}
	}
	return st
}

func (s *fakeStore) LoadTarget(_ context.Context, id string) (destination.Destination, delivery.State, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.dests[id]
	st := copyState(*s.state(id))
	st.HasHeld = s.flagged[id]
	return d, st, ok, nil
}

func (s *fakeStore) LoadState(_ context.Context, id string) (delivery.State, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return copyState(*s.state(id)), nil
}

func (s *fakeStore) WriteLeases(_ context.Context, id string, leases map[string]delivery.Lease, version int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.state(id)
	if st.LeaseVersion != version {
		return apperror.New(apperror.Conflict, "leases of %s changed concurrently", id)
	}
	st.Leases, st.LeaseVersion = maps.Clone(leases), version+1
	return nil
}

func (s *fakeStore) ReleaseLease(_ context.Context, id, leaseID string, o delivery.Outcome) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.releases = append(s.releases, releaseCall{id, leaseID, o})
	st := s.state(id)
	delete(st.Leases, leaseID)
	st.LeaseVersion++
	switch {
	case o.Succeeded:
		st.Failures = o.TrailingFailures
	default:
		st.Failures += o.TrailingFailures
	}
	return st.Failures, nil
}

func (s *fakeStore) Suspend(_ context.Context, id string, openUntil time.Time, cooldown time.Duration) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.suspends = append(s.suspends, suspendCall{id, openUntil, cooldown})
	d, ok := s.dests[id]
	if !ok || d.Status != destination.Active {
		return false, nil
	}
	d.Status, d.Version = destination.Suspended, d.Version+1
	s.dests[id] = d
	st := s.state(id)
	st.OpenUntil, st.Cooldown, st.ProbeUntil = openUntil, cooldown, time.Time{}
	return true, nil
}

func (s *fakeStore) ClaimProbe(_ context.Context, id string, now, until time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.state(id)
	if now.Before(st.OpenUntil) || now.Before(st.ProbeUntil) {
		return false, nil
	}
	st.ProbeUntil = until
	return true, nil
}

func (s *fakeStore) ProbeFailed(_ context.Context, id string, openUntil time.Time, cooldown time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.state(id)
	st.OpenUntil, st.Cooldown, st.ProbeUntil = openUntil, cooldown, time.Time{}
	return nil
}

func (s *fakeStore) Reactivate(_ context.Context, id string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.state(id)
	st.Failures, st.Cooldown, st.OpenUntil, st.ProbeUntil = 0, 0, time.Time{}, time.Time{}
	d, ok := s.dests[id]
	if !ok || d.Status != destination.Suspended {
		return false, nil
	}
	d.Status, d.Version = destination.Active, d.Version+1
	s.dests[id] = d
	return true, nil
}

func (s *fakeStore) Hold(_ context.Context, m event.Message, flag bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.holds = append(s.holds, holdCall{m, flag})
	s.held[m.DestinationID] = append(s.held[m.DestinationID], event.Held{SortKey: fmt.Sprintf("HELD#%013d#%s", m.ReceivedAt, m.EventID), Message: m})
	slices.SortFunc(s.held[m.DestinationID], func(a, b event.Held) int { return cmp.Compare(a.SortKey, b.SortKey) })
	if flag {
		s.flagged[m.DestinationID] = true
	}
	return nil
}

func (s *fakeStore) ListHeld(_ context.Context, id string, limit int) ([]event.Held, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.held[id]
	return slices.Clone(h[:min(limit, len(h))]), nil
}

func (s *fakeStore) DeleteHeld(_ context.Context, id string, sortKeys []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.held[id] = slices.DeleteFunc(s.held[id], func(h event.Held) bool { return slices.Contains(sortKeys, h.SortKey) })
	return nil
}

func (s *fakeStore) ClearHeldFlag(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.flagged, id)
	return nil
}

func (s *fakeStore) GetEvent(_ context.Context, id string) (event.Message, string, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.events[id]
	return e.msg, e.status, ok, nil
}

func (s *fakeStore) PutEvent(_ context.Context, m event.Message, status string, due time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.puts = append(s.puts, putCall{m, status, due})
	s.events[m.EventID] = storedEvent{m, status, due}
	return nil
}

func (s *fakeStore) DeleteEvent(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deleted = append(s.deleted, id)
	delete(s.events, id)
	return nil
}

func (s *fakeStore) RetryStoredEvent(_ context.Context, id string, due time.Time, attempts int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.events[id]; ok && e.status == "Pending" {
		e.due = due
		e.msg.Attempts = attempts
		s.events[id] = e
	}
	return nil
}

// snapshot returns copies of the recorded calls.
func (s *fakeStore) snapshot() (holds []holdCall, puts []putCall, suspends []suspendCall, releases []releaseCall) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.holds), slices.Clone(s.puts), slices.Clone(s.suspends), slices.Clone(s.releases)
}

func (s *fakeStore) destination(id string) destination.Destination {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dests[id]
}

// fakeQueue records what the worker puts back on the delivery queue.
type fakeQueue struct {
	mu       sync.Mutex
	sent     []event.Message
	enqueued []event.Message
	err      error
}

var _ delivery.Queue = (*fakeQueue)(nil)

func (q *fakeQueue) Send(_ context.Context, m event.Message) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.err != nil {
		return q.err
	}
	q.sent = append(q.sent, m)
	return nil
}

func (q *fakeQueue) Enqueue(_ context.Context, m event.Message) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.err != nil {
		return q.err
	}
	q.enqueued = append(q.enqueued, m)
	return nil
}

func (q *fakeQueue) EnqueueBatch(ctx context.Context, msgs []event.Message) ([]int, error) {
	var failed []int
	var first error
	for i, m := range msgs {
		if err := q.Enqueue(ctx, m); err != nil {
			failed = append(failed, i)
			first = cmp.Or(first, err)
		}
	}
	return failed, first
}

func (q *fakeQueue) messages() (sent, enqueued []event.Message) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return slices.Clone(q.sent), slices.Clone(q.enqueued)
}

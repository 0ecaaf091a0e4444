package delivery

import (
	"time"
)

// Lease is a claim on Slots of a destination's concurrency limit, valid
// until Expires. A worker that dies leaves its lease behind; it stops
// counting once expired, so no slot is lost for longer than one lease.
type Lease struct {
	Slots   int
	Expires time.Time
}

// State is a destination's shared delivery state, read and written by every
// worker through the Store: concurrency leases and the circuit breaker.
type State struct {
	Leases       map[string]Lease
	LeaseVersion int64 // bumped by every lease change; guards acquisition

	Failures   int           // consecutive failed attempts
	OpenUntil  time.Time     // while Suspended: no probe before this
	Cooldown   time.Duration // the wait that set OpenUntil; doubles per failed probe
	ProbeUntil time.Time     // a probe is in flight until this
	LastProbe  string        // the event of the last failed probe: not the next probe while another is held
}

// InUse counts the slots held by unexpired leases at now.
func (s State) InUse(now time.Time) int {
	n := 0
	for _, l := range s.Leases {
		if now.Before(l.Expires) {
			n += l.Slots
		}
	}
	return n
}

// Live returns the unexpired leases, so acquisition prunes dead workers'.
func (s State) Live(now time.Time) map[string]Lease {
	live := make(map[string]Lease, len(s.Leases)+1)
	for id, l := range s.Leases {
		if now.Before(l.Expires) {
			live[id] = l
		}
	}
	return live
}

// Outcome is what one batch learned about a destination's health, recorded
// when its lease is released. TrailingFailures counts the failed attempts
// after the last success (or all of them, if none succeeded).
type Outcome struct {
	Succeeded        bool
	TrailingFailures int
}

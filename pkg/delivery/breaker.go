package delivery

import "time"

// The circuit breaker's rules, as pure functions of the shared State and
// the Config. The worker and the sweeper both decide with these; the store
// only makes the decisions durable, conditionally.

// ProbeDue reports whether a Suspended destination may be probed at now:
// its cooldown has passed and no other probe is in flight.
func (s State) ProbeDue(now time.Time) bool {
	return !now.Before(s.OpenUntil) && !now.Before(s.ProbeUntil)
}

// Trips reports whether failures consecutive failed attempts open the breaker.
func (c Config) Trips(failures int) bool {
	return failures >= c.FailureThreshold
}

// FirstCooldown is the wait before the first probe of a destination the
// breaker just suspended.
func (c Config) FirstCooldown() time.Duration { return c.Cooldown }

// NextCooldown is the wait after a failed probe: the last one doubled,
// capped at MaxCooldown.
func (c Config) NextCooldown(s State) time.Duration {
	return min(max(s.Cooldown, c.Cooldown)*2, max(c.MaxCooldown, c.Cooldown))
}

// Spent reports whether an event with attempts failed attempts (probes
// included) is done for: it is stored as Failed instead of retried.
func (c Config) Spent(attempts int) bool {
	return attempts >= c.MaxAttempts
}

package delivery

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// MaxRetryAfter bounds how long a destination's Retry-After can postpone a
// retry; beyond it the header is treated as this value.
const MaxRetryAfter = 24 * time.Hour

// Backoff computes retry delays: Base doubled per failed attempt, capped at
// Max, with "equal jitter" (a uniform draw from the upper half) so retries
// of many events spread out without ever retrying much earlier than planned.
type Backoff struct {
	Base, Max time.Duration
	Rand      func() float64 // [0,1); rand.Float64 when nil
}

// Delay returns the wait after the given number of failed attempts (1 for
// the first failure). A Retry-After longer than the computed delay wins: the
// destination asked for it.
func (b Backoff) Delay(failures int, retryAfter time.Duration) time.Duration {
	d := b.Base
	for i := 1; i < failures && d < b.Max; i++ {
		d *= 2
	}
	d = min(d, b.Max)
	r := rand.Float64
	if b.Rand != nil {
		r = b.Rand
	}
	d = d/2 + time.Duration(r()*float64(d/2))
	if retryAfter > d {
		return min(retryAfter, MaxRetryAfter)
	}
	return d
}

// ParseRetryAfter reads a Retry-After header: delay-seconds or an HTTP date.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		// Compare in seconds: secs*time.Second overflows for large values.
		if secs >= int64(MaxRetryAfter/time.Second) {
			return MaxRetryAfter
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return min(t.Sub(now), MaxRetryAfter)
	}
	return 0
}

package delivery_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/hooksentry/hooksentry/pkg/delivery"
)

func fixedRand(v float64) func() float64 { return func() float64 { return v } }

func TestBackoffDelay(t *testing.T) {
	const s = time.Second
	low := delivery.Backoff{Base: s, Max: 10 * s, Rand: fixedRand(0)}
	high := delivery.Backoff{Base: s, Max: 10 * s, Rand: fixedRand(0.999)}
	// upper is the jittered delay with the draw at 0.999: d/2 + 0.999*d/2.
	upper := func(d time.Duration) time.Duration { return d/2 + time.Duration(0.999*float64(d/2)) }
	for _, tc := range []struct {
		name       string
		b          delivery.Backoff
		failures   int
		retryAfter time.Duration
		want       time.Duration
	}{
		{"first failure, lowest draw", low, 1, 0, s / 2},
		{"second failure doubles", low, 2, 0, s},
		{"third failure doubles again", low, 3, 0, 2 * s},
		{"fourth failure", low, 4, 0, 4 * s},
		{"fifth failure is capped at Max", low, 5, 0, 5 * s},
		{"many failures stay capped", low, 1000, 0, 5 * s},
		{"first failure, highest draw", high, 1, 0, upper(s)},
		{"third failure, highest draw", high, 3, 0, upper(4 * s)},
		{"capped, highest draw", high, 60, 0, upper(10 * s)},
		{"Retry-After longer than the backoff wins", high, 1, 30 * s, 30 * s},
		{"Retry-After longer than Max wins too", low, 100, time.Hour, time.Hour},
		{"Retry-After shorter than the backoff is ignored", high, 3, 2 * s, upper(4 * s)},
		{"Retry-After equal to the backoff", low, 3, 2 * s, 2 * s},
		{"Retry-After is capped at 24h", low, 1, 48 * time.Hour, 24 * time.Hour},
		{"Retry-After of exactly 24h", low, 1, 24 * time.Hour, 24 * time.Hour},
		{"zero base", delivery.Backoff{Max: s, Rand: fixedRand(0.5)}, 3, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.b.Delay(tc.failures, tc.retryAfter); got != tc.want {
				t.Errorf("Delay(%d, %v): got %v, want %v", tc.failures, tc.retryAfter, got, tc.want)
			}
		})
	}
}

// TestBackoffEqualJitterBounds checks that every draw lands in the upper
// half [d/2, d] of the capped exponential delay d, with the injected draws
// at both ends and the default random source.
func TestBackoffEqualJitterBounds(t *testing.T) {
	base, maxDelay := 100*time.Millisecond, 3*time.Second
	for _, draw := range []func() float64{fixedRand(0), fixedRand(0.5), fixedRand(0.999), nil} {
		b := delivery.Backoff{Base: base, Max: maxDelay, Rand: draw}
		d := base
		for failures := 1; failures <= 12; failures++ {
			for range 20 {
				got := b.Delay(failures, 0)
				if got < d/2 || got > d {
					t.Fatalf("Delay(%d, 0) = %v: want within [%v, %v]", failures, got, d/2, d)
				}
			}
			d = min(d*2, maxDelay)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name, value string
		want        time.Duration
	}{
		{"seconds", "120", 2 * time.Minute},
		{"seconds with spaces", "  7 ", 7 * time.Second},
		{"one second", "1", time.Second},
		{"zero", "0", 0},
		{"negative", "-30", 0},
		{"empty", "", 0},
		{"capped at 24h", "604800", 24 * time.Hour},
		{"exactly 24h", "86400", 24 * time.Hour},
		{"huge number of seconds is capped, not overflowed", "10000000000000", 24 * time.Hour},
		{"max int64 seconds", "9223372036854775807", 24 * time.Hour},
		{"beyond int64", "99999999999999999999", 0},
		{"fraction", "1.5", 0},
		{"HTTP date in the future", now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{"HTTP date in the past", now.Add(-time.Hour).Format(http.TimeFormat), 0},
		{"HTTP date now", now.Format(http.TimeFormat), 0},
		{"HTTP date beyond 24h", now.Add(72 * time.Hour).Format(http.TimeFormat), 24 * time.Hour},
		{"RFC 850 date", now.Add(time.Minute).Format("Monday, 02-Jan-06 15:04:05 GMT"), time.Minute},
		{"ANSI C date", now.Add(time.Minute).Format(time.ANSIC), time.Minute},
		{"garbage", "soon", 0},
		{"number with unit", "30s", 0},
		{"ISO date", now.Add(time.Minute).Format(time.RFC3339), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := delivery.ParseRetryAfter(tc.value, now); got != tc.want {
				t.Errorf("ParseRetryAfter(%q): got %v, want %v", tc.value, got, tc.want)
			}
		})
	}
}

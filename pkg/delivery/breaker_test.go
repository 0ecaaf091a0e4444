package delivery_test

import (
	"testing"
	"time"

	"github.com/hooksentry/hooksentry/pkg/delivery"
)

func TestBreakerRules(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	cfg := delivery.Config{MaxAttempts: 5, FailureThreshold: 3, Cooldown: time.Minute, MaxCooldown: 5 * time.Minute}

	for _, tc := range []struct {
		name  string
		state delivery.State
		want  bool
	}{
		{"never opened", delivery.State{}, true},
		{"cooling down", delivery.State{OpenUntil: now.Add(time.Second)}, false},
		{"cooldown ends now", delivery.State{OpenUntil: now}, true},
		{"probe in flight", delivery.State{OpenUntil: now.Add(-time.Minute), ProbeUntil: now.Add(time.Second)}, false},
		{"probe claim passed", delivery.State{OpenUntil: now.Add(-time.Minute), ProbeUntil: now.Add(-time.Millisecond)}, true},
	} {
		if got := tc.state.ProbeDue(now); got != tc.want {
			t.Errorf("ProbeDue, %s: got %v, want %v", tc.name, got, tc.want)
		}
	}

	for _, tc := range []struct {
		last, want time.Duration
	}{
		{0, 2 * time.Minute}, // a probe of a breaker opened with the first cooldown
		{time.Minute, 2 * time.Minute},
		{2 * time.Minute, 4 * time.Minute},
		{4 * time.Minute, 5 * time.Minute}, // capped
		{time.Hour, 5 * time.Minute},
	} {
		if got := cfg.NextCooldown(delivery.State{Cooldown: tc.last}); got != tc.want {
			t.Errorf("NextCooldown after %s: got %s, want %s", tc.last, got, tc.want)
		}
	}
	if got := (delivery.Config{Cooldown: 10 * time.Minute, MaxCooldown: time.Minute}).NextCooldown(delivery.State{}); got != 10*time.Minute {
		t.Errorf("NextCooldown with a cap below the cooldown: got %s, want the cooldown", got)
	}

	for failures, want := range []bool{false, false, false, true, true} {
		if got := cfg.Trips(failures); got != want {
			t.Errorf("Trips(%d): got %v, want %v", failures, got, want)
		}
	}
	for attempts, want := range []bool{false, false, false, false, false, true, true} {
		if got := cfg.Spent(attempts); got != want {
			t.Errorf("Spent(%d): got %v, want %v", attempts, got, want)
		}
	}
}

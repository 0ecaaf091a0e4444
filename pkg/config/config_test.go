package config

import (
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadDefaults(t *testing.T) {
	got, err := Load(env(nil))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got.DeliveryTimeout != 15*time.Second || got.RetryBaseDelay != 5*time.Second ||
		got.RetryMaxDelay != time.Hour || got.MaxAttempts != 10 ||
		got.BreakerFailureThreshold != 10 || got.BreakerCooldown != time.Minute ||
		got.TenantClaim != "tenant_id" || got.AllowPrivateNetworks {
		t.Errorf("defaults = %+v, want CONTRACT §4 defaults", got)
	}
}

func TestLoadOverrides(t *testing.T) {
	got, err := Load(env(map[string]string{
		"HOOKSENTRY_ALLOW_PRIVATE_NETWORKS":    "true",
		"HOOKSENTRY_DELIVERY_TIMEOUT":          "250ms",
		"HOOKSENTRY_RETRY_BASE_DELAY":          "10ms",
		"HOOKSENTRY_RETRY_MAX_DELAY":           "1s",
		"HOOKSENTRY_MAX_ATTEMPTS":              "3",
		"HOOKSENTRY_BREAKER_FAILURE_THRESHOLD": "4",
		"HOOKSENTRY_BREAKER_COOLDOWN":          "2s",
		"HOOKSENTRY_TENANT_CLAIM":              "org",
	}))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if !got.AllowPrivateNetworks || got.DeliveryTimeout != 250*time.Millisecond ||
		got.RetryBaseDelay != 10*time.Millisecond || got.RetryMaxDelay != time.Second ||
		got.MaxAttempts != 3 || got.BreakerFailureThreshold != 4 ||
		got.BreakerCooldown != 2*time.Second || got.TenantClaim != "org" {
		t.Errorf("got %+v, want the overrides", got)
	}
}

func TestLoadInvalidNamesTheVariable(t *testing.T) {
	tests := []struct {
		name, value string
	}{
		{"HOOKSENTRY_DELIVERY_TIMEOUT", "15"},
		{"HOOKSENTRY_RETRY_BASE_DELAY", "soon"},
		{"HOOKSENTRY_RETRY_MAX_DELAY", "-1s"},
		{"HOOKSENTRY_MAX_ATTEMPTS", "0"},
		{"HOOKSENTRY_MAX_ATTEMPTS", "ten"},
		{"HOOKSENTRY_BREAKER_FAILURE_THRESHOLD", "1.5"},
		{"HOOKSENTRY_BREAKER_COOLDOWN", "1 minute"},
		{"HOOKSENTRY_ALLOW_PRIVATE_NETWORKS", "yes please"},
	}
	for _, tt := range tests {
		t.Run(tt.name+"="+tt.value, func(t *testing.T) {
			_, err := Load(env(map[string]string{tt.name: tt.value}))
			if err == nil {
				t.Fatalf("Load accepted %s=%q", tt.name, tt.value)
			}
			if !strings.Contains(err.Error(), tt.name) {
				t.Errorf("error %q does not name %s", err, tt.name)
			}
		})
	}
}

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
		got.TenantClaim != "tenant_id" || got.AllowPrivateNetworks || got.VerifyTolerance != 5*time.Minute ||
		got.Environment != "local" {
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
		"HOOKSENTRY_VERIFY_TOLERANCE":          "90s",
		"HOOKSENTRY_ENVIRONMENT":               " prod ",
	}))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if !got.AllowPrivateNetworks || got.DeliveryTimeout != 250*time.Millisecond ||
		got.RetryBaseDelay != 10*time.Millisecond || got.RetryMaxDelay != time.Second ||
		got.MaxAttempts != 3 || got.BreakerFailureThreshold != 4 ||
		got.BreakerCooldown != 2*time.Second || got.TenantClaim != "org" || got.VerifyTolerance != 90*time.Second ||
		got.Environment != "prod" {
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
		{"HOOKSENTRY_VERIFY_TOLERANCE", "5"},
		{"HOOKSENTRY_VERIFY_TOLERANCE", "500ms"},
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

func TestLoadDefaultsOfTheBreakerCapAndSlotWait(t *testing.T) {
	got, err := Load(env(nil))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got.MaxCooldown != time.Hour || got.MaxSlotWait != 20*time.Second {
		t.Errorf("MaxCooldown %s, MaxSlotWait %s; want 1h and 20s", got.MaxCooldown, got.MaxSlotWait)
	}
	// A first cooldown longer than the default cap raises the cap (as before
	// the cap was a setting) rather than refusing to start.
	got, err = Load(env(map[string]string{"HOOKSENTRY_BREAKER_COOLDOWN": "2h"}))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got.MaxCooldown != 2*time.Hour {
		t.Errorf("MaxCooldown %s with a 2h cooldown, want 2h", got.MaxCooldown)
	}
	got, err = Load(env(map[string]string{"HOOKSENTRY_BREAKER_MAX_COOLDOWN": "10m", "HOOKSENTRY_MAX_SLOT_WAIT": "5s"}))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got.MaxCooldown != 10*time.Minute || got.MaxSlotWait != 5*time.Second {
		t.Errorf("MaxCooldown %s, MaxSlotWait %s; want the overrides", got.MaxCooldown, got.MaxSlotWait)
	}
}

// Defect 6 of issue 7: a delivery timeout that does not fit in the deliver
// function's timeout made every event re-queue forever with no attempt and
// no log. Such combinations must stop start-up, naming the variables.
func TestLoadRefusesCombinationsThatCannotWork(t *testing.T) {
	fits := (DeliverFunctionTimeout - DeliveryMargin).String()
	tests := []struct {
		name string
		env  map[string]string
		want []string // variables the message must name
	}{
		{"delivery timeout of 10m", map[string]string{"HOOKSENTRY_DELIVERY_TIMEOUT": "10m"},
			[]string{"HOOKSENTRY_DELIVERY_TIMEOUT"}},
		{"delivery timeout equal to the function's", map[string]string{"HOOKSENTRY_DELIVERY_TIMEOUT": DeliverFunctionTimeout.String()},
			[]string{"HOOKSENTRY_DELIVERY_TIMEOUT"}},
		{"delivery timeout without the margin", map[string]string{"HOOKSENTRY_DELIVERY_TIMEOUT": (DeliverFunctionTimeout - DeliveryMargin + time.Millisecond).String(), "HOOKSENTRY_MAX_SLOT_WAIT": "0s"},
			[]string{"HOOKSENTRY_DELIVERY_TIMEOUT"}},
		{"slot wait plus delivery timeout", map[string]string{"HOOKSENTRY_DELIVERY_TIMEOUT": "30s", "HOOKSENTRY_MAX_SLOT_WAIT": "30s"},
			[]string{"HOOKSENTRY_MAX_SLOT_WAIT", "HOOKSENTRY_DELIVERY_TIMEOUT"}},
		{"max cooldown below the cooldown", map[string]string{"HOOKSENTRY_BREAKER_COOLDOWN": "10m", "HOOKSENTRY_BREAKER_MAX_COOLDOWN": "5m"},
			[]string{"HOOKSENTRY_BREAKER_MAX_COOLDOWN", "HOOKSENTRY_BREAKER_COOLDOWN"}},
		{"retry max below base", map[string]string{"HOOKSENTRY_RETRY_BASE_DELAY": "10s", "HOOKSENTRY_RETRY_MAX_DELAY": "5s"},
			[]string{"HOOKSENTRY_RETRY_MAX_DELAY", "HOOKSENTRY_RETRY_BASE_DELAY"}},
		{"threshold 0", map[string]string{"HOOKSENTRY_BREAKER_FAILURE_THRESHOLD": "0"},
			[]string{"HOOKSENTRY_BREAKER_FAILURE_THRESHOLD"}},
		{"max slot wait not a duration", map[string]string{"HOOKSENTRY_MAX_SLOT_WAIT": "a while"},
			[]string{"HOOKSENTRY_MAX_SLOT_WAIT"}},
		{"max cooldown not a duration", map[string]string{"HOOKSENTRY_BREAKER_MAX_COOLDOWN": "1 hour"},
			[]string{"HOOKSENTRY_BREAKER_MAX_COOLDOWN"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(env(tt.env))
			if err == nil {
				t.Fatalf("Load accepted %v", tt.env)
			}
			for _, name := range tt.want {
				if !strings.Contains(err.Error(), name) {
					t.Errorf("error %q does not name %s", err, name)
				}
			}
		})
	}
	// The longest delivery timeout that fits is accepted (with no slot wait
	// it leaves exactly the margin).
	if _, err := Load(env(map[string]string{"HOOKSENTRY_DELIVERY_TIMEOUT": fits, "HOOKSENTRY_MAX_SLOT_WAIT": "0s"})); err != nil {
		t.Errorf("Load refused a delivery timeout of %s: %v", fits, err)
	}
}

// Validate is what Load runs after parsing; the CDK app (infra/) runs it
// on each environment's settings too.
func TestValidateDefaults(t *testing.T) {
	if err := Defaults().Validate(); err != nil {
		t.Errorf("Defaults().Validate() = %v", err)
	}
	c := Defaults()
	c.MaxAttempts = 0
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "HOOKSENTRY_MAX_ATTEMPTS") {
		t.Errorf("Validate with MaxAttempts 0 = %v, want an error naming HOOKSENTRY_MAX_ATTEMPTS", err)
	}
}

func TestLoadConsoleSettings(t *testing.T) {
	got, err := Load(env(map[string]string{
		"HOOKSENTRY_CONSOLE_AUTHORIZE_URL": "https://auth.example.com/oauth2/authorize",
		"HOOKSENTRY_CONSOLE_TOKEN_URL":     " https://auth.example.com/oauth2/token ",
		"HOOKSENTRY_CONSOLE_CLIENT_ID":     "abc123",
		"HOOKSENTRY_CONSOLE_LOGOUT_URL":    "https://auth.example.com/logout",
	}))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got.ConsoleAuthorizeURL != "https://auth.example.com/oauth2/authorize" || got.ConsoleTokenURL != "https://auth.example.com/oauth2/token" ||
		got.ConsoleClientID != "abc123" || got.ConsoleLogoutURL != "https://auth.example.com/logout" || !got.ConsoleConfigured() {
		t.Errorf("got %+v, want the console settings", got)
	}
	if d := Defaults(); d.ConsoleConfigured() {
		t.Error("the defaults configure the console; want not configured")
	}
}

func TestLoadInvalidConsoleSettings(t *testing.T) {
	full := map[string]string{
		"HOOKSENTRY_CONSOLE_AUTHORIZE_URL": "http://127.0.0.1:8080/oauth/authorize",
		"HOOKSENTRY_CONSOLE_TOKEN_URL":     "http://127.0.0.1:8080/oauth/token",
		"HOOKSENTRY_CONSOLE_CLIENT_ID":     "hooksentry-console",
	}
	if _, err := Load(env(full)); err != nil {
		t.Fatalf("local console settings: %v", err)
	}
	tests := []struct {
		name, variable, value string
	}{
		{"relative", "HOOKSENTRY_CONSOLE_AUTHORIZE_URL", "/oauth/authorize"},
		{"scheme", "HOOKSENTRY_CONSOLE_TOKEN_URL", "javascript:alert(1)"},
		{"no host", "HOOKSENTRY_CONSOLE_TOKEN_URL", "https:///token"},
		{"user-info", "HOOKSENTRY_CONSOLE_AUTHORIZE_URL", "https://u:p@auth.example.com/a"},
		{"logout", "HOOKSENTRY_CONSOLE_LOGOUT_URL", "ftp://auth.example.com/logout"},
		{"partial", "HOOKSENTRY_CONSOLE_CLIENT_ID", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := map[string]string{}
			for k, v := range full {
				m[k] = v
			}
			m[tc.variable] = tc.value
			_, err := Load(env(m))
			if err == nil {
				t.Fatalf("%s=%q accepted", tc.variable, tc.value)
			}
			if !strings.Contains(err.Error(), tc.variable) {
				t.Errorf("error %q does not name %s", err, tc.variable)
			}
		})
	}
	if _, err := Load(env(map[string]string{"HOOKSENTRY_CONSOLE_LOGOUT_URL": "https://auth.example.com/logout"})); err == nil {
		t.Error("a logout URL without sign-in settings was accepted")
	}
}

package main

import (
	"strings"
	"testing"
	"time"

	"github.com/hooksentry/hooksentry/pkg/config"
)

// Defect 6 of issue 7: an environment whose delivery settings the deliver
// function cannot work with (its delivery timeout does not fit in the
// function's timeout) must be refused before it is deployed, naming the
// variable, just as the function refuses it at start-up.
func TestConfigValidateDeliverySettings(t *testing.T) {
	for _, name := range EnvironmentNames() {
		c, err := LookupEnv(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	good, err := LookupEnv("prod")
	if err != nil {
		t.Fatal(err)
	}
	for name, tt := range map[string]struct {
		mutate func(*EnvConfig)
		want   string
	}{
		"delivery timeout 10m":       {func(c *EnvConfig) { c.DeliveryTimeout = "10m" }, "HOOKSENTRY_DELIVERY_TIMEOUT"},
		"delivery timeout = deliver": {func(c *EnvConfig) { c.DeliveryTimeout = config.DeliverFunctionTimeout.String() }, "HOOKSENTRY_DELIVERY_TIMEOUT"},
		"delivery timeout garbage":   {func(c *EnvConfig) { c.DeliveryTimeout = "15" }, "HOOKSENTRY_DELIVERY_TIMEOUT"},
		"retry max below base":       {func(c *EnvConfig) { c.RetryBaseDelay, c.RetryMaxDelay = "1m", "10s" }, "HOOKSENTRY_RETRY_MAX_DELAY"},
		"no attempts":                {func(c *EnvConfig) { c.MaxAttempts = 0 }, "HOOKSENTRY_MAX_ATTEMPTS"},
		"threshold 0":                {func(c *EnvConfig) { c.BreakerFailureThreshold = 0 }, "HOOKSENTRY_BREAKER_FAILURE_THRESHOLD"},
	} {
		c := good
		c.JwtAudience = append([]string(nil), good.JwtAudience...)
		tt.mutate(&c)
		err := c.Validate()
		if err == nil {
			t.Errorf("%s: Validate accepted it", name)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %q does not name %s", name, err, tt.want)
		}
	}
}

// The CDK app's deliver timeout is config.DeliverFunctionTimeout (template.yaml
// is compared with the CDK app by parity_test.go, and with the constant by
// pkg/config's tests).
func TestDeliverTimeoutIsTheFunctionsConstant(t *testing.T) {
	if got, want := time.Duration(deliverTimeoutSeconds)*time.Second, config.DeliverFunctionTimeout; got != want {
		t.Errorf("deliverTimeoutSeconds = %d, want config.DeliverFunctionTimeout %s", deliverTimeoutSeconds, want)
	}
	for _, f := range functionSpecs {
		if f.ID == "DeliverFunction" && f.TimeoutSeconds != deliverTimeoutSeconds {
			t.Errorf("DeliverFunction TimeoutSeconds = %d, want %d", f.TimeoutSeconds, deliverTimeoutSeconds)
		}
	}
}

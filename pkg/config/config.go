// Package config owns HookSentry's runtime settings: every HOOKSENTRY_*
// environment variable, its default, and its validation. Functions and the
// local stack read their settings only through Load so that one invalid value
// stops start-up with a message naming the variable.
package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Config is the complete set of settings. Zero values are never used: Load
// fills every field with its documented default.
type Config struct {
	TableName string // HOOKSENTRY_TABLE_NAME
	KMSKeyID  string // HOOKSENTRY_KMS_KEY_ID
	QueueURL  string // HOOKSENTRY_QUEUE_URL
	DLQURL    string // HOOKSENTRY_DLQ_URL

	TenantClaim          string // HOOKSENTRY_TENANT_CLAIM
	AllowPrivateNetworks bool   // HOOKSENTRY_ALLOW_PRIVATE_NETWORKS
	ExtraCAFile          string // HOOKSENTRY_EXTRA_CA_FILE

	DeliveryTimeout         time.Duration // HOOKSENTRY_DELIVERY_TIMEOUT
	RetryBaseDelay          time.Duration // HOOKSENTRY_RETRY_BASE_DELAY
	RetryMaxDelay           time.Duration // HOOKSENTRY_RETRY_MAX_DELAY
	MaxAttempts             int           // HOOKSENTRY_MAX_ATTEMPTS
	BreakerFailureThreshold int           // HOOKSENTRY_BREAKER_FAILURE_THRESHOLD
	BreakerCooldown         time.Duration // HOOKSENTRY_BREAKER_COOLDOWN
	EventRetention          time.Duration // HOOKSENTRY_EVENT_RETENTION
}

// Defaults are the documented defaults of CONTRACT §4.
func Defaults() Config {
	return Config{
		TableName:               "hooksentry",
		TenantClaim:             "tenant_id",
		DeliveryTimeout:         15 * time.Second,
		RetryBaseDelay:          5 * time.Second,
		RetryMaxDelay:           time.Hour,
		MaxAttempts:             10,
		BreakerFailureThreshold: 10,
		BreakerCooldown:         60 * time.Second,
		EventRetention:          168 * time.Hour,
	}
}

// Load reads the settings through getenv (os.Getenv in production, a map in
// tests). Unset or empty variables keep their defaults.
func Load(getenv func(string) string) (Config, error) {
	c := Defaults()
	var errs []error
	str := func(name string, dst *string) {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			*dst = v
		}
	}
	dur := func(name string, dst *time.Duration, min time.Duration) {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			return
		}
		d, err := time.ParseDuration(v)
		if err != nil || d < min {
			errs = append(errs, fmt.Errorf("%s: %q is not a duration of at least %s (Go syntax, e.g. 250ms, 5s)", name, v, min))
			return
		}
		*dst = d
	}
	num := func(name string, dst *int, min, max int) {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			return
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < min || n > max {
			errs = append(errs, fmt.Errorf("%s: %q is not an integer from %d to %d", name, v, min, max))
			return
		}
		*dst = n
	}
	boolean := func(name string, dst *bool) {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			return
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %q is not a boolean (true or false)", name, v))
			return
		}
		*dst = b
	}

	str("HOOKSENTRY_TABLE_NAME", &c.TableName)
	str("HOOKSENTRY_KMS_KEY_ID", &c.KMSKeyID)
	str("HOOKSENTRY_QUEUE_URL", &c.QueueURL)
	str("HOOKSENTRY_DLQ_URL", &c.DLQURL)
	str("HOOKSENTRY_TENANT_CLAIM", &c.TenantClaim)
	boolean("HOOKSENTRY_ALLOW_PRIVATE_NETWORKS", &c.AllowPrivateNetworks)
	str("HOOKSENTRY_EXTRA_CA_FILE", &c.ExtraCAFile)
	dur("HOOKSENTRY_DELIVERY_TIMEOUT", &c.DeliveryTimeout, time.Millisecond)
	dur("HOOKSENTRY_RETRY_BASE_DELAY", &c.RetryBaseDelay, 0)
	dur("HOOKSENTRY_RETRY_MAX_DELAY", &c.RetryMaxDelay, 0)
	num("HOOKSENTRY_MAX_ATTEMPTS", &c.MaxAttempts, 1, 1000)
	num("HOOKSENTRY_BREAKER_FAILURE_THRESHOLD", &c.BreakerFailureThreshold, 1, 100000)
	dur("HOOKSENTRY_BREAKER_COOLDOWN", &c.BreakerCooldown, 0)
	dur("HOOKSENTRY_EVENT_RETENTION", &c.EventRetention, time.Hour)

	if c.RetryMaxDelay < c.RetryBaseDelay {
		errs = append(errs, fmt.Errorf("HOOKSENTRY_RETRY_MAX_DELAY: %s is shorter than HOOKSENTRY_RETRY_BASE_DELAY %s", c.RetryMaxDelay, c.RetryBaseDelay))
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, fmt.Errorf("invalid settings: %w", err)
	}
	return c, nil
}

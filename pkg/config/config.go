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
	VerifyTolerance         time.Duration // HOOKSENTRY_VERIFY_TOLERANCE
	LogAttempts             bool          // HOOKSENTRY_LOG_ATTEMPTS
	MaxCooldown             time.Duration // HOOKSENTRY_BREAKER_MAX_COOLDOWN
	MaxSlotWait             time.Duration // HOOKSENTRY_MAX_SLOT_WAIT

	// The web console's sign-in (CONTRACT §7): the OAuth 2.0 authorization
	// and token endpoints of the identity provider, the console's client id
	// there, and an optional logout URL. All empty means the console is not
	// configured; its config.json says so.
	ConsoleAuthorizeURL string // HOOKSENTRY_CONSOLE_AUTHORIZE_URL
	ConsoleTokenURL     string // HOOKSENTRY_CONSOLE_TOKEN_URL
	ConsoleClientID     string // HOOKSENTRY_CONSOLE_CLIENT_ID
	ConsoleLogoutURL    string // HOOKSENTRY_CONSOLE_LOGOUT_URL

	// Environment is the value of the metrics' Environment dimension
	// (pkg/metrics): the stack's environment name, set by both templates.
	Environment string // HOOKSENTRY_ENVIRONMENT
}

// DeliverFunctionTimeout is the deliver function's Lambda timeout: the one
// definition behind template.yaml's DeliverFunction Timeout (a test checks
// it), the CDK app (infra/functions.go) and the local event source mapping.
const DeliverFunctionTimeout = 60 * time.Second

// DeliveryMargin is what one invocation of the deliver function needs
// besides the attempts themselves, and so the least time the function's
// timeout must leave beyond HOOKSENTRY_DELIVERY_TIMEOUT (and beyond
// HOOKSENTRY_MAX_SLOT_WAIT plus the delivery timeout). pkg/delivery's worker
// starts an attempt only if it ends 500 ms before the invocation deadline,
// stops waiting for a slot the delivery timeout plus 2 s before it, and
// leases one second per round besides the timeout plus 2 s; the rest covers
// loading the batch and settling it (DynamoDB and SQS writes) after the
// last attempt. A delivery timeout without this margin never leaves room for
// an attempt: every event went back on the queue with 0 attempts.
const DeliveryMargin = 5 * time.Second

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
		VerifyTolerance:         5 * time.Minute,
		MaxCooldown:             time.Hour,
		MaxSlotWait:             20 * time.Second,
		Environment:             "local",
	}
}

// Load reads the settings through getenv (os.Getenv in production, a map in
// tests) and validates them together (Validate). Unset or empty variables
// keep their defaults; without HOOKSENTRY_BREAKER_MAX_COOLDOWN the cap is the
// larger of its default and HOOKSENTRY_BREAKER_COOLDOWN.
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
	str("HOOKSENTRY_ENVIRONMENT", &c.Environment)
	boolean("HOOKSENTRY_ALLOW_PRIVATE_NETWORKS", &c.AllowPrivateNetworks)
	boolean("HOOKSENTRY_LOG_ATTEMPTS", &c.LogAttempts)
	str("HOOKSENTRY_EXTRA_CA_FILE", &c.ExtraCAFile)
	dur("HOOKSENTRY_DELIVERY_TIMEOUT", &c.DeliveryTimeout, time.Millisecond)
	dur("HOOKSENTRY_RETRY_BASE_DELAY", &c.RetryBaseDelay, 0)
	dur("HOOKSENTRY_RETRY_MAX_DELAY", &c.RetryMaxDelay, 0)
	num("HOOKSENTRY_MAX_ATTEMPTS", &c.MaxAttempts, 1, 1000)
	num("HOOKSENTRY_BREAKER_FAILURE_THRESHOLD", &c.BreakerFailureThreshold, 1, 100000)
	dur("HOOKSENTRY_BREAKER_COOLDOWN", &c.BreakerCooldown, 0)
	dur("HOOKSENTRY_EVENT_RETENTION", &c.EventRetention, time.Second)
	dur("HOOKSENTRY_VERIFY_TOLERANCE", &c.VerifyTolerance, time.Second)
	if strings.TrimSpace(getenv("HOOKSENTRY_BREAKER_MAX_COOLDOWN")) == "" {
		c.MaxCooldown = max(c.MaxCooldown, c.BreakerCooldown)
	}
	dur("HOOKSENTRY_BREAKER_MAX_COOLDOWN", &c.MaxCooldown, 0)
	dur("HOOKSENTRY_MAX_SLOT_WAIT", &c.MaxSlotWait, 0)
	str("HOOKSENTRY_CONSOLE_AUTHORIZE_URL", &c.ConsoleAuthorizeURL)
	str("HOOKSENTRY_CONSOLE_TOKEN_URL", &c.ConsoleTokenURL)
	str("HOOKSENTRY_CONSOLE_CLIENT_ID", &c.ConsoleClientID)
	str("HOOKSENTRY_CONSOLE_LOGOUT_URL", &c.ConsoleLogoutURL)

	if len(errs) == 0 {
		if err := c.validate(); err != nil {
			errs = append(errs, err...)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, fmt.Errorf("invalid settings: %w", err)
	}
	return c, nil
}

// Validate reports every setting that is out of range or that cannot work
// with the others, each message naming the variables. Load calls it; the
// CDK app (infra/config.go) calls it on each environment's settings.
func (c Config) Validate() error {
	if errs := c.validate(); len(errs) > 0 {
		return fmt.Errorf("invalid settings: %w", errors.Join(errs...))
	}
	return nil
}

func (c Config) validate() []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.DeliveryTimeout <= 0 {
		bad("HOOKSENTRY_DELIVERY_TIMEOUT: %s is not positive", c.DeliveryTimeout)
	} else if c.DeliveryTimeout+DeliveryMargin > DeliverFunctionTimeout {
		bad("HOOKSENTRY_DELIVERY_TIMEOUT: %s does not fit in the deliver function's timeout of %s (at most %s: the worker needs %s besides one attempt)",
			c.DeliveryTimeout, DeliverFunctionTimeout, DeliverFunctionTimeout-DeliveryMargin, DeliveryMargin)
	}
	if c.MaxSlotWait < 0 {
		bad("HOOKSENTRY_MAX_SLOT_WAIT: %s is negative", c.MaxSlotWait)
	} else if c.MaxSlotWait+c.DeliveryTimeout+DeliveryMargin > DeliverFunctionTimeout {
		bad("HOOKSENTRY_MAX_SLOT_WAIT: %s plus HOOKSENTRY_DELIVERY_TIMEOUT %s does not fit in the deliver function's timeout of %s (together at most %s)",
			c.MaxSlotWait, c.DeliveryTimeout, DeliverFunctionTimeout, DeliverFunctionTimeout-DeliveryMargin)
	}
	if c.RetryBaseDelay < 0 {
		bad("HOOKSENTRY_RETRY_BASE_DELAY: %s is negative", c.RetryBaseDelay)
	}
	if c.RetryMaxDelay < c.RetryBaseDelay {
		bad("HOOKSENTRY_RETRY_MAX_DELAY: %s is shorter than HOOKSENTRY_RETRY_BASE_DELAY %s", c.RetryMaxDelay, c.RetryBaseDelay)
	}
	if c.MaxAttempts < 1 {
		bad("HOOKSENTRY_MAX_ATTEMPTS: %d is less than 1", c.MaxAttempts)
	}
	if c.BreakerFailureThreshold < 1 {
		bad("HOOKSENTRY_BREAKER_FAILURE_THRESHOLD: %d is less than 1", c.BreakerFailureThreshold)
	}
	if c.BreakerCooldown < 0 {
		bad("HOOKSENTRY_BREAKER_COOLDOWN: %s is negative", c.BreakerCooldown)
	}
	if c.MaxCooldown < c.BreakerCooldown {
		bad("HOOKSENTRY_BREAKER_MAX_COOLDOWN: %s is shorter than HOOKSENTRY_BREAKER_COOLDOWN %s", c.MaxCooldown, c.BreakerCooldown)
	}
	errs = append(errs, c.validateConsole()...)
	return errs
}

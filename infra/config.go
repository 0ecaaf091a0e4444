package main

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"

	"github.com/hooksentry/hooksentry/pkg/config"
)

// EnvConfig holds everything that differs between the deployment environments.
// It is the one place to change per-environment settings: edit the values in
// environments below (or override the JWT settings with -c jwtIssuer=... and
// -c jwtAudience=... at synth/deploy time, see docs/DEPLOY.md).
type EnvConfig struct {
	// Name is the environment name: dev, staging or prod. It names the stack
	// (HookSentry-<Name>) and the KMS alias (alias/hooksentry-<Name>).
	Name string

	// LogRetention applies to every function's log group and the API access log.
	LogRetention awslogs.RetentionDays
	// LogRetentionDays is LogRetention in days (what the template shows).
	LogRetentionDays int

	// RemovalPolicy applies to the stateful resources: table, KMS key, queues,
	// log groups. DESTROY only where losing the data is acceptable.
	RemovalPolicy awscdk.RemovalPolicy
	// TableDeletionProtection turns on DynamoDB deletion protection.
	TableDeletionProtection bool
	// TerminationProtection protects the CloudFormation stack from deletion.
	TerminationProtection bool

	// AlarmsEnabled creates the CloudWatch alarms (DLQ depth, failure rate, function errors).
	AlarmsEnabled bool
	// AlarmTopicArn, if set, receives the alarm notifications (an SNS topic ARN).
	AlarmTopicArn string

	// DeliverMaxConcurrency caps the concurrent deliver invocations started by the
	// SQS event source mapping (ScalingConfig.MaximumConcurrency, 2..1000).
	DeliverMaxConcurrency int

	// JwtIssuer and JwtAudience configure the HTTP API JWT authorizer on /api/v1/*.
	// JwtAudience entries must be app client ids of the issuer.
	JwtIssuer   string
	JwtAudience []string
	// TenantClaim is the JWT claim that names the tenant (HOOKSENTRY_TENANT_CLAIM).
	TenantClaim string

	// The web console's sign-in (HOOKSENTRY_CONSOLE_*, CONTRACT §7): the
	// identity provider's authorization and token endpoints, the console's
	// public app client id (also one of JwtAudience), and an optional logout
	// URL. All empty: the console says it is not configured.
	ConsoleAuthorizeURL string
	ConsoleTokenURL     string
	ConsoleClientID     string
	ConsoleLogoutURL    string

	// Delivery tuning for the deliver and sweeper functions (Go durations / integers,
	// see the contract's settings table).
	DeliveryTimeout         string
	RetryBaseDelay          string
	RetryMaxDelay           string
	MaxAttempts             int
	BreakerFailureThreshold int
	BreakerCooldown         string
}

// StackName is the CloudFormation stack name and the CDK stack id.
func (c EnvConfig) StackName() string { return "HookSentry-" + c.Name }

// KeyAlias is the alias of the credential envelope key.
func (c EnvConfig) KeyAlias() string { return "alias/hooksentry-" + c.Name }

// Validate reports a setting that AWS would refuse or that breaks the contract.
func (c EnvConfig) Validate() error {
	var problems []string
	if c.Name == "" {
		problems = append(problems, "Name is empty")
	}
	if c.DeliverMaxConcurrency < 2 || c.DeliverMaxConcurrency > 1000 {
		problems = append(problems, fmt.Sprintf("DeliverMaxConcurrency %d is outside 2..1000", c.DeliverMaxConcurrency))
	}
	if !strings.HasPrefix(c.JwtIssuer, "https://") {
		problems = append(problems, fmt.Sprintf("JwtIssuer %q is not an https URL", c.JwtIssuer))
	}
	if len(c.JwtAudience) == 0 {
		problems = append(problems, "JwtAudience is empty")
	}
	for _, a := range c.JwtAudience {
		if strings.TrimSpace(a) == "" {
			problems = append(problems, "JwtAudience has an empty entry")
		}
	}
	if c.TenantClaim == "" {
		problems = append(problems, "TenantClaim is empty")
	}
	if c.LogRetention == "" || c.LogRetentionDays <= 0 {
		problems = append(problems, "LogRetention is not set")
	}
	// The delivery settings go through the functions' own validation
	// (pkg/config), so an environment that the deliver function would refuse
	// at start-up, such as a delivery timeout that does not fit in its
	// timeout, is refused here, before it is deployed.
	if _, err := config.Load(c.functionSettings().get); err != nil {
		problems = append(problems, strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	if len(problems) > 0 {
		return fmt.Errorf("environment %q: %s", c.Name, strings.Join(problems, "; "))
	}
	return nil
}

// settings are environment variables of the functions, by name.
type settings map[string]string

func (s settings) get(name string) string { return s[name] }

// functionSettings are the HOOKSENTRY_* values the stack sets from c.
func (c EnvConfig) functionSettings() settings {
	return settings{
		envTenantClaim:             c.TenantClaim,
		envDeliveryTimeout:         c.DeliveryTimeout,
		envRetryBaseDelay:          c.RetryBaseDelay,
		envRetryMaxDelay:           c.RetryMaxDelay,
		envMaxAttempts:             strconv.Itoa(c.MaxAttempts),
		envBreakerFailureThreshold: strconv.Itoa(c.BreakerFailureThreshold),
		envBreakerCooldown:         c.BreakerCooldown,
		envConsoleAuthorizeURL:     c.ConsoleAuthorizeURL,
		envConsoleTokenURL:         c.ConsoleTokenURL,
		envConsoleClientID:         c.ConsoleClientID,
		envConsoleLogoutURL:        c.ConsoleLogoutURL,
	}
}

// Delivery defaults from the contract (section 4), shared by every environment.
const (
	defaultDeliveryTimeout         = "15s"
	defaultRetryBaseDelay          = "5s"
	defaultRetryMaxDelay           = "1h"
	defaultMaxAttempts             = 10
	defaultBreakerFailureThreshold = 10
	defaultBreakerCooldown         = "60s"
	defaultTenantClaim             = "tenant_id"
)

// environments is the per-environment configuration. The JWT values are
// placeholders: set them to your identity provider (for Cognito:
// https://cognito-idp.<region>.amazonaws.com/<user-pool-id> and the app client id).
var environments = map[string]EnvConfig{
	"dev": {
		Name:                    "dev",
		LogRetention:            awslogs.RetentionDays_ONE_WEEK,
		LogRetentionDays:        7,
		RemovalPolicy:           awscdk.RemovalPolicy_DESTROY,
		TableDeletionProtection: false,
		AlarmsEnabled:           false,
		DeliverMaxConcurrency:   2,
		JwtIssuer:               "https://auth.dev.hooksentry.example.com/",
		JwtAudience:             []string{"hooksentry-dev"},
		TenantClaim:             defaultTenantClaim,
		DeliveryTimeout:         defaultDeliveryTimeout,
		RetryBaseDelay:          defaultRetryBaseDelay,
		RetryMaxDelay:           defaultRetryMaxDelay,
		MaxAttempts:             defaultMaxAttempts,
		BreakerFailureThreshold: defaultBreakerFailureThreshold,
		BreakerCooldown:         defaultBreakerCooldown,
	},
	"staging": {
		Name:                    "staging",
		LogRetention:            awslogs.RetentionDays_ONE_MONTH,
		LogRetentionDays:        30,
		RemovalPolicy:           awscdk.RemovalPolicy_RETAIN,
		TableDeletionProtection: false,
		AlarmsEnabled:           true,
		DeliverMaxConcurrency:   5,
		JwtIssuer:               "https://auth.staging.hooksentry.example.com/",
		JwtAudience:             []string{"hooksentry-staging"},
		TenantClaim:             defaultTenantClaim,
		DeliveryTimeout:         defaultDeliveryTimeout,
		RetryBaseDelay:          defaultRetryBaseDelay,
		RetryMaxDelay:           defaultRetryMaxDelay,
		MaxAttempts:             defaultMaxAttempts,
		BreakerFailureThreshold: defaultBreakerFailureThreshold,
		BreakerCooldown:         defaultBreakerCooldown,
	},
	"prod": {
		Name:                    "prod",
		LogRetention:            awslogs.RetentionDays_THREE_MONTHS,
		LogRetentionDays:        90,
		RemovalPolicy:           awscdk.RemovalPolicy_RETAIN,
		TableDeletionProtection: true,
		TerminationProtection:   true,
		AlarmsEnabled:           true,
		DeliverMaxConcurrency:   10,
		JwtIssuer:               "https://auth.hooksentry.example.com/",
		JwtAudience:             []string{"hooksentry"},
		TenantClaim:             defaultTenantClaim,
		DeliveryTimeout:         defaultDeliveryTimeout,
		RetryBaseDelay:          defaultRetryBaseDelay,
		RetryMaxDelay:           defaultRetryMaxDelay,
		MaxAttempts:             defaultMaxAttempts,
		BreakerFailureThreshold: defaultBreakerFailureThreshold,
		BreakerCooldown:         defaultBreakerCooldown,
	},
}

// EnvironmentNames lists the known environments, sorted.
func EnvironmentNames() []string {
	names := make([]string, 0, len(environments))
	for n := range environments {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// LookupEnv returns the configuration of the named environment.
func LookupEnv(name string) (EnvConfig, error) {
	c, ok := environments[name]
	if !ok {
		return EnvConfig{}, fmt.Errorf("unknown environment %q (want one of %s)", name, strings.Join(EnvironmentNames(), ", "))
	}
	c.JwtAudience = append([]string(nil), c.JwtAudience...)
	return c, nil
}

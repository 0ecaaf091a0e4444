package main

import (
	"time"

	"github.com/hooksentry/hooksentry/pkg/config"
	"github.com/hooksentry/hooksentry/pkg/kmscontext"
)

// The Lambda functions of HookSentry, their triggers, environment variable names and
// IAM permissions, in one table. The stack (stack.go) is built from it; template.yaml
// (SAM) declares the same thing by hand and parity_test.go compares the two.

// Environment variable names read by the functions (see the contract, section 4).
const (
	envTableName               = "HOOKSENTRY_TABLE_NAME"
	envKMSKeyID                = "HOOKSENTRY_KMS_KEY_ID"
	envQueueURL                = "HOOKSENTRY_QUEUE_URL"
	envDLQURL                  = "HOOKSENTRY_DLQ_URL"
	envTenantClaim             = "HOOKSENTRY_TENANT_CLAIM"
	envAllowPrivateNetworks    = "HOOKSENTRY_ALLOW_PRIVATE_NETWORKS"
	envDeliveryTimeout         = "HOOKSENTRY_DELIVERY_TIMEOUT"
	envRetryBaseDelay          = "HOOKSENTRY_RETRY_BASE_DELAY"
	envRetryMaxDelay           = "HOOKSENTRY_RETRY_MAX_DELAY"
	envMaxAttempts             = "HOOKSENTRY_MAX_ATTEMPTS"
	envBreakerFailureThreshold = "HOOKSENTRY_BREAKER_FAILURE_THRESHOLD"
	envBreakerCooldown         = "HOOKSENTRY_BREAKER_COOLDOWN"
	// The metrics' Environment dimension: only the functions that write
	// metrics (pkg/metrics) read it.
	envEnvironment = "HOOKSENTRY_ENVIRONMENT"
	// The web console's sign-in (CONTRACT §7): only the console reads them.
	envConsoleAuthorizeURL = "HOOKSENTRY_CONSOLE_AUTHORIZE_URL"
	envConsoleTokenURL     = "HOOKSENTRY_CONSOLE_TOKEN_URL"
	envConsoleClientID     = "HOOKSENTRY_CONSOLE_CLIENT_ID"
	envConsoleLogoutURL    = "HOOKSENTRY_CONSOLE_LOGOUT_URL"
)

// managementEnv is what every /api/v1 function reads.
var managementEnv = []string{envTableName, envKMSKeyID, envQueueURL, envTenantClaim, envAllowPrivateNetworks}

// resource names an ARN that a policy statement grants on.
type resource int

const (
	resTable          resource = iota // the table itself
	resTableIndexGSI1                 // <table>/index/gsi1 (a tenant's destinations)
	resTableIndexGSI2                 // <table>/index/gsi2 (held and due work, for the sweeper)
	resKey                            // the KMS key
	resDeliveryQueue                  // the delivery queue
	resDeadLetter                     // the dead-letter queue
)

// permission is one IAM statement: Allow Actions on Resources. KMS statements
// also carry the encryption-context condition (kmsContextConditions).
type permission struct {
	Actions   []string
	Resources []resource
	// LeadingKeys, if set, are the only partition keys (IAM StringLike
	// patterns) of the table that the actions may touch
	// (leadingKeysConditions).
	LeadingKeys []string
	// Purposes are the encryption-context purposes (pkg/kmscontext) a use
	// of the key is allowed with; a statement on the key needs at least one
	// (keyUse).
	Purposes []string
}

// route is one HTTP API route. Public routes have no authorizer; every other
// route uses the JWT authorizer.
type route struct {
	Method string
	Path   string
	Public bool
}

// functionSpec describes one Lambda function built from functions/<Dir>/main.go
// into build/<Dir>/bootstrap.
type functionSpec struct {
	Dir            string // directory name under functions/ and build/
	ID             string // construct id in CDK == logical id in template.yaml
	MemoryMB       int
	TimeoutSeconds int
	Env            []string // environment variable names, exactly
	Routes         []route
	SQSTrigger     bool   // consumes the delivery queue through an event source mapping
	Schedule       string // EventBridge schedule expression, if any
	Permissions    []permission
}

const (
	httpTimeoutSeconds = 10
	// The deliver function's timeout is the one the functions' settings are
	// validated against (config.DeliverFunctionTimeout); template.yaml
	// repeats it, and parity_test.go compares the two.
	deliverTimeoutSeconds = int(config.DeliverFunctionTimeout / time.Second)
	sweeperTimeoutSeconds = 60
	// replay-events replays up to 1,000 events per call (CONTRACT §5).
	replayEventsTimeoutSeconds = 30
	// The delivery queue's visibility timeout is six times the consumer's
	// timeout, as AWS recommends for SQS event sources.
	deliveryQueueVisibilitySeconds = 6 * deliverTimeoutSeconds
	deliveryQueueMaxReceiveCount   = 5
	deadLetterRetentionDays        = 14
	sweeperSchedule                = "rate(1 minute)"
)

// The encryption context that every KMS call of HookSentry carries
// (pkg/kmscontext, set by pkg/destination.EncryptionContext and its
// siblings, one per purpose): the key policy and the roles refuse
// GenerateDataKey and Decrypt unless both identifying keys are present (the
// envelope binds a secret to its tenant and destination), the purpose is
// allowed, and no other key is set. The key policy allows every purpose of
// HookSentry (kmsContextPurposes, the outer bound); each role only the
// purposes of what it seals or opens (permission.Purposes).
var (
	kmsContextRequiredKeys = kmscontext.Identifying()
	kmsContextAllowedKeys  = kmscontext.Keys()
	kmsContextPurposes     = kmscontext.Purposes()
)

// The purposes of the sealed values (pkg/kmscontext).
const (
	credentialsPurpose  = kmscontext.PurposeDestinationCredentials
	signingPurpose      = kmscontext.PurposeSigningSecret
	verificationPurpose = kmscontext.PurposeVerificationSecret
)

// Partition keys of the items the ingest function touches (pkg/store keys.go):
// it reads token items (IngestTokenKey) and destination items (the
// destination's verification settings), claims deduplication keys
// (DEDUP#<destinationId>#<hash>) and stores events whose body is too large
// for a queue message (EventKey).
const (
	ingestTokenPartitions = "TOKEN#*"
	destinationPartitions = "DEST#*"
	dedupPartitions       = "DEDUP#*"
	storedEventPartitions = "EVENT#*"
)

func ddb(actions ...string) []string { return prefixed("dynamodb:", actions) }
func sqs(actions ...string) []string { return prefixed("sqs:", actions) }
func kms(actions ...string) []string { return prefixed("kms:", actions) }

// keyUse is a use of the key (kms:<action>), allowed only with an
// encryption context of one of purposes.
func keyUse(actions []string, purposes ...string) permission {
	return permission{Actions: kms(actions...), Resources: []resource{resKey}, Purposes: purposes}
}

func prefixed(prefix string, actions []string) []string {
	out := make([]string, len(actions))
	for i, a := range actions {
		out[i] = prefix + a
	}
	return out
}

// The permissions of the events API functions (CONTRACT §5): reads need
// GetItem and Query on the table; replays also mark records Pending again
// (UpdateItem), store bodies too large for a message (PutItem) and publish on
// the delivery queue.
var (
	eventsReadPermissions = []permission{
		{Actions: ddb("GetItem", "Query"), Resources: []resource{resTable}},
	}
	// Stats read the hourly count items with BatchGetItem.
	eventStatsPermissions = []permission{
		{Actions: ddb("GetItem", "Query", "BatchGetItem"), Resources: []resource{resTable}},
	}
	eventsReplayPermissions = []permission{
		{Actions: ddb("GetItem", "Query", "UpdateItem", "PutItem"), Resources: []resource{resTable}},
		// sqs:SendMessage also grants SendMessageBatch: IAM has no action of
		// that name (cfn-lint W3037), as for every SQS batch API.
		{Actions: sqs("SendMessage"), Resources: []resource{resDeliveryQueue}},
	}
)

// functionSpecs is the list of functions, in the order of template.yaml.
var functionSpecs = []functionSpec{
	{
		Dir: "create-destination", ID: "CreateDestinationFunction",
		MemoryMB: 128, TimeoutSeconds: httpTimeoutSeconds, Env: managementEnv,
		Routes: []route{{Method: "POST", Path: "/api/v1/destinations"}},
		Permissions: []permission{
			{Actions: ddb("GetItem", "PutItem", "DeleteItem"), Resources: []resource{resTable}},
			// A new destination's credentials, signing secret and
			// verification secret are sealed.
			keyUse([]string{"GenerateDataKey"}, credentialsPurpose, signingPurpose, verificationPurpose),
		},
	},
	{
		Dir: "list-destinations", ID: "ListDestinationsFunction",
		MemoryMB: 128, TimeoutSeconds: httpTimeoutSeconds, Env: managementEnv,
		Routes: []route{{Method: "GET", Path: "/api/v1/destinations"}},
		Permissions: []permission{
			{Actions: ddb("GetItem"), Resources: []resource{resTable}},
			{Actions: ddb("Query"), Resources: []resource{resTableIndexGSI1}},
		},
	},
	{
		Dir: "get-destination", ID: "GetDestinationFunction",
		MemoryMB: 128, TimeoutSeconds: httpTimeoutSeconds, Env: managementEnv,
		Routes: []route{{Method: "GET", Path: "/api/v1/destinations/{id}"}},
		Permissions: []permission{
			{Actions: ddb("GetItem"), Resources: []resource{resTable}},
		},
	},
	{
		Dir: "update-destination", ID: "UpdateDestinationFunction",
		MemoryMB: 128, TimeoutSeconds: httpTimeoutSeconds, Env: managementEnv,
		Routes: []route{{Method: "PATCH", Path: "/api/v1/destinations/{id}"}},
		Permissions: []permission{
			{Actions: ddb("GetItem", "PutItem", "UpdateItem"), Resources: []resource{resTable}},
			// A patch seals new credentials or a new verification secret;
			// the signing secret changes only by rotation.
			keyUse([]string{"GenerateDataKey"}, credentialsPurpose, verificationPurpose),
			{Actions: sqs("SendMessage"), Resources: []resource{resDeliveryQueue}},
		},
	},
	{
		Dir: "delete-destination", ID: "DeleteDestinationFunction",
		MemoryMB: 128, TimeoutSeconds: httpTimeoutSeconds, Env: managementEnv,
		Routes: []route{{Method: "DELETE", Path: "/api/v1/destinations/{id}"}},
		Permissions: []permission{
			{Actions: ddb("GetItem", "DeleteItem"), Resources: []resource{resTable}},
		},
	},
	{
		Dir: "regenerate-ingest-token", ID: "RegenerateIngestTokenFunction",
		MemoryMB: 128, TimeoutSeconds: httpTimeoutSeconds, Env: managementEnv,
		Routes: []route{{Method: "POST", Path: "/api/v1/destinations/{id}/ingest-token"}},
		Permissions: []permission{
			{Actions: ddb("GetItem", "PutItem", "DeleteItem", "UpdateItem"), Resources: []resource{resTable}},
		},
	},
	{
		// The new secret is sealed (GenerateDataKey); the previous one is
		// moved as ciphertext in one conditional UpdateItem.
		Dir: "rotate-signing-secret", ID: "RotateSigningSecretFunction",
		MemoryMB: 128, TimeoutSeconds: httpTimeoutSeconds, Env: managementEnv,
		Routes: []route{{Method: "POST", Path: "/api/v1/destinations/{id}/signing-secret"}},
		Permissions: []permission{
			{Actions: ddb("GetItem", "UpdateItem"), Resources: []resource{resTable}},
			keyUse([]string{"GenerateDataKey"}, signingPurpose),
		},
	},
	// The events API (CONTRACT §5).
	{
		Dir: "list-events", ID: "ListEventsFunction",
		MemoryMB: 128, TimeoutSeconds: httpTimeoutSeconds, Env: managementEnv,
		Routes:      []route{{Method: "GET", Path: "/api/v1/destinations/{id}/events"}},
		Permissions: eventsReadPermissions,
	},
	{
		Dir: "get-event", ID: "GetEventFunction",
		MemoryMB: 128, TimeoutSeconds: httpTimeoutSeconds, Env: managementEnv,
		Routes:      []route{{Method: "GET", Path: "/api/v1/events/{eventId}"}},
		Permissions: eventsReadPermissions,
	},
	{
		Dir: "replay-event", ID: "ReplayEventFunction",
		MemoryMB: 128, TimeoutSeconds: httpTimeoutSeconds, Env: managementEnv,
		Routes:      []route{{Method: "POST", Path: "/api/v1/events/{eventId}/replay"}},
		Permissions: eventsReplayPermissions,
	},
	{
		Dir: "replay-events", ID: "ReplayEventsFunction",
		MemoryMB: 128, TimeoutSeconds: replayEventsTimeoutSeconds, Env: managementEnv,
		Routes:      []route{{Method: "POST", Path: "/api/v1/destinations/{id}/events/replay"}},
		Permissions: eventsReplayPermissions,
	},
	{
		Dir: "event-stats", ID: "EventStatsFunction",
		MemoryMB: 128, TimeoutSeconds: httpTimeoutSeconds, Env: managementEnv,
		Routes:      []route{{Method: "GET", Path: "/api/v1/destinations/{id}/events/stats"}},
		Permissions: eventStatsPermissions,
	},
	{
		Dir: "ingest", ID: "IngestFunction",
		MemoryMB: 128, TimeoutSeconds: httpTimeoutSeconds,
		// The key id: pkg/envelope names it in every Decrypt.
		Env:    []string{envTableName, envKMSKeyID, envQueueURL, envEnvironment},
		Routes: []route{{Method: "POST", Path: "/ingest/{token}", Public: true}},
		// The public function: its table access is bounded by partition,
		// so a flaw in it cannot overwrite destinations, or read or
		// overwrite tenants or delivery state. It reads destination items,
		// which hold sealed credentials and signing secrets too: its key
		// use is pinned to the verification secret's purpose, so it cannot
		// open those.
		Permissions: []permission{
			{Actions: ddb("GetItem"), Resources: []resource{resTable}, LeadingKeys: []string{ingestTokenPartitions, destinationPartitions}},
			{Actions: ddb("PutItem"), Resources: []resource{resTable}, LeadingKeys: []string{storedEventPartitions, dedupPartitions}},
			// A deduplication key is claimed by a conditional PutItem (in
			// the statement above), read and released.
			{Actions: ddb("GetItem", "DeleteItem"), Resources: []resource{resTable}, LeadingKeys: []string{dedupPartitions}},
			keyUse([]string{"Decrypt"}, verificationPurpose),
			{Actions: sqs("SendMessage"), Resources: []resource{resDeliveryQueue}},
		},
	},
	{
		// The web console: embedded files and its sign-in settings, public
		// (the page signs in in the browser and calls /api/v1 with a JWT).
		// It touches no table, key or queue, so its role has no permission
		// beyond its logs (iam_test.go).
		Dir: "console", ID: "ConsoleFunction",
		MemoryMB: 128, TimeoutSeconds: httpTimeoutSeconds,
		Env: []string{envConsoleAuthorizeURL, envConsoleTokenURL, envConsoleClientID, envConsoleLogoutURL},
		Routes: []route{
			{Method: "GET", Path: "/console", Public: true}, // redirects to /console/
			{Method: "GET", Path: "/console/{proxy+}", Public: true},
		},
	},
	{
		Dir: "deliver", ID: "DeliverFunction",
		MemoryMB: 256, TimeoutSeconds: deliverTimeoutSeconds,
		Env: []string{
			envTableName, envKMSKeyID, envQueueURL, envAllowPrivateNetworks,
			envDeliveryTimeout, envRetryBaseDelay, envRetryMaxDelay, envMaxAttempts,
			envBreakerFailureThreshold, envBreakerCooldown, envEnvironment,
		},
		SQSTrigger: true,
		Permissions: []permission{
			{Actions: ddb("GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "BatchWriteItem"), Resources: []resource{resTable}},
			// A delivery opens the destination's credentials and signing
			// secrets, never its verification secret.
			keyUse([]string{"Decrypt"}, credentialsPurpose, signingPurpose),
			// SendMessage: the function re-schedules work itself;
			// ReceiveMessage/DeleteMessage/GetQueueAttributes: the event source mapping
			// polls with the function's role.
			{Actions: sqs("SendMessage", "ReceiveMessage", "DeleteMessage", "GetQueueAttributes"), Resources: []resource{resDeliveryQueue}},
			// Alerts (CONTRACT §6): the tenant's destinations, to find who
			// receives one.
			{Actions: ddb("Query"), Resources: []resource{resTableIndexGSI1}},
		},
	},
	{
		Dir: "sweeper", ID: "SweeperFunction",
		MemoryMB: 128, TimeoutSeconds: sweeperTimeoutSeconds,
		Env:      []string{envTableName, envQueueURL, envDLQURL, envBreakerCooldown},
		Schedule: sweeperSchedule,
		Permissions: []permission{
			{Actions: ddb("GetItem", "PutItem", "UpdateItem", "Query", "BatchWriteItem"), Resources: []resource{resTable}},
			// Held destinations and due stored events (store.HeldIndexKey,
			// store.DueIndexKey); no other index.
			{Actions: ddb("Query"), Resources: []resource{resTableIndexGSI2}},
			{Actions: sqs("SendMessage"), Resources: []resource{resDeliveryQueue}},
			{Actions: sqs("ReceiveMessage", "DeleteMessage", "GetQueueAttributes"), Resources: []resource{resDeadLetter}},
			// event.failed alerts for events the DLQ gave up on: the
			// tenant's destinations, to find who receives one.
			{Actions: ddb("Query"), Resources: []resource{resTableIndexGSI1}},
		},
	},
}

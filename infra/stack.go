package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2authorizers"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2integrations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/hooksentry/hooksentry/pkg/kmscontext"
)

// HookSentryStackProps configures one environment's stack.
type HookSentryStackProps struct {
	awscdk.StackProps
	// Config is the environment (see config.go).
	Config EnvConfig
	// BuildDir holds <function>/bootstrap for every function (make build writes
	// build/<function>/bootstrap at the repository root). Default: ../build.
	BuildDir string
	// PlaceholderAssets lets synthesis go on when a function's build directory is
	// missing, with a small placeholder asset instead of the function's code. For
	// looking at templates only: never deploy such an assembly.
	PlaceholderAssets bool
}

// HookSentryStack is the synthesized stack and handles on its main resources.
type HookSentryStack struct {
	awscdk.Stack
	Table           awsdynamodb.Table
	Key             awskms.Key
	DeliveryQueue   awssqs.Queue
	DeadLetterQueue awssqs.Queue
	HttpApi         awsapigatewayv2.HttpApi
	// Functions by directory name (functions/<name>).
	Functions map[string]awslambda.Function
	// Placeholders lists the functions synthesized with a placeholder asset
	// (PlaceholderAssets and no build): such an assembly must not be deployed.
	Placeholders []string
}

// apiAccessLogFormat is the HTTP API access log line. It logs the route key, never
// the raw path: /ingest/{token} paths carry the ingest token.
const apiAccessLogFormat = `{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","requestTime":"$context.requestTime","routeKey":"$context.routeKey","status":"$context.status","protocol":"$context.protocol","responseLength":"$context.responseLength","integrationLatency":"$context.integrationLatency","integrationError":"$context.integrationErrorMessage","authorizerError":"$context.authorizer.error"}`

// functionTagKey tags every function with its directory name (functions/<name>),
// in this stack and in template.yaml.
const functionTagKey = "hooksentry:function"

// NewHookSentryStack declares the whole HookSentry stack for one environment.
func NewHookSentryStack(scope constructs.Construct, id string, props *HookSentryStackProps) (*HookSentryStack, error) {
	if props == nil {
		return nil, errors.New("NewHookSentryStack: props are required")
	}
	cfg := props.Config
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	buildDir := props.BuildDir
	if buildDir == "" {
		buildDir = filepath.Join("..", "build")
	}
	if err := checkPermissions(functionSpecs); err != nil {
		return nil, err
	}
	// Resolve every asset before creating constructs, so that a missing build
	// leaves nothing half-declared.
	assets := make(map[string]string, len(functionSpecs))
	var placeholders []string
	for _, spec := range functionSpecs {
		dir, placeholder, err := assetDir(buildDir, spec.Dir, props.PlaceholderAssets)
		if err != nil {
			return nil, err
		}
		assets[spec.Dir] = dir
		if placeholder {
			placeholders = append(placeholders, spec.Dir)
		}
	}

	sprops := props.StackProps
	if sprops.StackName == nil {
		sprops.StackName = jsii.String(cfg.StackName())
	}
	if sprops.TerminationProtection == nil {
		sprops.TerminationProtection = jsii.Bool(cfg.TerminationProtection)
	}
	if sprops.Description == nil {
		sprops.Description = jsii.String(fmt.Sprintf("HookSentry webhook gateway (%s)", cfg.Name))
	}
	stack := awscdk.NewStack(scope, jsii.String(id), &sprops)
	awscdk.Tags_Of(stack).Add(jsii.String("application"), jsii.String("hooksentry"), nil)
	awscdk.Tags_Of(stack).Add(jsii.String("environment"), jsii.String(cfg.Name), nil)

	s := &HookSentryStack{Stack: stack, Functions: map[string]awslambda.Function{}, Placeholders: placeholders}

	// --- Data: DynamoDB single table -------------------------------------------
	s.Table = awsdynamodb.NewTable(stack, jsii.String("Table"), &awsdynamodb.TableProps{
		PartitionKey: &awsdynamodb.Attribute{Name: jsii.String("pk"), Type: awsdynamodb.AttributeType_STRING},
		SortKey:      &awsdynamodb.Attribute{Name: jsii.String("sk"), Type: awsdynamodb.AttributeType_STRING},
		BillingMode:  awsdynamodb.BillingMode_PAY_PER_REQUEST,
		Encryption:   awsdynamodb.TableEncryption_AWS_MANAGED,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
		TimeToLiveAttribute: jsii.String("expiresAt"),
		DeletionProtection:  jsii.Bool(cfg.TableDeletionProtection),
		RemovalPolicy:       cfg.RemovalPolicy,
	})
	// gsi1: a tenant's destinations. gsi2: scheduled/held work by due time (sweeper).
	for _, gsi := range []string{"gsi1", "gsi2"} {
		s.Table.AddGlobalSecondaryIndex(&awsdynamodb.GlobalSecondaryIndexProps{
			IndexName:      jsii.String(gsi),
			PartitionKey:   &awsdynamodb.Attribute{Name: jsii.String(gsi + "pk"), Type: awsdynamodb.AttributeType_STRING},
			SortKey:        &awsdynamodb.Attribute{Name: jsii.String(gsi + "sk"), Type: awsdynamodb.AttributeType_STRING},
			ProjectionType: awsdynamodb.ProjectionType_ALL,
		})
	}

	// --- KMS: credential envelope key ------------------------------------------
	s.Key = awskms.NewKey(stack, jsii.String("Key"), &awskms.KeyProps{
		Description:       jsii.String(fmt.Sprintf("HookSentry %s destination credentials (envelope key)", cfg.Name)),
		EnableKeyRotation: jsii.Bool(true),
		KeySpec:           awskms.KeySpec_SYMMETRIC_DEFAULT,
		KeyUsage:          awskms.KeyUsage_ENCRYPT_DECRYPT,
		Policy:            keyPolicy(),
		RemovalPolicy:     cfg.RemovalPolicy,
	})
	awskms.NewAlias(stack, jsii.String("KeyAlias"), &awskms.AliasProps{
		AliasName: jsii.String(cfg.KeyAlias()),
		TargetKey: s.Key,
	})

	// --- SQS: delivery queue and its dead-letter queue -------------------------
	s.DeadLetterQueue = awssqs.NewQueue(stack, jsii.String("DeadLetterQueue"), &awssqs.QueueProps{
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(deadLetterRetentionDays)),
		RemovalPolicy:   cfg.RemovalPolicy,
	})
	s.DeliveryQueue = awssqs.NewQueue(stack, jsii.String("DeliveryQueue"), &awssqs.QueueProps{
		Encryption:        awssqs.QueueEncryption_SQS_MANAGED,
		VisibilityTimeout: awscdk.Duration_Seconds(jsii.Number(deliveryQueueVisibilitySeconds)),
		DeadLetterQueue: &awssqs.DeadLetterQueue{
			Queue:           s.DeadLetterQueue,
			MaxReceiveCount: jsii.Number(deliveryQueueMaxReceiveCount),
		},
		RemovalPolicy: cfg.RemovalPolicy,
	})

	// --- HTTP API with the JWT authorizer on /api/v1/* -------------------------
	accessLogs := awslogs.NewLogGroup(stack, jsii.String("ApiAccessLogGroup"), &awslogs.LogGroupProps{
		Retention:     cfg.LogRetention,
		RemovalPolicy: cfg.RemovalPolicy,
	})
	authorizer := awsapigatewayv2authorizers.NewHttpJwtAuthorizer(jsii.String("JwtAuthorizer"), jsii.String(cfg.JwtIssuer),
		&awsapigatewayv2authorizers.HttpJwtAuthorizerProps{
			AuthorizerName: jsii.String("JwtAuthorizer"),
			JwtAudience:    jsii.Strings(cfg.JwtAudience...),
			IdentitySource: jsii.Strings("$request.header.Authorization"),
		})
	s.HttpApi = awsapigatewayv2.NewHttpApi(stack, jsii.String("HttpApi"), &awsapigatewayv2.HttpApiProps{
		ApiName:           jsii.String(cfg.StackName()),
		Description:       jsii.String(fmt.Sprintf("HookSentry %s: management API (/api/v1, JWT) and ingest (/ingest/{token})", cfg.Name)),
		DefaultAuthorizer: authorizer,
	})
	if stage, ok := s.HttpApi.DefaultStage().Node().DefaultChild().(awsapigatewayv2.CfnStage); ok {
		stage.SetAccessLogSettings(&awsapigatewayv2.CfnStage_AccessLogSettingsProperty{
			DestinationArn: accessLogs.LogGroupArn(),
			Format:         jsii.String(apiAccessLogFormat),
		})
	} else {
		return nil, errors.New("HTTP API default stage has no CfnStage")
	}

	// --- Functions ---------------------------------------------------------------
	envValues := map[string]*string{
		envTableName:               s.Table.TableName(),
		envKMSKeyID:                s.Key.KeyArn(),
		envQueueURL:                s.DeliveryQueue.QueueUrl(),
		envDLQURL:                  s.DeadLetterQueue.QueueUrl(),
		envTenantClaim:             jsii.String(cfg.TenantClaim),
		envAllowPrivateNetworks:    jsii.String("false"),
		envDeliveryTimeout:         jsii.String(cfg.DeliveryTimeout),
		envRetryBaseDelay:          jsii.String(cfg.RetryBaseDelay),
		envRetryMaxDelay:           jsii.String(cfg.RetryMaxDelay),
		envMaxAttempts:             jsii.String(strconv.Itoa(cfg.MaxAttempts)),
		envBreakerFailureThreshold: jsii.String(strconv.Itoa(cfg.BreakerFailureThreshold)),
		envBreakerCooldown:         jsii.String(cfg.BreakerCooldown),
		envEnvironment:             jsii.String(cfg.Name),
		envConsoleAuthorizeURL:     jsii.String(cfg.ConsoleAuthorizeURL),
		envConsoleTokenURL:         jsii.String(cfg.ConsoleTokenURL),
		envConsoleClientID:         jsii.String(cfg.ConsoleClientID),
		envConsoleLogoutURL:        jsii.String(cfg.ConsoleLogoutURL),
	}
	resourceArns := map[resource][]*string{
		resTable:          {s.Table.TableArn()},
		resTableIndexGSI1: {awscdk.Fn_Join(jsii.String(""), &[]*string{s.Table.TableArn(), jsii.String("/index/gsi1")})},
		resTableIndexGSI2: {awscdk.Fn_Join(jsii.String(""), &[]*string{s.Table.TableArn(), jsii.String("/index/gsi2")})},
		resKey:            {s.Key.KeyArn()},
		resDeliveryQueue:  {s.DeliveryQueue.QueueArn()},
		resDeadLetter:     {s.DeadLetterQueue.QueueArn()},
	}

	var alarmAction awscloudwatch.IAlarmAction
	if cfg.AlarmsEnabled && cfg.AlarmTopicArn != "" {
		alarmAction = awscloudwatchactions.NewSnsAction(
			awssns.Topic_FromTopicArn(stack, jsii.String("AlarmTopic"), jsii.String(cfg.AlarmTopicArn)))
	}
	addAlarm := func(alarm awscloudwatch.Alarm) {
		if alarmAction != nil {
			alarm.AddAlarmAction(alarmAction)
		}
	}

	for _, spec := range functionSpecs {
		base := spec.ID[:len(spec.ID)-len("Function")]
		logGroup := awslogs.NewLogGroup(stack, jsii.String(base+"LogGroup"), &awslogs.LogGroupProps{
			Retention:     cfg.LogRetention,
			RemovalPolicy: cfg.RemovalPolicy,
		})

		statements := []awsiam.PolicyStatement{
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("Logs"),
				Actions:   jsii.Strings("logs:CreateLogStream", "logs:PutLogEvents"),
				Resources: &[]*string{logGroup.LogGroupArn()},
			}),
		}
		for i, p := range spec.Permissions {
			var arns []*string
			for _, r := range p.Resources {
				arns = append(arns, resourceArns[r]...)
			}
			st := &awsiam.PolicyStatementProps{
				Sid:       jsii.String(fmt.Sprintf("%s%d", statementSid(p), i)),
				Actions:   jsii.Strings(p.Actions...),
				Resources: &arns,
			}
			switch {
			case containsResource(p.Resources, resKey):
				st.Conditions = kmsContextConditions(p.Purposes)
			case len(p.LeadingKeys) > 0:
				st.Conditions = leadingKeysConditions(p.LeadingKeys)
			}
			statements = append(statements, awsiam.NewPolicyStatement(st))
		}
		role := awsiam.NewRole(stack, jsii.String(base+"Role"), &awsiam.RoleProps{
			AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
			Description: jsii.String(fmt.Sprintf("HookSentry %s %s", cfg.Name, spec.Dir)),
			InlinePolicies: &map[string]awsiam.PolicyDocument{
				spec.Dir: awsiam.NewPolicyDocument(&awsiam.PolicyDocumentProps{Statements: &statements}),
			},
		})

		env := make(map[string]*string, len(spec.Env))
		for _, name := range spec.Env {
			v, ok := envValues[name]
			if !ok {
				return nil, fmt.Errorf("function %s: no value for environment variable %s", spec.Dir, name)
			}
			env[name] = v
		}

		fn := awslambda.NewFunction(stack, jsii.String(spec.ID), &awslambda.FunctionProps{
			Description:  jsii.String(fmt.Sprintf("HookSentry %s (functions/%s)", cfg.Name, spec.Dir)),
			Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
			Architecture: awslambda.Architecture_ARM_64(),
			Handler:      jsii.String("bootstrap"),
			Code:         awslambda.Code_FromAsset(jsii.String(assets[spec.Dir]), nil),
			MemorySize:   jsii.Number(spec.MemoryMB),
			Timeout:      awscdk.Duration_Seconds(jsii.Number(spec.TimeoutSeconds)),
			Role:         role,
			LogGroup:     logGroup,
			Environment:  &env,
		})
		awscdk.Tags_Of(fn).Add(jsii.String(functionTagKey), jsii.String(spec.Dir), nil)
		s.Functions[spec.Dir] = fn

		for _, r := range spec.Routes {
			opts := &awsapigatewayv2.AddRoutesOptions{
				Path:        jsii.String(r.Path),
				Methods:     &[]awsapigatewayv2.HttpMethod{awsapigatewayv2.HttpMethod(r.Method)},
				Integration: awsapigatewayv2integrations.NewHttpLambdaIntegration(jsii.String(base+"Integration"), fn, nil),
			}
			if r.Public {
				opts.Authorizer = awsapigatewayv2.NewHttpNoneAuthorizer()
			}
			s.HttpApi.AddRoutes(opts)
		}
		if spec.SQSTrigger {
			fn.AddEventSourceMapping(jsii.String("DeliveryQueueEvent"), &awslambda.EventSourceMappingOptions{
				EventSourceArn:          s.DeliveryQueue.QueueArn(),
				BatchSize:               jsii.Number(10),
				MaxBatchingWindow:       awscdk.Duration_Seconds(jsii.Number(1)),
				ReportBatchItemFailures: jsii.Bool(true),
				MaxConcurrency:          jsii.Number(cfg.DeliverMaxConcurrency),
			})
		}
		if spec.Schedule != "" {
			awsevents.NewRule(stack, jsii.String(base+"Schedule"), &awsevents.RuleProps{
				Description: jsii.String(fmt.Sprintf("HookSentry %s: runs %s", cfg.Name, spec.Dir)),
				Schedule:    awsevents.Schedule_Expression(jsii.String(spec.Schedule)),
				Targets:     &[]awsevents.IRuleTarget{awseventstargets.NewLambdaFunction(fn, nil)},
			})
		}
		if cfg.AlarmsEnabled {
			addAlarm(awscloudwatch.NewAlarm(stack, jsii.String(base+"ErrorsAlarm"), &awscloudwatch.AlarmProps{
				AlarmDescription: jsii.String(fmt.Sprintf("HookSentry %s: %s reported errors in the last 5 minutes", cfg.Name, spec.Dir)),
				Metric: fn.MetricErrors(&awscloudwatch.MetricOptions{
					Period:    awscdk.Duration_Minutes(jsii.Number(5)),
					Statistic: jsii.String("Sum"),
				}),
				Threshold:          jsii.Number(0),
				EvaluationPeriods:  jsii.Number(1),
				ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
				TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
			}))
		}
	}

	if cfg.AlarmsEnabled {
		addAlarm(awscloudwatch.NewAlarm(stack, jsii.String("DeadLetterQueueAlarm"), &awscloudwatch.AlarmProps{
			AlarmDescription: jsii.String(fmt.Sprintf("HookSentry %s: messages in the delivery dead-letter queue", cfg.Name)),
			Metric: s.DeadLetterQueue.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{
				Period:    awscdk.Duration_Minutes(jsii.Number(1)),
				Statistic: jsii.String("Maximum"),
			}),
			Threshold:          jsii.Number(0),
			EvaluationPeriods:  jsii.Number(1),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		}))
	}

	// --- Dashboard and failure-rate alarm (dashboard.go) ------------------------
	s.addDashboard(cfg)
	if cfg.AlarmsEnabled {
		s.addFailureRateAlarm(cfg)
	}

	// --- Outputs -------------------------------------------------------------------
	output := func(id string, value *string, description string) {
		awscdk.NewCfnOutput(stack, jsii.String(id), &awscdk.CfnOutputProps{Value: value, Description: jsii.String(description)})
	}
	output("ApiUrl", s.HttpApi.ApiEndpoint(), "HTTP API base URL (no trailing slash); the management API is under /api/v1")
	output("IngestBaseUrl", awscdk.Fn_Join(jsii.String(""), &[]*string{s.HttpApi.ApiEndpoint(), jsii.String("/ingest/")}),
		"Ingest base URL: append the destination's ingest token")
	output("TableName", s.Table.TableName(), "DynamoDB table")
	output("DeliveryQueueUrl", s.DeliveryQueue.QueueUrl(), "Delivery queue")
	output("DeadLetterQueueUrl", s.DeadLetterQueue.QueueUrl(), "Delivery dead-letter queue")
	output("KmsKeyArn", s.Key.KeyArn(), "Credential envelope key")

	return s, nil
}

// keyAdminActions is what the key policy lets the account (and, through IAM,
// its principals) do to administer the key: what CloudFormation needs to
// create, update and delete it, and what its administrators need. An
// explicit list instead of "kms:*", and none of the key's use: that is
// keyUseActions, under the encryption-context condition. CreateGrant is in
// neither list: a grant carries no condition of the key policy, so it would
// let its grantee decrypt any sealed value; nothing of HookSentry needs one.
var keyAdminActions = []string{
	"kms:CancelKeyDeletion", "kms:CreateAlias", "kms:DeleteAlias", "kms:DescribeKey",
	"kms:DisableKey", "kms:DisableKeyRotation", "kms:EnableKey", "kms:EnableKeyRotation",
	"kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListAliases", "kms:ListGrants",
	"kms:ListKeyPolicies", "kms:ListKeyRotations", "kms:ListResourceTags", "kms:PutKeyPolicy",
	"kms:RetireGrant", "kms:RevokeGrant", "kms:RotateKeyOnDemand", "kms:ScheduleKeyDeletion",
	"kms:TagResource", "kms:UntagResource", "kms:UpdateAlias", "kms:UpdateKeyDescription",
}

// keyUseActions are the cryptographic operations HookSentry makes with the
// key (pkg/envelope): the account may delegate them to IAM principals only
// with HookSentry's encryption context.
var keyUseActions = []string{"kms:Decrypt", "kms:GenerateDataKey"}

// keyPolicy is the KMS key policy. Resource "*" is required here: in a key
// policy it means "this key" (documented exception, see docs/DEPLOY.md).
func keyPolicy() awsiam.PolicyDocument {
	return awsiam.NewPolicyDocument(&awsiam.PolicyDocumentProps{
		Statements: &[]awsiam.PolicyStatement{
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:        jsii.String("AccountAdministration"),
				Principals: &[]awsiam.IPrincipal{awsiam.NewAccountRootPrincipal()},
				Actions:    jsii.Strings(keyAdminActions...),
				Resources:  jsii.Strings("*"),
			}),
			// Without the condition, any principal of the account with
			// kms:Decrypt on "*" in an IAM policy (an administrator, a
			// broad CI role) could open every destination's credentials.
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:        jsii.String("IamDelegationWithEncryptionContext"),
				Principals: &[]awsiam.IPrincipal{awsiam.NewAccountRootPrincipal()},
				Actions:    jsii.Strings(keyUseActions...),
				Resources:  jsii.Strings("*"),
				Conditions: kmsContextConditions(kmsContextPurposes),
			}),
		},
	})
}

// kmsContextConditions is the encryption-context condition of every use of
// the key, in the key policy and in the roles: both identifying keys
// present (Null false), the purpose one of purposes (every purpose of
// HookSentry in the key policy, a role's own in a role), and no key outside
// the allowed set (ForAllValues, which alone would also let a context with
// fewer keys through, hence the Null test).
func kmsContextConditions(purposes []string) *map[string]interface{} {
	present := make(map[string]interface{}, len(kmsContextRequiredKeys))
	for _, k := range kmsContextRequiredKeys {
		present["kms:EncryptionContext:"+k] = "false"
	}
	return &map[string]interface{}{
		"Null":                      present,
		"StringEquals":              map[string]interface{}{"kms:EncryptionContext:" + kmscontext.Purpose: purposes},
		"ForAllValues:StringEquals": map[string]interface{}{"kms:EncryptionContextKeys": kmsContextAllowedKeys},
	}
}

// leadingKeysConditions bounds a DynamoDB statement to the partitions whose
// keys match patterns. ForAllValues holds for a request without the key
// too, so the key must also be present (Null false); GetItem and PutItem
// always carry it.
func leadingKeysConditions(patterns []string) *map[string]interface{} {
	return &map[string]interface{}{
		"ForAllValues:StringLike": map[string]interface{}{"dynamodb:LeadingKeys": patterns},
		"Null":                    map[string]interface{}{"dynamodb:LeadingKeys": "false"},
	}
}

// checkPermissions refuses a statement on the key without purposes or with a
// purpose that is not HookSentry's (the key policy would refuse it anyway),
// and purposes or leading keys where they mean nothing.
func checkPermissions(specs []functionSpec) error {
	for _, spec := range specs {
		for i, p := range spec.Permissions {
			onKey := containsResource(p.Resources, resKey)
			switch {
			case onKey && len(p.Purposes) == 0:
				return fmt.Errorf("function %s: permission %d uses the key without an encryption-context purpose", spec.Dir, i)
			case !onKey && len(p.Purposes) > 0:
				return fmt.Errorf("function %s: permission %d has purposes but is not on the key", spec.Dir, i)
			case onKey && len(p.LeadingKeys) > 0:
				return fmt.Errorf("function %s: permission %d on the key has leading keys", spec.Dir, i)
			}
			for _, purpose := range p.Purposes {
				if !slices.Contains(kmsContextPurposes, purpose) {
					return fmt.Errorf("function %s: permission %d: %q is not a purpose of pkg/kmscontext", spec.Dir, i, purpose)
				}
			}
		}
	}
	return nil
}

func containsResource(rs []resource, r resource) bool {
	for _, x := range rs {
		if x == r {
			return true
		}
	}
	return false
}

// statementSid names a statement after the service of its first action.
func statementSid(p permission) string {
	if len(p.Actions) == 0 {
		return "Statement"
	}
	svc, _, _ := strings.Cut(p.Actions[0], ":")
	switch svc {
	case "dynamodb":
		return "Table"
	case "kms":
		return "Key"
	case "sqs":
		return "Queue"
	default:
		return "Statement"
	}
}

// assetDir returns the directory to package as the code of function name, and
// whether it is a placeholder.
func assetDir(buildDir, name string, placeholder bool) (string, bool, error) {
	dir := filepath.Join(buildDir, name)
	if fi, err := os.Stat(filepath.Join(dir, "bootstrap")); err == nil && fi.Mode().IsRegular() {
		return dir, false, nil
	}
	if !placeholder {
		return "", false, fmt.Errorf("%s: no bootstrap: run `make build` first (or synthesize with -c placeholderAssets=true to look at the template only)", dir)
	}
	p, err := placeholderAsset(name)
	return p, true, err
}

// placeholderAsset makes a directory with a stand-in bootstrap, distinct per
// function (so that each function still gets its own asset).
func placeholderAsset(name string) (string, error) {
	dir := filepath.Join(os.TempDir(), "hooksentry-placeholder-assets", name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	content := "#!/bin/sh\necho 'placeholder for functions/" + name + ": run make build' >&2\nexit 1\n"
	if err := os.WriteFile(filepath.Join(dir, "bootstrap"), []byte(content), 0o755); err != nil {
		return "", err
	}
	return dir, nil
}

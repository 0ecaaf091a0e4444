package main

import (
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
)

func TestFunctions(t *testing.T) {
	for _, env := range EnvironmentNames() {
		t.Run(env, func(t *testing.T) {
			s := synth(t, env)
			s.assert.ResourceCountIs(jsii.String("AWS::Lambda::Function"), jsii.Number(len(functionSpecs)))
			fns := cdkFunctions(t, s)
			keys := map[string]string{}
			for _, spec := range functionSpecs {
				envMatch := map[string]any{}
				for _, name := range spec.Env {
					envMatch[name] = assertions.Match_AnyValue()
				}
				// Exactly these variables, and the runtime settings.
				s.assert.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]any{
					"Tags":          assertions.Match_ArrayWith(&[]any{map[string]any{"Key": functionTagKey, "Value": spec.Dir}}),
					"Runtime":       "provided.al2023",
					"Architectures": []any{"arm64"},
					"Handler":       "bootstrap",
					"MemorySize":    spec.MemoryMB,
					"Timeout":       spec.TimeoutSeconds,
					"Environment":   map[string]any{"Variables": assertions.Match_ObjectEquals(&envMatch)},
				})

				f := fns[spec.Dir]
				if f == nil {
					t.Errorf("no function tagged %s", spec.Dir)
					continue
				}
				if f.Name != spec.ID {
					t.Errorf("%s: construct id %s, want %s", spec.Dir, f.Name, spec.ID)
				}
				if got, want := sortedKeysOf(f.Env), sortedStrings(spec.Env); !reflect.DeepEqual(got, want) {
					t.Errorf("%s: env %v, want %v", spec.Dir, got, want)
				}
				if v, ok := f.Env[envAllowPrivateNetworks]; ok && v != "false" {
					t.Errorf("%s: %s=%v, want \"false\"", spec.Dir, envAllowPrivateNetworks, v)
				}
				wantValues := map[string]any{
					envTableName: "${Table}", envKMSKeyID: "${Key.Arn}", envQueueURL: "${DeliveryQueue}",
					envDLQURL: "${DeadLetterQueue}", envTenantClaim: s.cfg.TenantClaim,
				}
				for name, want := range wantValues {
					if got, ok := f.Env[name]; ok && got != want {
						t.Errorf("%s: %s=%v, want %v", spec.Dir, name, got, want)
					}
				}
				if f.LogGroup != "${"+strings.TrimSuffix(spec.ID, "Function")+"LogGroup}" {
					t.Errorf("%s: LoggingConfig.LogGroup %v", spec.Dir, f.LogGroup)
				}
			}
			// Each function has its own code asset (build/<function>).
			for id, fn := range resourcesOfType(s.tpl, "AWS::Lambda::Function") {
				code, _ := props(fn)["Code"].(map[string]any)
				key := canonicalJSON(code["S3Key"])
				if other, dup := keys[key]; dup {
					t.Errorf("functions %s and %s share the code asset %s", id, other, key)
				}
				keys[key] = id
			}
		})
	}
}

func TestRoutes(t *testing.T) {
	for _, env := range EnvironmentNames() {
		t.Run(env, func(t *testing.T) {
			s := synth(t, env)
			var want []string
			for _, spec := range functionSpecs {
				for _, r := range spec.Routes {
					auth := "JWT"
					if r.Public {
						auth = "NONE"
					}
					want = append(want, r.Method+" "+r.Path+" "+auth)
				}
			}
			var got []string
			for _, route := range resourcesOfType(s.tpl, "AWS::ApiGatewayV2::Route") {
				p := props(route)
				auth, _ := p["AuthorizationType"].(string)
				if auth == "" {
					auth = "NONE"
				}
				key, _ := p["RouteKey"].(string)
				got = append(got, key+" "+auth)
				_, hasAuthorizer := p["AuthorizerId"]
				switch {
				case strings.HasPrefix(key, "POST /ingest/"), key == "GET /console", key == "GET /console/{proxy+}":
					if auth != "NONE" || hasAuthorizer {
						t.Errorf("%s: authorization %s (authorizer %v), want NONE", key, auth, hasAuthorizer)
					}
				case strings.Contains(key, " /api/v1/"):
					if auth != "JWT" || !hasAuthorizer {
						t.Errorf("%s: authorization %s (authorizer %v), want JWT", key, auth, hasAuthorizer)
					}
				default:
					t.Errorf("unexpected route %s", key)
				}
			}
			if g, w := sortedStrings(got), sortedStrings(want); !reflect.DeepEqual(g, w) {
				t.Errorf("routes:\n got  %v\n want %v", g, w)
			}
			// Routes reach the right function.
			for dir, f := range cdkFunctions(t, s) {
				var want []string
				for _, spec := range functionSpecs {
					if spec.Dir != dir {
						continue
					}
					for _, r := range spec.Routes {
						auth := "JWT"
						if r.Public {
							auth = "NONE"
						}
						want = append(want, r.Method+" "+r.Path+" "+auth)
					}
				}
				if g, w := f.Routes, sortedStrings(want); len(g)+len(w) > 0 && !reflect.DeepEqual(g, w) {
					t.Errorf("%s routes %v, want %v", dir, g, w)
				}
			}
			s.assert.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::Authorizer"), map[string]any{
				"AuthorizerType": "JWT",
				"IdentitySource": []any{"$request.header.Authorization"},
				"JwtConfiguration": map[string]any{
					"Issuer":   s.cfg.JwtIssuer,
					"Audience": s.cfg.JwtAudience,
				},
			})
			s.assert.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::Stage"), map[string]any{
				"StageName":  "$default",
				"AutoDeploy": true,
				"AccessLogSettings": map[string]any{
					"Format": assertions.Match_StringLikeRegexp(jsii.String(`"routeKey":"\$context\.routeKey"`)),
				},
			})
			if strings.Contains(apiAccessLogFormat, "$context.path") {
				t.Error("the access log must not record $context.path: ingest paths carry the token")
			}
		})
	}
}

func TestTable(t *testing.T) {
	for _, env := range EnvironmentNames() {
		t.Run(env, func(t *testing.T) {
			s := synth(t, env)
			s.assert.ResourceCountIs(jsii.String("AWS::DynamoDB::Table"), jsii.Number(1))
			gsi := func(name string) map[string]any {
				return map[string]any{
					"IndexName": name,
					"KeySchema": []any{
						map[string]any{"AttributeName": name + "pk", "KeyType": "HASH"},
						map[string]any{"AttributeName": name + "sk", "KeyType": "RANGE"},
					},
					"Projection": map[string]any{"ProjectionType": "ALL"},
				}
			}
			attr := func(name string) map[string]any { return map[string]any{"AttributeName": name, "AttributeType": "S"} }
			s.assert.HasResourceProperties(jsii.String("AWS::DynamoDB::Table"), map[string]any{
				"BillingMode": "PAY_PER_REQUEST",
				"KeySchema": []any{
					map[string]any{"AttributeName": "pk", "KeyType": "HASH"},
					map[string]any{"AttributeName": "sk", "KeyType": "RANGE"},
				},
				"AttributeDefinitions": assertions.Match_ArrayWith(&[]any{
					attr("pk"), attr("sk"), attr("gsi1pk"), attr("gsi1sk"), attr("gsi2pk"), attr("gsi2sk"),
				}),
				"GlobalSecondaryIndexes":           []any{gsi("gsi1"), gsi("gsi2")},
				"PointInTimeRecoverySpecification": map[string]any{"PointInTimeRecoveryEnabled": true},
				"SSESpecification":                 map[string]any{"SSEEnabled": true},
				"TimeToLiveSpecification":          map[string]any{"AttributeName": "expiresAt", "Enabled": true},
				"DeletionProtectionEnabled":        s.cfg.TableDeletionProtection,
			})
			wantPolicy := "Delete"
			if s.cfg.RemovalPolicy == awscdk.RemovalPolicy_RETAIN {
				wantPolicy = "Retain"
			}
			for _, typ := range []string{"AWS::DynamoDB::Table", "AWS::KMS::Key", "AWS::SQS::Queue", "AWS::Logs::LogGroup"} {
				s.assert.AllResources(jsii.String(typ), map[string]any{
					"DeletionPolicy":      wantPolicy,
					"UpdateReplacePolicy": wantPolicy,
				})
			}
		})
	}
}

func TestKeyAndQueues(t *testing.T) {
	for _, env := range EnvironmentNames() {
		t.Run(env, func(t *testing.T) {
			s := synth(t, env)
			s.assert.ResourceCountIs(jsii.String("AWS::KMS::Key"), jsii.Number(1))
			s.assert.HasResourceProperties(jsii.String("AWS::KMS::Key"), map[string]any{
				"EnableKeyRotation": true,
				"KeySpec":           "SYMMETRIC_DEFAULT",
				"KeyUsage":          "ENCRYPT_DECRYPT",
			})
			s.assert.HasResourceProperties(jsii.String("AWS::KMS::Alias"), map[string]any{
				"AliasName": "alias/hooksentry-" + env,
			})

			s.assert.ResourceCountIs(jsii.String("AWS::SQS::Queue"), jsii.Number(2))
			r := newCDKResolver(s)
			queues := map[string]map[string]any{}
			for id, q := range resourcesOfType(s.tpl, "AWS::SQS::Queue") {
				queues[s.names[id]], _ = r.value(t, props(q)).(map[string]any)
			}
			dq, dlq := queues["DeliveryQueue"], queues["DeadLetterQueue"]
			if dq == nil || dlq == nil {
				t.Fatalf("queues %v: want DeliveryQueue and DeadLetterQueue", sortedKeysOf(queues))
			}
			check := func(what string, got, want any) {
				t.Helper()
				if canonicalJSON(got) != canonicalJSON(want) {
					t.Errorf("%s = %s, want %s", what, canonicalJSON(got), canonicalJSON(want))
				}
			}
			check("DeliveryQueue.VisibilityTimeout", dq["VisibilityTimeout"], 6*deliverTimeoutSeconds)
			check("DeliveryQueue.SqsManagedSseEnabled", dq["SqsManagedSseEnabled"], true)
			check("DeliveryQueue.RedrivePolicy", dq["RedrivePolicy"], map[string]any{
				"deadLetterTargetArn": "${DeadLetterQueue.Arn}", "maxReceiveCount": 5,
			})
			check("DeadLetterQueue.MessageRetentionPeriod", dlq["MessageRetentionPeriod"], 14*24*3600)
			check("DeadLetterQueue.SqsManagedSseEnabled", dlq["SqsManagedSseEnabled"], true)
		})
	}
}

func TestTriggers(t *testing.T) {
	for _, env := range EnvironmentNames() {
		t.Run(env, func(t *testing.T) {
			s := synth(t, env)
			s.assert.ResourceCountIs(jsii.String("AWS::Lambda::EventSourceMapping"), jsii.Number(1))
			s.assert.HasResourceProperties(jsii.String("AWS::Lambda::EventSourceMapping"), map[string]any{
				"BatchSize":                      10,
				"MaximumBatchingWindowInSeconds": 1,
				"FunctionResponseTypes":          []any{"ReportBatchItemFailures"},
				"ScalingConfig":                  map[string]any{"MaximumConcurrency": s.cfg.DeliverMaxConcurrency},
			})
			s.assert.ResourceCountIs(jsii.String("AWS::Events::Rule"), jsii.Number(1))
			s.assert.HasResourceProperties(jsii.String("AWS::Events::Rule"), map[string]any{
				"ScheduleExpression": "rate(1 minute)",
				"State":              "ENABLED",
			})
			fns := cdkFunctions(t, s)
			if got := fns["deliver"].SQS; len(got) != 1 || !strings.Contains(got[0], `"Queue":"${DeliveryQueue.Arn}"`) {
				t.Errorf("deliver SQS triggers %v, want one on the delivery queue", got)
			}
			if got := fns["sweeper"].Schedules; !reflect.DeepEqual(got, []string{"rate(1 minute)"}) {
				t.Errorf("sweeper schedules %v", got)
			}
			for dir, f := range fns {
				if dir != "deliver" && len(f.SQS) > 0 || dir != "sweeper" && len(f.Schedules) > 0 {
					t.Errorf("%s has an unexpected trigger: %v %v", dir, f.SQS, f.Schedules)
				}
			}
			// The sweeper rule may invoke the sweeper.
			s.assert.HasResourceProperties(jsii.String("AWS::Lambda::Permission"), map[string]any{
				"Action":    "lambda:InvokeFunction",
				"Principal": "events.amazonaws.com",
			})
		})
	}
}

// iamDocuments returns every policy document of the template with where it is.
func iamDocuments(t *testing.T, tpl map[string]any) map[string]map[string]any {
	t.Helper()
	docs := map[string]map[string]any{}
	for id, res := range resources(tpl) {
		p := props(res)
		switch res["Type"] {
		case "AWS::IAM::Role":
			pols, _ := p["Policies"].([]any)
			for i, pol := range pols {
				pm, _ := pol.(map[string]any)
				docs[fmt.Sprintf("%s.Policies[%d]", id, i)], _ = pm["PolicyDocument"].(map[string]any)
			}
			docs[id+".AssumeRolePolicyDocument"], _ = p["AssumeRolePolicyDocument"].(map[string]any)
			if mp, ok := p["ManagedPolicyArns"]; ok {
				t.Errorf("%s has managed policies %s: inline least-privilege policies only", id, canonicalJSON(mp))
			}
		case "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy":
			docs[id], _ = p["PolicyDocument"].(map[string]any)
		case "AWS::KMS::Key":
			docs[id+".KeyPolicy"], _ = p["KeyPolicy"].(map[string]any)
		case "AWS::SQS::QueuePolicy", "AWS::SNS::TopicPolicy":
			docs[id], _ = p["PolicyDocument"].(map[string]any)
		}
	}
	return docs
}

// leastPrivilegeProblems: no "*" or "service:*" action, no NotAction/NotResource,
// and Resource "*" only in the KMS key policy, where it means the key itself.
func leastPrivilegeProblems(t *testing.T, tpl map[string]any) []string {
	t.Helper()
	var problems []string
	for where, doc := range iamDocuments(t, tpl) {
		sts, _ := doc["Statement"].([]any)
		for i, st := range sts {
			sm, _ := st.(map[string]any)
			loc := fmt.Sprintf("%s.Statement[%d]", where, i)
			for _, k := range []string{"NotAction", "NotResource", "NotPrincipal"} {
				if _, ok := sm[k]; ok {
					problems = append(problems, fmt.Sprintf("%s uses %s", loc, k))
				}
			}
			for _, a := range stringList(sm["Action"]) {
				if a == "*" || strings.HasSuffix(a, ":*") {
					problems = append(problems, fmt.Sprintf("%s: wildcard action %q", loc, a))
				}
			}
			for _, r := range stringList(sm["Resource"]) {
				if r == "*" && !strings.HasSuffix(where, ".KeyPolicy") {
					problems = append(problems, fmt.Sprintf("%s: Resource \"*\"", loc))
				}
			}
		}
	}
	sort.Strings(problems)
	return problems
}

func TestIAMLeastPrivilege(t *testing.T) {
	for _, env := range EnvironmentNames() {
		t.Run(env, func(t *testing.T) {
			s := synth(t, env)
			for _, p := range leastPrivilegeProblems(t, s.tpl) {
				t.Error(p)
			}
			// No managed or standalone policies: every permission is in the roles below.
			s.assert.ResourceCountIs(jsii.String("AWS::IAM::Policy"), jsii.Number(0))
			s.assert.ResourceCountIs(jsii.String("AWS::IAM::Role"), jsii.Number(len(functionSpecs)))

			// Each role holds exactly its function's permissions.
			fns := cdkFunctions(t, s)
			for _, spec := range functionSpecs {
				f := fns[spec.Dir]
				if f == nil {
					continue
				}
				got := map[string]bool{}
				for _, st := range f.Statements {
					var m map[string]any
					if err := jsonUnmarshal(st, &m); err != nil {
						t.Fatal(err)
					}
					for _, a := range stringList(m["Action"]) {
						for _, r := range stringList(m["Resource"]) {
							got[a+" "+r] = true
						}
					}
					if m["Effect"] != "Allow" {
						t.Errorf("%s: statement %s is not Allow", spec.Dir, st)
					}
					if strings.Contains(st, "kms:") {
						// The values are pinned by TestKMSUseNeedsTheEncryptionContext.
						checkContextCondition(t, spec.Dir, m, wantContextPurposesFor[spec.Dir])
					}
				}
				want := map[string]bool{}
				base := strings.TrimSuffix(spec.ID, "Function")
				want["logs:CreateLogStream ${"+base+"LogGroup.Arn}"] = true
				want["logs:PutLogEvents ${"+base+"LogGroup.Arn}"] = true
				names := map[resource]string{
					resTable: "${Table.Arn}", resTableIndexGSI1: "${Table.Arn}/index/gsi1", resTableIndexGSI2: "${Table.Arn}/index/gsi2",
					resKey: "${Key.Arn}", resDeliveryQueue: "${DeliveryQueue.Arn}", resDeadLetter: "${DeadLetterQueue.Arn}",
				}
				for _, p := range spec.Permissions {
					for _, a := range p.Actions {
						for _, r := range p.Resources {
							want[a+" "+names[r]] = true
						}
					}
				}
				if g, w := sortedKeysOf(got), sortedKeysOf(want); !reflect.DeepEqual(g, w) {
					t.Errorf("%s permissions:\n got  %v\n want %v", spec.Dir, g, w)
				}
			}
		})
	}
}

func TestLeastPrivilegeCheckCatchesWildcards(t *testing.T) {
	bad := map[string]any{"Resources": map[string]any{
		"R": map[string]any{"Type": "AWS::IAM::Role", "Properties": map[string]any{
			"Policies": []any{map[string]any{"PolicyDocument": map[string]any{"Statement": []any{
				map[string]any{"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"},
			}}}},
		}},
	}}
	if got := leastPrivilegeProblems(t, bad); len(got) != 2 {
		t.Errorf("problems %v, want the wildcard action and the wildcard resource", got)
	}
}

func TestAlarmsAndLogs(t *testing.T) {
	for _, env := range EnvironmentNames() {
		t.Run(env, func(t *testing.T) {
			s := synth(t, env)
			wantAlarms := 0
			if s.cfg.AlarmsEnabled {
				wantAlarms = len(functionSpecs) + 2 // + DLQ depth, failure rate
			}
			s.assert.ResourceCountIs(jsii.String("AWS::CloudWatch::Alarm"), jsii.Number(wantAlarms))
			if s.cfg.AlarmsEnabled {
				s.assert.HasResourceProperties(jsii.String("AWS::CloudWatch::Alarm"), map[string]any{
					"Namespace": "AWS/SQS", "MetricName": "ApproximateNumberOfMessagesVisible",
					"ComparisonOperator": "GreaterThanThreshold", "Threshold": 0,
				})
				r := newCDKResolver(s)
				errs := map[string]bool{}
				for _, a := range resourcesOfType(s.tpl, "AWS::CloudWatch::Alarm") {
					p, _ := r.value(t, props(a)).(map[string]any)
					if p["MetricName"] != "Errors" {
						continue
					}
					if p["Namespace"] != "AWS/Lambda" || p["Period"] != 300.0 || p["Statistic"] != "Sum" ||
						p["Threshold"] != 0.0 || p["ComparisonOperator"] != "GreaterThanThreshold" {
						t.Errorf("errors alarm %s", canonicalJSON(p))
					}
					dims, _ := p["Dimensions"].([]any)
					for _, d := range dims {
						dm, _ := d.(map[string]any)
						errs[fmt.Sprint(dm["Value"])] = true
					}
				}
				for _, spec := range functionSpecs {
					if !errs["${"+spec.ID+"}"] {
						t.Errorf("no Errors alarm for %s", spec.Dir)
					}
				}
			}
			// One log group per function plus the API access log, all with the
			// environment's retention.
			s.assert.ResourceCountIs(jsii.String("AWS::Logs::LogGroup"), jsii.Number(len(functionSpecs)+1))
			s.assert.AllResourcesProperties(jsii.String("AWS::Logs::LogGroup"), map[string]any{
				"RetentionInDays": s.cfg.LogRetentionDays,
			})
		})
	}
}

func TestEnvironmentsDiffer(t *testing.T) {
	if got := EnvironmentNames(); !reflect.DeepEqual(got, []string{"dev", "prod", "staging"}) {
		t.Fatalf("environments %v", got)
	}
	dev, staging, prod := synth(t, "dev"), synth(t, "staging"), synth(t, "prod")
	if dev.stack.StackName() == nil || *dev.stack.StackName() != "HookSentry-dev" || *prod.stack.StackName() != "HookSentry-prod" {
		t.Errorf("stack names %s %s", *dev.stack.StackName(), *prod.stack.StackName())
	}
	if dev.cfg.RemovalPolicy != awscdk.RemovalPolicy_DESTROY || prod.cfg.RemovalPolicy != awscdk.RemovalPolicy_RETAIN || staging.cfg.RemovalPolicy != awscdk.RemovalPolicy_RETAIN {
		t.Error("dev destroys, staging and prod retain their data")
	}
	if dev.cfg.AlarmsEnabled || !staging.cfg.AlarmsEnabled || !prod.cfg.AlarmsEnabled {
		t.Error("alarms: off in dev, on in staging and prod")
	}
	if !(dev.cfg.LogRetentionDays < staging.cfg.LogRetentionDays && staging.cfg.LogRetentionDays < prod.cfg.LogRetentionDays) {
		t.Error("log retention grows dev < staging < prod")
	}
	if !(dev.cfg.DeliverMaxConcurrency < prod.cfg.DeliverMaxConcurrency) {
		t.Error("deliver concurrency: dev < prod")
	}
	if !prod.cfg.TableDeletionProtection || !prod.cfg.TerminationProtection || dev.cfg.TerminationProtection {
		t.Error("prod is protected, dev is not")
	}
	if !*prod.stack.TerminationProtection() || *dev.stack.TerminationProtection() {
		t.Error("stack termination protection follows the config")
	}
	// The templates differ in exactly those settings: same resources otherwise.
	if len(resources(staging.tpl)) != len(resources(prod.tpl)) || len(resources(dev.tpl)) != len(resources(prod.tpl))-len(functionSpecs)-2 { // the alarms
		t.Errorf("resource counts dev %d staging %d prod %d", len(resources(dev.tpl)), len(resources(staging.tpl)), len(resources(prod.tpl)))
	}
	for _, s := range []*synthesized{dev, staging, prod} {
		if err := s.cfg.Validate(); err != nil {
			t.Error(err)
		}
	}
}

func TestOutputs(t *testing.T) {
	s := synth(t, "dev")
	for _, name := range []string{"ApiUrl", "IngestBaseUrl"} {
		s.assert.HasOutput(jsii.String(name), map[string]any{})
	}
	r := newCDKResolver(s)
	outs, _ := r.value(t, s.tpl["Outputs"]).(map[string]any)
	api, _ := outs["ApiUrl"].(map[string]any)
	ingest, _ := outs["IngestBaseUrl"].(map[string]any)
	if api["Value"] != "${HttpApi.ApiEndpoint}" || ingest["Value"] != "${HttpApi.ApiEndpoint}/ingest/" {
		t.Errorf("ApiUrl %v, IngestBaseUrl %v", api["Value"], ingest["Value"])
	}
}

func TestConfigValidate(t *testing.T) {
	good, err := LookupEnv("prod")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LookupEnv("qa"); err == nil {
		t.Error("LookupEnv(qa): want an error")
	}
	for name, mutate := range map[string]func(*EnvConfig){
		"concurrency 1":  func(c *EnvConfig) { c.DeliverMaxConcurrency = 1 },
		"http issuer":    func(c *EnvConfig) { c.JwtIssuer = "http://issuer" },
		"no audience":    func(c *EnvConfig) { c.JwtAudience = nil },
		"empty audience": func(c *EnvConfig) { c.JwtAudience = []string{" "} },
		"no claim":       func(c *EnvConfig) { c.TenantClaim = "" },
	} {
		c := good
		c.JwtAudience = append([]string(nil), good.JwtAudience...)
		mutate(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: Validate accepted it", name)
		}
	}
}

func TestMissingBuild(t *testing.T) {
	cfg, _ := LookupEnv("dev")
	empty := t.TempDir()
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
	if _, err := NewHookSentryStack(app, "Missing", &HookSentryStackProps{Config: cfg, BuildDir: empty}); err == nil ||
		!strings.Contains(err.Error(), "make build") {
		t.Errorf("missing build: err = %v, want a 'run make build' error", err)
	}
	app2 := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
	if _, err := NewHookSentryStack(app2, "Placeholder", &HookSentryStackProps{Config: cfg, BuildDir: empty, PlaceholderAssets: true}); err != nil {
		t.Errorf("placeholder assets: %v", err)
	}
	if _, err := os.Stat(empty); err != nil {
		t.Fatal(err)
	}
}

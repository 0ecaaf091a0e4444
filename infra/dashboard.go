package main

import (
	"encoding/json"
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/jsii-runtime-go"

	"github.com/hooksentry/hooksentry/pkg/metrics"
)

// The CloudWatch dashboard and the failure-rate alarm over the functions'
// EMF metrics (pkg/metrics). Both are declared here as CloudFormation
// resources (L1), property for property as template.yaml declares them, so
// that the parity tests compare them like any other resource.

// Fn::Sub variables of the dashboard body: ${AWS::Region} and these.
const (
	subEnvironment     = "${Environment}"
	subIngestFunction  = "${IngestFunction}"
	subDeliverFunction = "${DeliverFunction}"
	subDLQName         = "${DeadLetterQueueName}"
)

// failureRateThreshold is the failure-rate alarm's threshold, in percent
// of the events finished (delivered or failed) per 5 minutes.
const failureRateThreshold = 5

// failureRateExpression is the alarm's metric math. FILL makes a period
// with failures and no delivery 100 % rather than no data; a period
// without failures has no EventsFailed data point, hence no rate, which
// TreatMissingData notBreaching reads as OK.
const failureRateExpression = "100 * failed / (FILL(delivered, 0) + failed)"

// dashboardBody is the dashboard's JSON in Fn::Sub syntax.
func dashboardBody() string {
	hs := func(names ...string) []any {
		rows := make([]any, len(names))
		for i, n := range names {
			rows[i] = []any{metrics.Namespace, n, metrics.DimensionEnvironment, subEnvironment}
		}
		return rows
	}
	lambda := func(metric string, fns ...string) []any {
		var rows []any
		for _, fn := range fns {
			rows = append(rows, []any{"AWS/Lambda", metric, "FunctionName", fn})
		}
		return rows
	}
	widget := func(x, y int, title, stat string, rows []any) map[string]any {
		return map[string]any{
			"type": "metric", "x": x, "y": y, "width": 12, "height": 6,
			"properties": map[string]any{
				"title": title, "region": "${AWS::Region}", "view": "timeSeries",
				"stat": stat, "period": 300, "metrics": rows,
			},
		}
	}
	latency := func(p string) []any {
		return []any{metrics.Namespace, metrics.MetricDeliveryLatency, metrics.DimensionEnvironment, subEnvironment,
			map[string]any{"stat": p, "label": "DeliveryLatency " + p}}
	}
	body := map[string]any{"widgets": []any{
		widget(0, 0, "Ingest requests", "Sum", hs(metrics.MetricIngestAccepted, metrics.MetricIngestDuplicates,
			metrics.MetricIngestUnverified, metrics.MetricIngestRefused, metrics.MetricIngestErrors)),
		widget(12, 0, "Delivery attempts", "Sum", hs(metrics.MetricDeliveryAttempts, metrics.MetricDeliveryAttemptsFailed)),
		widget(0, 6, "Events", "Sum", hs(metrics.MetricEventsDelivered, metrics.MetricEventsFailed, metrics.MetricEventsHeld)),
		widget(12, 6, "Delivery latency (received to delivered)", "p50", []any{latency("p50"), latency("p99")}),
		widget(0, 12, "Circuit breaker", "Sum", hs(metrics.MetricDestinationsSuspended, metrics.MetricDestinationsRecovered, metrics.MetricAlertsSent)),
		widget(12, 12, "Dead-letter queue depth", "Maximum", []any{[]any{"AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", subDLQName}}),
		widget(0, 18, "Ingest and deliver: Lambda errors and throttles", "Sum",
			append(lambda("Errors", subIngestFunction, subDeliverFunction), lambda("Throttles", subIngestFunction, subDeliverFunction)...)),
	}}
	b, err := json.Marshal(body)
	if err != nil {
		panic(err) // maps, slices, strings and ints always marshal
	}
	return string(b)
}

// addDashboard declares the dashboard, named after the stack.
func (s *HookSentryStack) addDashboard(cfg EnvConfig) {
	d := awscloudwatch.NewCfnDashboard(s.Stack, jsii.String("Dashboard"), &awscloudwatch.CfnDashboardProps{
		DashboardName: awscdk.Aws_STACK_NAME(),
		DashboardBody: awscdk.Fn_Sub(jsii.String(dashboardBody()), &map[string]*string{
			"Environment":         jsii.String(cfg.Name),
			"IngestFunction":      s.Functions["ingest"].FunctionName(),
			"DeliverFunction":     s.Functions["deliver"].FunctionName(),
			"DeadLetterQueueName": s.DeadLetterQueue.QueueName(),
		}),
	})
	// Dashboard tags are recent in CloudFormation: cfn-lint's schema (and
	// older tooling) refuse them, and template.yaml's dashboard has none.
	for _, key := range []string{"application", "environment"} {
		awscdk.Tags_Of(d).Remove(jsii.String(key), nil)
	}
}

// addFailureRateAlarm declares the alarm on the share of finished events
// that failed: above failureRateThreshold % in 3 consecutive 5-minute
// periods.
func (s *HookSentryStack) addFailureRateAlarm(cfg EnvConfig) {
	stat := func(id, name string) *awscloudwatch.CfnAlarm_MetricDataQueryProperty {
		return &awscloudwatch.CfnAlarm_MetricDataQueryProperty{
			Id: jsii.String(id),
			MetricStat: &awscloudwatch.CfnAlarm_MetricStatProperty{
				Metric: &awscloudwatch.CfnAlarm_MetricProperty{
					Namespace:  jsii.String(metrics.Namespace),
					MetricName: jsii.String(name),
					Dimensions: &[]*awscloudwatch.CfnAlarm_DimensionProperty{
						{Name: jsii.String(metrics.DimensionEnvironment), Value: jsii.String(cfg.Name)},
					},
				},
				Period: jsii.Number(300),
				Stat:   jsii.String("Sum"),
			},
			ReturnData: jsii.Bool(false),
		}
	}
	props := &awscloudwatch.CfnAlarmProps{
		AlarmDescription: jsii.String(fmt.Sprintf("HookSentry %s: more than %d %% of finished events failed in 3 consecutive 5-minute periods", cfg.Name, failureRateThreshold)),
		Metrics: &[]*awscloudwatch.CfnAlarm_MetricDataQueryProperty{
			stat("failed", metrics.MetricEventsFailed),
			stat("delivered", metrics.MetricEventsDelivered),
			{Id: jsii.String("rate"), Expression: jsii.String(failureRateExpression), Label: jsii.String("Failure rate (%)"), ReturnData: jsii.Bool(true)},
		},
		EvaluationPeriods:  jsii.Number(3),
		Threshold:          jsii.Number(failureRateThreshold),
		ComparisonOperator: jsii.String("GreaterThanThreshold"),
		TreatMissingData:   jsii.String("notBreaching"),
	}
	if cfg.AlarmTopicArn != "" {
		props.AlarmActions = &[]interface{}{jsii.String(cfg.AlarmTopicArn)}
	}
	awscloudwatch.NewCfnAlarm(s.Stack, jsii.String("FailureRateAlarm"), props)
}

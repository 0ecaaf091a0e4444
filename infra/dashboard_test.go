package main

import (
	"strings"
	"testing"

	"github.com/aws/jsii-runtime-go"

	"github.com/hooksentry/hooksentry/pkg/metrics"
)

// dashboard returns the stack's one dashboard, resolved (${IngestFunction},
// ${AWS::Region}, ...), and its body.
func dashboard(t *testing.T, r *resolver, tpl map[string]any) (map[string]any, map[string]any) {
	t.Helper()
	ds := resourcesOfType(tpl, "AWS::CloudWatch::Dashboard")
	if len(ds) != 1 {
		t.Fatalf("%d dashboards, want 1", len(ds))
	}
	for _, d := range ds {
		p, _ := r.value(t, props(d)).(map[string]any)
		var body map[string]any
		if err := jsonUnmarshal(p["DashboardBody"].(string), &body); err != nil {
			t.Fatalf("DashboardBody is not JSON: %v\n%s", err, p["DashboardBody"])
		}
		return p, body
	}
	return nil, nil
}

// dashboardMetrics lists every metric of the body as "namespace name dimension=value [stat]".
func dashboardMetrics(body map[string]any) []string {
	var out []string
	widgets, _ := body["widgets"].([]any)
	for _, w := range widgets {
		wm, _ := w.(map[string]any)
		p, _ := wm["properties"].(map[string]any)
		rows, _ := p["metrics"].([]any)
		for _, row := range rows {
			cells, _ := row.([]any)
			var parts []string
			for i, c := range cells {
				switch v := c.(type) {
				case string:
					if i >= 3 && i%2 == 1 {
						parts[len(parts)-1] += "=" + v
					} else {
						parts = append(parts, v)
					}
				case map[string]any:
					if st, ok := v["stat"].(string); ok {
						parts = append(parts, st)
					}
				}
			}
			out = append(out, strings.Join(parts, " "))
		}
	}
	return out
}

// TestDashboard: in every environment, both templates' dashboard shows
// every HookSentry metric of the environment, latency at p50 and p99, the
// DLQ depth and the ingest and deliver functions' errors and throttles.
func TestDashboard(t *testing.T) {
	sam := loadSAM(t)
	for _, env := range EnvironmentNames() {
		t.Run(env, func(t *testing.T) {
			s := synth(t, env)
			for name, got := range map[string]map[string]any{
				"CDK":           second(dashboard(t, newCDKResolver(s), s.tpl)),
				"template.yaml": second(dashboard(t, newSAMResolver(t, sam, samParams(s.cfg)), sam)),
			} {
				have := map[string]bool{}
				for _, m := range dashboardMetrics(got) {
					have[m] = true
				}
				var want []string
				for _, d := range metrics.All {
					if d.Name == metrics.MetricDeliveryLatency {
						continue
					}
					want = append(want, "HookSentry "+d.Name+" Environment="+env)
				}
				want = append(want,
					"HookSentry DeliveryLatency Environment="+env+" p50",
					"HookSentry DeliveryLatency Environment="+env+" p99",
					"AWS/SQS ApproximateNumberOfMessagesVisible QueueName=${DeadLetterQueue.QueueName}",
					"AWS/Lambda Errors FunctionName=${IngestFunction}",
					"AWS/Lambda Errors FunctionName=${DeliverFunction}",
					"AWS/Lambda Throttles FunctionName=${IngestFunction}",
					"AWS/Lambda Throttles FunctionName=${DeliverFunction}",
				)
				for _, w := range want {
					if !have[w] {
						t.Errorf("%s dashboard: no %q among %v", name, w, dashboardMetrics(got))
					}
				}
			}
			s.assert.HasResourceProperties(jsii.String("AWS::CloudWatch::Dashboard"), map[string]any{
				"DashboardName": map[string]any{"Ref": "AWS::StackName"},
			})
		})
	}
}

func second[A, B any](_ A, b B) B { return b }

// TestFailureRateAlarm: with alarms on, the failure-rate alarm computes
// failed / (delivered + failed) over the environment's metrics and fires
// above 5 % for 3 periods of 5 minutes; with alarms off, it is absent.
func TestFailureRateAlarm(t *testing.T) {
	for _, env := range EnvironmentNames() {
		t.Run(env, func(t *testing.T) {
			s := synth(t, env)
			r := newCDKResolver(s)
			var found []map[string]any
			for _, a := range resourcesOfType(s.tpl, "AWS::CloudWatch::Alarm") {
				p, _ := r.value(t, props(a)).(map[string]any)
				if _, ok := p["Metrics"]; ok {
					found = append(found, p)
				}
			}
			if !s.cfg.AlarmsEnabled {
				if len(found) != 0 {
					t.Fatalf("alarms are off in %s, but a metric-math alarm exists", env)
				}
				return
			}
			if len(found) != 1 {
				t.Fatalf("%d metric-math alarms, want the failure-rate alarm", len(found))
			}
			p := found[0]
			if p["Threshold"] != 5.0 || p["EvaluationPeriods"] != 3.0 || p["ComparisonOperator"] != "GreaterThanThreshold" || p["TreatMissingData"] != "notBreaching" {
				t.Errorf("failure-rate alarm %s: want > 5 over 3 periods, missing data not breaching", canonicalJSON(p))
			}
			queries := map[string]map[string]any{}
			for _, q := range p["Metrics"].([]any) {
				qm := q.(map[string]any)
				queries[qm["Id"].(string)] = qm
			}
			for id, name := range map[string]string{"failed": metrics.MetricEventsFailed, "delivered": metrics.MetricEventsDelivered} {
				want := `{"Id":"` + id + `","MetricStat":{"Metric":{"Dimensions":[{"Name":"Environment","Value":"` + env + `"}],"MetricName":"` + name +
					`","Namespace":"HookSentry"},"Period":300,"Stat":"Sum"},"ReturnData":false}`
				if got := canonicalJSON(queries[id]); got != want {
					t.Errorf("query %s:\n got  %s\n want %s", id, got, want)
				}
			}
			rate := queries["rate"]
			if rate["Expression"] != failureRateExpression || rate["ReturnData"] != true {
				t.Errorf("rate query %s", canonicalJSON(rate))
			}
			if s.cfg.AlarmTopicArn != "" && canonicalJSON(p["AlarmActions"]) != canonicalJSON([]any{s.cfg.AlarmTopicArn}) {
				t.Errorf("alarm actions %v, want the topic %s", p["AlarmActions"], s.cfg.AlarmTopicArn)
			}
		})
	}
}

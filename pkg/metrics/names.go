// Package metrics owns HookSentry's CloudWatch metrics: names, units,
// dimensions, and their Embedded Metric Format lines. The functions write
// these lines to stdout, which Lambda sends to their log groups, where
// CloudWatch extracts the metrics: no PutMetricData call, no extra latency
// or IAM permission.
//
// The only dimension is Environment: every metric with another dimension
// value is a custom metric billed per month, so per-destination numbers are
// the events API's job, not CloudWatch's.
package metrics

// Namespace is the CloudWatch namespace of every metric.
const Namespace = "HookSentry"

// DimensionEnvironment is the one dimension; its value is
// HOOKSENTRY_ENVIRONMENT (config.Config.Environment).
const DimensionEnvironment = "Environment"

// Unit is a CloudWatch unit.
type Unit string

const (
	Count        Unit = "Count"
	Milliseconds Unit = "Milliseconds"
)

// Metric names, as CloudWatch shows them. README.md's Metrics section
// documents each (a test checks).
const (
	MetricIngestAccepted         = "IngestAccepted"
	MetricIngestDuplicates       = "IngestDuplicates"
	MetricIngestUnverified       = "IngestUnverified"
	MetricIngestRefused          = "IngestRefused"
	MetricIngestErrors           = "IngestErrors"
	MetricDeliveryAttempts       = "DeliveryAttempts"
	MetricDeliveryAttemptsFailed = "DeliveryAttemptsFailed"
	MetricEventsDelivered        = "EventsDelivered"
	MetricEventsFailed           = "EventsFailed"
	MetricEventsHeld             = "EventsHeld"
	MetricDeliveryLatency        = "DeliveryLatency"
	MetricDestinationsSuspended  = "DestinationsSuspended"
	MetricDestinationsRecovered  = "DestinationsRecovered"
	MetricAlertsSent             = "AlertsSent"
)

// Definition is one metric: its name and unit.
type Definition struct {
	Name string
	Unit Unit
}

// All lists every metric a Sink can write, in the order lines declare them.
var All = []Definition{
	{MetricIngestAccepted, Count},
	{MetricIngestDuplicates, Count},
	{MetricIngestUnverified, Count},
	{MetricIngestRefused, Count},
	{MetricIngestErrors, Count},
	{MetricDeliveryAttempts, Count},
	{MetricDeliveryAttemptsFailed, Count},
	{MetricEventsDelivered, Count},
	{MetricEventsFailed, Count},
	{MetricEventsHeld, Count},
	{MetricDeliveryLatency, Milliseconds},
	{MetricDestinationsSuspended, Count},
	{MetricDestinationsRecovered, Count},
	{MetricAlertsSent, Count},
}

func unitOf(name string) Unit {
	for _, d := range All {
		if d.Name == name {
			return d.Unit
		}
	}
	return Count
}

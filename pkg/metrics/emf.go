package metrics

import (
	"encoding/json"
	"io"
	"time"
)

// MaxValues is the most values one metric may carry in one EMF line (the
// EMF specification's limit); longer latency lists are split over lines.
const MaxValues = 100

// emfMetric is one entry of CloudWatchMetrics[].Metrics.
type emfMetric struct {
	Name string `json:"Name"`
	Unit Unit   `json:"Unit"`
}

type emfDirective struct {
	Namespace  string      `json:"Namespace"`
	Dimensions [][]string  `json:"Dimensions"`
	Metrics    []emfMetric `json:"Metrics"`
}

type emfMetadata struct {
	Timestamp         int64          `json:"Timestamp"`
	CloudWatchMetrics []emfDirective `json:"CloudWatchMetrics"`
}

// value is one metric's value in a line: a number or a list of numbers.
type value struct {
	name string
	v    any // int or []float64
}

// writeLine writes one EMF line holding values (none: nothing is written)
// with one Write call, so that it never interleaves with other output on w.
// Values are written in the order given; the caller leaves zeros out.
func writeLine(w io.Writer, environment string, at time.Time, values []value) {
	if len(values) == 0 {
		return
	}
	line := map[string]any{DimensionEnvironment: environment}
	d := emfDirective{Namespace: Namespace, Dimensions: [][]string{{DimensionEnvironment}}}
	for _, v := range values {
		d.Metrics = append(d.Metrics, emfMetric{Name: v.name, Unit: unitOf(v.name)})
		line[v.name] = v.v
	}
	line["_aws"] = emfMetadata{Timestamp: at.UnixMilli(), CloudWatchMetrics: []emfDirective{d}}
	b, err := json.Marshal(line)
	if err != nil {
		return // ints, floats and strings always marshal
	}
	// A lost metrics line must not fail an ingest or a delivery.
	_, _ = w.Write(append(b, '\n'))
}

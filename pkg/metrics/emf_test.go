package metrics

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// validUnits are the units CloudWatch accepts in an EMF directive.
var validUnits = map[string]bool{
	"Seconds": true, "Microseconds": true, "Milliseconds": true, "Bytes": true, "Kilobytes": true,
	"Megabytes": true, "Gigabytes": true, "Terabytes": true, "Bits": true, "Kilobits": true,
	"Megabits": true, "Gigabits": true, "Terabits": true, "Percent": true, "Count": true,
	"Bytes/Second": true, "Kilobytes/Second": true, "Megabytes/Second": true, "Gigabytes/Second": true,
	"Terabytes/Second": true, "Bits/Second": true, "Kilobits/Second": true, "Megabits/Second": true,
	"Gigabits/Second": true, "Terabits/Second": true, "Count/Second": true, "None": true,
}

// checkEMF checks that line is one valid EMF document (the CloudWatch
// specification's rules) and returns its metric values and dimensions by name.
func checkEMF(line string) (map[string]any, map[string]string, error) {
	var doc map[string]any
	dec := json.NewDecoder(strings.NewReader(line))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil, nil, fmt.Errorf("line %q is not JSON: %v", line, err)
	}
	aws, ok := doc["_aws"].(map[string]any)
	if !ok {
		return nil, nil, fmt.Errorf("line %q has no _aws object", line)
	}
	ts, ok := aws["Timestamp"].(json.Number)
	if !ok {
		return nil, nil, fmt.Errorf("_aws.Timestamp %v is not a number", aws["Timestamp"])
	}
	if _, err := ts.Int64(); err != nil {
		return nil, nil, fmt.Errorf("_aws.Timestamp %v is not an integer of milliseconds", ts)
	}
	directives, ok := aws["CloudWatchMetrics"].([]any)
	if !ok || len(directives) != 1 {
		return nil, nil, fmt.Errorf("_aws.CloudWatchMetrics %v: want one directive", aws["CloudWatchMetrics"])
	}
	d, _ := directives[0].(map[string]any)
	if d["Namespace"] != Namespace {
		return nil, nil, fmt.Errorf("Namespace %v, want %s", d["Namespace"], Namespace)
	}
	dimSets, ok := d["Dimensions"].([]any)
	if !ok || len(dimSets) == 0 {
		return nil, nil, fmt.Errorf("Dimensions %v: want a list of dimension sets", d["Dimensions"])
	}
	dims := map[string]string{}
	for _, set := range dimSets {
		names, ok := set.([]any)
		if !ok || len(names) == 0 || len(names) > 30 {
			return nil, nil, fmt.Errorf("dimension set %v", set)
		}
		for _, n := range names {
			name, _ := n.(string)
			v, ok := doc[name].(string)
			if !ok {
				return nil, nil, fmt.Errorf("dimension %v is not a top-level string member", n)
			}
			dims[name] = v
		}
	}
	metrics, ok := d["Metrics"].([]any)
	if !ok || len(metrics) == 0 || len(metrics) > 100 {
		return nil, nil, fmt.Errorf("Metrics %v: want 1 to 100 definitions", d["Metrics"])
	}
	values := map[string]any{}
	for _, m := range metrics {
		def, _ := m.(map[string]any)
		name, _ := def["Name"].(string)
		unit, _ := def["Unit"].(string)
		if name == "" || !validUnits[unit] {
			return nil, nil, fmt.Errorf("metric definition %v: needs a Name and a valid Unit", def)
		}
		if unit != string(unitOf(name)) {
			return nil, nil, fmt.Errorf("%s: unit %s, want %s", name, unit, unitOf(name))
		}
		switch v := doc[name].(type) {
		case json.Number:
			f, _ := v.Float64()
			values[name] = f
		case []any:
			if len(v) == 0 || len(v) > MaxValues {
				return nil, nil, fmt.Errorf("%s: %d values, want 1 to %d", name, len(v), MaxValues)
			}
			fs := make([]float64, len(v))
			for i, e := range v {
				n, ok := e.(json.Number)
				if !ok {
					return nil, nil, fmt.Errorf("%s[%d] = %v is not a number", name, i, e)
				}
				fs[i], _ = n.Float64()
			}
			values[name] = fs
		default:
			return nil, nil, fmt.Errorf("%s: top-level value %v is not a number or a list of numbers", name, doc[name])
		}
	}
	return values, dims, nil
}

// parseEMF is checkEMF for lines that must be valid.
func parseEMF(t *testing.T, line string) (map[string]any, map[string]string) {
	t.Helper()
	values, dims, err := checkEMF(line)
	if err != nil {
		t.Fatalf("%v\nline: %s", err, line)
	}
	return values, dims
}

// lines splits w's output into lines, each of which must end with a newline.
func lines(t *testing.T, out *bytes.Buffer) []string {
	t.Helper()
	s := out.String()
	if s == "" {
		return nil
	}
	if !strings.HasSuffix(s, "\n") {
		t.Fatalf("output %q does not end with a newline", s)
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

// writeCounter counts Write calls: each line must be one.
type writeCounter struct {
	bytes.Buffer
	writes int
}

func (w *writeCounter) Write(p []byte) (int, error) {
	w.writes++
	return w.Buffer.Write(p)
}

// TestEveryMetricIsDocumented: each metric a Sink can write is named in
// README.md's Metrics section with its unit.
func TestEveryMetricIsDocumented(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## Metrics\n")
	if !ok {
		t.Fatal(`README.md has no "## Metrics" section`)
	}
	if end := strings.Index(section, "\n## "); end >= 0 {
		section = section[:end]
	}
	for _, d := range All {
		row := ""
		for _, l := range strings.Split(section, "\n") {
			if strings.Contains(l, "`"+d.Name+"`") {
				row = l
				break
			}
		}
		if row == "" {
			t.Errorf("README.md ## Metrics does not document `%s`", d.Name)
		} else if !strings.Contains(row, string(d.Unit)) {
			t.Errorf("README.md ## Metrics: the line of `%s` does not give its unit %s: %q", d.Name, d.Unit, row)
		}
	}
	// And every name the sink writes is one of All (so documented).
	var out bytes.Buffer
	s := New(&out, "test", nil)
	for _, m := range ingestMetrics {
		s.Ingest(m.outcome)
	}
	s.Flush()
	s.Delivery(DeliveryBatch{1, 1, 1, 1, 1, []time.Duration{time.Second}, 1, 1, 1})
	written := map[string]bool{}
	for _, l := range lines(t, &out) {
		values, _ := parseEMF(t, l)
		for name := range values {
			written[name] = true
		}
	}
	if len(written) != len(All) {
		t.Errorf("the sink wrote %d metrics, All lists %d", len(written), len(All))
	}
	for name := range written {
		found := false
		for _, d := range All {
			found = found || d.Name == name
		}
		if !found {
			t.Errorf("the sink writes %s, which All does not list", name)
		}
	}
}

func TestCheckEMFRejectsInvalidLines(t *testing.T) {
	// The checker itself must be able to fail, or the tests built on it prove nothing.
	bad := []string{
		`{"Environment":"x","IngestAccepted":1}`,
		`{"_aws":{"Timestamp":"now","CloudWatchMetrics":[]}}`,
		`{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"HookSentry","Dimensions":[["Environment"]],"Metrics":[{"Name":"IngestAccepted","Unit":"Count"}]}]},"IngestAccepted":1}`,
		`{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"HookSentry","Dimensions":[["Environment"]],"Metrics":[{"Name":"IngestAccepted","Unit":"Count"}]}]},"Environment":"x","IngestAccepted":"1"}`,
		`{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"HookSentry","Dimensions":[["Environment"]],"Metrics":[{"Name":"IngestAccepted","Unit":"Things"}]}]},"Environment":"x","IngestAccepted":1}`,
	}
	for _, l := range bad {
		if _, _, err := checkEMF(l); err == nil {
			t.Errorf("checkEMF accepted %s", l)
		}
	}
}

func ExampleSink_Delivery() {
	var out bytes.Buffer
	s := New(&out, "prod", func() time.Time { return time.UnixMilli(1700000000000) })
	s.Delivery(DeliveryBatch{Attempts: 3, AttemptsFailed: 1, Delivered: 2, Latencies: []time.Duration{120 * time.Millisecond, 1500 * time.Millisecond}})
	fmt.Print(out.String())
	// Output:
	// {"DeliveryAttempts":3,"DeliveryAttemptsFailed":1,"DeliveryLatency":[120,1500],"Environment":"prod","EventsDelivered":2,"_aws":{"Timestamp":1700000000000,"CloudWatchMetrics":[{"Namespace":"HookSentry","Dimensions":[["Environment"]],"Metrics":[{"Name":"DeliveryAttempts","Unit":"Count"},{"Name":"DeliveryAttemptsFailed","Unit":"Count"},{"Name":"EventsDelivered","Unit":"Count"},{"Name":"DeliveryLatency","Unit":"Milliseconds"}]}]}}
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

package metrics

import (
	"reflect"
	"testing"
	"time"
)

// clock is a settable test clock.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func TestIngestFirstRequestWritesALine(t *testing.T) {
	var out writeCounter
	c := &clock{t0}
	s := New(&out, "prod", c.now)
	s.Ingest(IngestAccepted)
	ls := lines(t, &out.Buffer)
	if len(ls) != 1 || out.writes != 1 {
		t.Fatalf("%d lines in %d writes, want 1 line in 1 write: a lone request after an idle period is not held", len(ls), out.writes)
	}
	values, dims := parseEMF(t, ls[0])
	if !reflect.DeepEqual(values, map[string]any{"IngestAccepted": 1.0}) {
		t.Errorf("values %v", values)
	}
	if !reflect.DeepEqual(dims, map[string]string{"Environment": "prod"}) {
		t.Errorf("dimensions %v", dims)
	}
}

func TestIngestAggregatesUntilFlushInterval(t *testing.T) {
	var out writeCounter
	c := &clock{t0}
	s := New(&out, "prod", c.now)
	s.Ingest(IngestAccepted) // line 1
	out.Reset()
	out.writes = 0

	for _, o := range []IngestOutcome{IngestAccepted, IngestAccepted, IngestDuplicate, IngestUnverified, IngestRefused, IngestRefused, IngestRefused, IngestError} {
		c.t = c.t.Add(time.Second)
		s.Ingest(o)
	}
	if out.Len() != 0 {
		t.Fatalf("a line within %s of the last: %s", FlushInterval, out.String())
	}
	c.t = t0.Add(FlushInterval)
	s.Ingest(IngestAccepted)
	ls := lines(t, &out.Buffer)
	if len(ls) != 1 || out.writes != 1 {
		t.Fatalf("%d lines in %d writes after %s, want 1", len(ls), out.writes, FlushInterval)
	}
	values, _ := parseEMF(t, ls[0])
	want := map[string]any{"IngestAccepted": 3.0, "IngestDuplicates": 1.0, "IngestUnverified": 1.0, "IngestRefused": 3.0, "IngestErrors": 1.0}
	if !reflect.DeepEqual(values, want) {
		t.Errorf("values %v, want %v", values, want)
	}
	var ts struct {
		AWS struct{ Timestamp int64 } `json:"_aws"`
	}
	if err := jsonUnmarshal(ls[0], &ts); err != nil || ts.AWS.Timestamp != c.t.UnixMilli() {
		t.Errorf("Timestamp %d, want the time of writing %d (%v)", ts.AWS.Timestamp, c.t.UnixMilli(), err)
	}

	// The counts were reset: the next line holds only what came after.
	out.Reset()
	c.t = c.t.Add(FlushInterval)
	s.Ingest(IngestRefused)
	values, _ = parseEMF(t, lines(t, &out.Buffer)[0])
	if !reflect.DeepEqual(values, map[string]any{"IngestRefused": 1.0}) {
		t.Errorf("after a line, values %v: counts were not reset", values)
	}
}

func TestIngestWritesAfterAThousandRequests(t *testing.T) {
	var out writeCounter
	c := &clock{t0}
	s := New(&out, "prod", c.now)
	s.Ingest(IngestAccepted)
	out.Reset()
	for i := 0; i < 999; i++ {
		s.Ingest(IngestAccepted)
	}
	if out.Len() != 0 {
		t.Fatalf("a line after 999 requests within %s", FlushInterval)
	}
	s.Ingest(IngestDuplicate)
	ls := lines(t, &out.Buffer)
	if len(ls) != 1 {
		t.Fatalf("%d lines after 1,000 requests, want 1", len(ls))
	}
	values, _ := parseEMF(t, ls[0])
	if !reflect.DeepEqual(values, map[string]any{"IngestAccepted": 999.0, "IngestDuplicates": 1.0}) {
		t.Errorf("values %v", values)
	}
}

func TestFlush(t *testing.T) {
	var out writeCounter
	c := &clock{t0}
	s := New(&out, "local", c.now)
	s.Flush()
	if out.Len() != 0 {
		t.Fatalf("Flush with nothing counted wrote %q", out.String())
	}
	s.Ingest(IngestAccepted)
	s.Ingest(IngestUnverified)
	s.Flush()
	ls := lines(t, &out.Buffer)
	if len(ls) != 2 {
		t.Fatalf("%d lines, want 2 (the first request's, then the flushed one)", len(ls))
	}
	values, _ := parseEMF(t, ls[1])
	if !reflect.DeepEqual(values, map[string]any{"IngestUnverified": 1.0}) {
		t.Errorf("flushed values %v", values)
	}
	s.Flush()
	if got := len(lines(t, &out.Buffer)); got != 2 {
		t.Errorf("a second Flush wrote a line (%d lines)", got)
	}
}

func TestDeliveryLine(t *testing.T) {
	var out writeCounter
	c := &clock{t0}
	s := New(&out, "staging", c.now)
	s.Delivery(DeliveryBatch{})
	if out.Len() != 0 {
		t.Fatalf("an empty batch wrote %q", out.String())
	}
	s.Delivery(DeliveryBatch{
		Attempts: 5, AttemptsFailed: 2, Delivered: 2, Failed: 1, Held: 4,
		Latencies: []time.Duration{1500 * time.Microsecond, -time.Second},
		Suspended: 1, Alerts: 1,
	})
	ls := lines(t, &out.Buffer)
	if len(ls) != 1 || out.writes != 1 {
		t.Fatalf("%d lines in %d writes, want 1", len(ls), out.writes)
	}
	values, dims := parseEMF(t, ls[0])
	want := map[string]any{
		"DeliveryAttempts": 5.0, "DeliveryAttemptsFailed": 2.0, "EventsDelivered": 2.0, "EventsFailed": 1.0,
		"EventsHeld": 4.0, "DeliveryLatency": []float64{1.5, 0}, "DestinationsSuspended": 1.0, "AlertsSent": 1.0,
	}
	if !reflect.DeepEqual(values, want) {
		t.Errorf("values %v, want %v (zeros left out, a negative latency as 0)", values, want)
	}
	if dims["Environment"] != "staging" {
		t.Errorf("dimensions %v", dims)
	}
}

func TestDeliverySplitsLatencies(t *testing.T) {
	var out writeCounter
	s := New(&out, "prod", nil)
	lat := make([]time.Duration, 2*MaxValues+1)
	for i := range lat {
		lat[i] = time.Duration(i) * time.Millisecond
	}
	s.Delivery(DeliveryBatch{Attempts: len(lat), Delivered: len(lat), Latencies: lat})
	ls := lines(t, &out.Buffer)
	if len(ls) != 3 || out.writes != 3 {
		t.Fatalf("%d lines in %d writes for %d latencies, want 3", len(ls), out.writes, len(lat))
	}
	var all []float64
	for i, l := range ls {
		values, _ := parseEMF(t, l)
		if _, ok := values["EventsDelivered"]; ok != (i == 0) {
			t.Errorf("line %d: counts must be on the first line only: %v", i, values)
		}
		all = append(all, values["DeliveryLatency"].([]float64)...)
	}
	if len(all) != len(lat) || all[0] != 0 || all[len(all)-1] != float64(len(lat)-1) {
		t.Errorf("latencies %v: want every one, in order", all)
	}
}

func TestSinkIsSafeForConcurrentUse(t *testing.T) {
	var out writeCounter
	s := New(&out, "local", nil)
	done := make(chan struct{})
	for g := 0; g < 4; g++ {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := 0; i < 500; i++ {
				s.Ingest(IngestAccepted)
			}
		}()
	}
	for g := 0; g < 4; g++ {
		<-done
	}
	s.Flush()
	total := 0.0
	for _, l := range lines(t, &out.Buffer) {
		values, _ := parseEMF(t, l)
		total += values["IngestAccepted"].(float64)
	}
	if total != 2000 {
		t.Errorf("lines count %v requests, want 2000", total)
	}
}

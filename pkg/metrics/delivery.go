package metrics

import "time"

// DeliveryBatch is what one deliver invocation did.
type DeliveryBatch struct {
	Attempts       int             // delivery attempts made
	AttemptsFailed int             // of which failed (status, timeout, connection, ...)
	Delivered      int             // events delivered
	Failed         int             // events whose automatic attempts are spent
	Held           int             // events parked because their destination is not Active
	Latencies      []time.Duration // receipt → delivered, one per delivered event
	Suspended      int             // breaker openings this invocation decided
	Recovered      int             // breaker closings this invocation decided
	Alerts         int             // alert events published
}

// Delivery writes one EMF line for the batch (none when everything is
// zero). An invocation is already at most a few per second per concurrent
// function, so batches are not aggregated further. More than MaxValues
// latencies continue on further lines that carry only DeliveryLatency.
func (s *Sink) Delivery(b DeliveryBatch) {
	counts := []struct {
		name string
		n    int
	}{
		{MetricDeliveryAttempts, b.Attempts},
		{MetricDeliveryAttemptsFailed, b.AttemptsFailed},
		{MetricEventsDelivered, b.Delivered},
		{MetricEventsFailed, b.Failed},
		{MetricEventsHeld, b.Held},
		{MetricDestinationsSuspended, b.Suspended},
		{MetricDestinationsRecovered, b.Recovered},
		{MetricAlertsSent, b.Alerts},
	}
	var values []value
	for _, c := range counts {
		if c.n > 0 {
			values = append(values, value{c.name, c.n})
		}
	}
	latencies := milliseconds(b.Latencies)
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for {
		chunk := latencies[:min(len(latencies), MaxValues)]
		latencies = latencies[len(chunk):]
		if len(chunk) > 0 {
			values = append(values, value{MetricDeliveryLatency, chunk})
		}
		writeLine(s.w, s.environment, now, values)
		if len(latencies) == 0 {
			return
		}
		values = nil
	}
}

// milliseconds converts latencies to CloudWatch's unit; a negative one
// (clocks of two functions disagree) counts as 0 rather than corrupting
// the percentiles.
func milliseconds(ds []time.Duration) []float64 {
	out := make([]float64, len(ds))
	for i, d := range ds {
		out[i] = float64(max(d, 0)) / float64(time.Millisecond)
	}
	return out
}

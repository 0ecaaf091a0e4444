package testkit

import "github.com/hooksentry/hooksentry/pkg/event"

// SplitMessages separates what a test took off the delivery queue into
// events, drain requests and probe requests.
func SplitMessages(msgs []event.Message) (events, drains, probes []event.Message) {
	for _, m := range msgs {
		switch {
		case m.Drain:
			drains = append(drains, m)
		case m.Probe:
			probes = append(probes, m)
		default:
			events = append(events, m)
		}
	}
	return events, drains, probes
}

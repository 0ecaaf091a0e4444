package sweeper_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/hooksentry/hooksentry/pkg/alert"
	"github.com/hooksentry/hooksentry/pkg/delivery"
	"github.com/hooksentry/hooksentry/pkg/destination"
	"github.com/hooksentry/hooksentry/pkg/event"
	"github.com/hooksentry/hooksentry/pkg/sweeper"
)

type tenantDestinations []destination.Destination

func (d tenantDestinations) ListDestinations(context.Context, string) ([]destination.Destination, error) {
	return d, nil
}

type publishedAlerts struct {
	mu   sync.Mutex
	msgs []event.Message
}

func (p *publishedAlerts) PublishBatch(_ context.Context, msgs []event.Message) ([]int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.msgs = append(p.msgs, msgs...)
	return nil, nil
}

// TestSweepAlertsForEventsTheDLQGaveUpOn: an event stored Failed after its
// redrives raises one event.failed for each subscriber; an alert event
// given up on raises none.
func TestSweepAlertsForEventsTheDLQGaveUpOn(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	poison := msg("dest-1", 1)
	poison.Redrives = sweeper.MaxRedrives
	deadAlert := msg("watcher", 2)
	deadAlert.Redrives, deadAlert.Alert = sweeper.MaxRedrives, true
	for _, m := range []event.Message{poison, deadAlert} {
		body, err := m.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(e.dlqURL), MessageBody: aws.String(body)}); err != nil {
			t.Fatal(err)
		}
	}
	pub := &publishedAlerts{}
	s := e.sweeper()
	s.Alerts = &delivery.Alerter{
		Subscribers: tenantDestinations{
			{ID: "dest-1", TenantID: "tenant-1", Alerts: alert.Types()},
			{ID: "watcher", TenantID: "tenant-1", Alerts: []alert.Type{alert.EventFailed}},
		},
		Queue: pub, Log: slog.New(slog.DiscardHandler),
	}
	r, err := s.Sweep(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if r.DLQFailed != 2 {
		t.Fatalf("report %+v: want both stored Failed", r)
	}
	if len(pub.msgs) != 1 {
		t.Fatalf("published %d alerts, want 1 (none for the alert event): %+v", len(pub.msgs), pub.msgs)
	}
	m := pub.msgs[0]
	var body map[string]any
	if err := json.Unmarshal(m.Body, &body); err != nil {
		t.Fatal(err)
	}
	if m.DestinationID != "watcher" || !m.Alert || body["type"] != "event.failed" || body["eventId"] != poison.EventID || body["destinationId"] != "dest-1" {
		t.Errorf("alert to %s: %v; want event.failed about %s to the watcher", m.DestinationID, body, poison.EventID)
	}
}

package queue

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/hooksentry/hooksentry/pkg/event"
)

// fakeSQS records what would have been sent.
type fakeSQS struct {
	sent   []*sqs.SendMessageInput
	batch  []*sqs.SendMessageBatchInput
	failID string // a batch entry id to report as failed
	err    error
}

func (f *fakeSQS) SendMessage(_ context.Context, in *sqs.SendMessageInput, _ ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	f.sent = append(f.sent, in)
	return &sqs.SendMessageOutput{}, f.err
}

func (f *fakeSQS) SendMessageBatch(_ context.Context, in *sqs.SendMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	f.batch = append(f.batch, in)
	out := &sqs.SendMessageBatchOutput{}
	for _, e := range in.Entries {
		if aws.ToString(e.Id) == f.failID {
			out.Failed = append(out.Failed, types.BatchResultErrorEntry{Id: e.Id, Code: aws.String("InternalError"), Message: aws.String("boom")})
		}
	}
	return out, f.err
}

type fakeEvents struct {
	stored []event.Message
	status []string
}

func (f *fakeEvents) PutEvent(_ context.Context, m event.Message, status string, _ time.Time) error {
	f.stored, f.status = append(f.stored, m), append(f.status, status)
	return nil
}

var now = time.Date(2026, 7, 3, 14, 32, 0, 0, time.UTC)

func TestSendDelaysUntilNotBeforeAtMostFifteenMinutes(t *testing.T) {
	tests := []struct {
		name      string
		notBefore time.Time
		want      int32
	}{
		{"no delay", time.Time{}, 0},
		{"past", now.Add(-time.Minute), 0},
		{"10s", now.Add(10 * time.Second), 10},
		{"rounded up", now.Add(1500 * time.Millisecond), 2},
		{"exactly 15 minutes", now.Add(15 * time.Minute), 900},
		// Longer delays are chained: SQS hides the message for 15 minutes,
		// the worker re-sends it with the rest (see delivery.Worker).
		{"one hour", now.Add(time.Hour), 900},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeSQS{}
			q := &Queue{SQS: f, URL: "https://sqs/q", Now: func() time.Time { return now }}
			m := event.Message{EventID: "e1", DestinationID: "d1"}
			if !tt.notBefore.IsZero() {
				m.NotBefore = tt.notBefore.UnixMilli()
			}
			if err := q.Send(context.Background(), m); err != nil {
				t.Fatal(err)
			}
			if got := f.sent[0].DelaySeconds; got != tt.want {
				t.Errorf("DelaySeconds = %d, want %d", got, tt.want)
			}
			back, err := event.Decode(aws.ToString(f.sent[0].MessageBody))
			if err != nil || back.NotBefore != m.NotBefore {
				t.Errorf("message NotBefore = %d (%v), want %d kept for chaining", back.NotBefore, err, m.NotBefore)
			}
		})
	}
}

// The publisher's stored-body protocol over the real queue adapter.

func TestPublishStoresBodiesTooLargeForAMessage(t *testing.T) {
	f, ev := &fakeSQS{}, &fakeEvents{}
	q := &event.Publisher{Queue: &Queue{SQS: f, URL: "https://sqs/q", Now: func() time.Time { return now }}, Bodies: ev, Now: func() time.Time { return now }}
	small := event.Message{EventID: "small", DestinationID: "d", Body: []byte("hi"), Headers: [][2]string{{"X", "1"}}}
	large := event.Message{EventID: "large", DestinationID: "d", Body: []byte(strings.Repeat("x", event.MaxBodySize)), ContentType: "text/plain"}
	for _, m := range []event.Message{small, large} {
		if err := q.Publish(context.Background(), m); err != nil {
			t.Fatalf("Publish %s: %v", m.EventID, err)
		}
	}
	if len(ev.stored) != 1 || ev.stored[0].EventID != "large" || ev.status[0] != "Pending" || len(ev.stored[0].Body) != event.MaxBodySize {
		t.Fatalf("stored %d events, want only the large one, Pending, with its body", len(ev.stored))
	}
	if len(f.sent) != 2 {
		t.Fatalf("sent %d messages, want 2", len(f.sent))
	}
	inline, _ := event.Decode(aws.ToString(f.sent[0].MessageBody))
	ref, _ := event.Decode(aws.ToString(f.sent[1].MessageBody))
	if inline.Stored || string(inline.Body) != "hi" {
		t.Errorf("small message = %+v, want the body inline", inline)
	}
	if !ref.Stored || ref.Body != nil || ref.ContentType != "" || len(aws.ToString(f.sent[1].MessageBody)) > 1024 {
		t.Errorf("large message = %d bytes, stored %v; want a small reference", len(aws.ToString(f.sent[1].MessageBody)), ref.Stored)
	}
}

func TestPublishWithoutBodyStoreRefusesLargeBodies(t *testing.T) {
	f := &fakeSQS{}
	q := &Queue{SQS: f, URL: "https://sqs/q"}
	m := event.Message{EventID: "large", DestinationID: "d", Body: []byte(strings.Repeat("x", event.MaxBodySize))}
	if err := q.Send(context.Background(), m); !errors.Is(err, event.ErrTooLarge) {
		t.Errorf("Send of a message too large: got %v, want ErrTooLarge", err)
	}
	if err := (&event.Publisher{Queue: q}).Publish(context.Background(), m); err == nil {
		t.Fatal("Publish accepted a body it cannot make durable")
	}
	if len(f.sent) != 0 {
		t.Errorf("sent %d messages, want none", len(f.sent))
	}
}

func TestPublishBatchGroupsByCountAndSize(t *testing.T) {
	f, ev := &fakeSQS{failID: "11"}, &fakeEvents{}
	sq := &Queue{SQS: f, URL: "https://sqs/q"}
	q := &event.Publisher{Queue: sq, Bodies: ev}
	msgs := make([]event.Message, 23)
	for i := range msgs {
		msgs[i] = event.Message{EventID: "e", DestinationID: "d"}
	}
	// Two 130 KiB bodies cannot share a request; a 250 KiB body does not
	// fit a message at all.
	msgs[20].Body = []byte(strings.Repeat("a", 130<<10))
	msgs[21].Body = []byte(strings.Repeat("b", 130<<10))
	msgs[22].Body = []byte(strings.Repeat("c", 250<<10))
	failed, err := q.PublishBatch(context.Background(), msgs)
	var sizes []int
	for _, b := range f.batch {
		total := 0
		for _, e := range b.Entries {
			total += len(aws.ToString(e.MessageBody))
		}
		if len(b.Entries) > 10 || total > maxBatchPayload {
			t.Errorf("batch of %d entries, %d bytes: over SQS limits", len(b.Entries), total)
		}
		sizes = append(sizes, len(b.Entries))
	}
	if got, want := fmt.Sprint(sizes), "[10 10 1 1]"; got != want {
		t.Errorf("batch sizes = %s, want %s", got, want)
	}
	if len(ev.stored) != 1 || len(f.sent) != 1 {
		t.Errorf("stored %d and sent %d singly, want the 250 KiB event stored and referenced", len(ev.stored), len(f.sent))
	}
	if len(failed) != 1 || failed[0] != 11 || err == nil {
		t.Errorf("failed = %v, err = %v; want [11] and an error", failed, err)
	}

	f = &fakeSQS{err: errors.New("unavailable")}
	sq.SQS = f
	failed, err = q.PublishBatch(context.Background(), msgs[:4])
	if len(failed) != 4 || err == nil {
		t.Errorf("on a request error failed = %v, err = %v; want all 4 and an error", failed, err)
	}
}

// TestPublishKeepsHeadroomForRetries: an event that would only just fit is
// stored and referenced, because its retry (attempt count, due time) or a
// re-drive from the DLQ would no longer fit in a message.
func TestPublishKeepsHeadroomForRetries(t *testing.T) {
	f, ev := &fakeSQS{}, &fakeEvents{}
	q := &Queue{SQS: f, URL: "https://sqs/q"}
	p := &event.Publisher{Queue: q, Bodies: ev}
	m := event.Message{Version: 1, EventID: "e", DestinationID: "d", TenantID: "t", ReceivedAt: 1, Body: []byte("x")}
	enc, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	m.Body = []byte(strings.Repeat("x", event.MaxInlineMessage-10-(len(enc)-1)))
	if enc, _ = m.Encode(); len(enc) != event.MaxInlineMessage-10 {
		t.Fatalf("test message: %d bytes encoded, want %d", len(enc), event.MaxInlineMessage-10)
	}
	retried := m
	retried.Attempts, retried.NotBefore, retried.Redrives = 9, 1767225600123, 3
	if err := q.Send(context.Background(), retried); !errors.Is(err, event.ErrTooLarge) {
		t.Fatalf("the retried message inline: got %v, want ErrTooLarge (the case this guards)", err)
	}
	if err := p.Publish(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if len(ev.stored) != 1 || len(f.sent) != 1 {
		t.Fatalf("stored %d, sent %d; want the body stored and a reference sent", len(ev.stored), len(f.sent))
	}
	if ref, _ := event.Decode(aws.ToString(f.sent[0].MessageBody)); !ref.Stored {
		t.Errorf("sent %+v, want a reference", ref)
	}
}

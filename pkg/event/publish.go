package event

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// ErrTooLarge is returned by a Sender for a message that does not fit in a
// queue message (more than MaxInlineMessage encoded).
var ErrTooLarge = errors.New("message too large for the queue")

// Sender is the delivery queue (pkg/queue).
type Sender interface {
	// Send enqueues one message, delayed until its NotBefore; ErrTooLarge
	// if it does not fit.
	Send(ctx context.Context, m Message) error
	// SendEncoded is Send for a message already encoded as body.
	SendEncoded(ctx context.Context, m Message, body string) error
	// SendBatch enqueues messages, already encoded in bodies, with as few
	// requests as the queue allows and returns one error per message, nil
	// for those sent.
	SendBatch(ctx context.Context, msgs []Message, bodies []string) []error
}

// BodyStore keeps the events whose bodies do not fit in a message (pkg/store).
type BodyStore interface {
	PutEvent(ctx context.Context, m Message, status string, due time.Time) error
}

// Publisher makes events durable on the delivery queue, which is where an
// event lives until it is delivered: the message carries the whole event,
// or, when that does not fit, the body is stored Pending in the table first
// and the message carries its Reference. This is the stored-body protocol,
// written once; the worker loads the body back with WithStored and the
// sweeper re-drives a Pending event whose reference was lost.
type Publisher struct {
	Queue  Sender
	Bodies BodyStore // nil where only small or control messages are sent
	Now    func() time.Time
}

func (p *Publisher) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

// publishHeadroom is kept free below MaxInlineMessage when an event is
// first published inline: every later send of it (a retry adds its attempt
// count and due time, a re-drive from the DLQ its count) must still fit.
const publishHeadroom = 1 << 10

// encodeInline returns m encoded, and whether it can travel inline for
// the rest of its life.
func encodeInline(m Message) (string, bool, error) {
	body, err := m.Encode()
	if err != nil {
		return "", false, err
	}
	return body, len(body) <= MaxInlineMessage-publishHeadroom, nil
}

// Publish makes m durable: when it returns nil, m will be delivered.
func (p *Publisher) Publish(ctx context.Context, m Message) error {
	body, inline, err := encodeInline(m)
	switch {
	case err != nil:
		return err
	case !inline:
		return p.publishStored(ctx, m)
	}
	return p.Queue.SendEncoded(ctx, m, body)
}

func (p *Publisher) publishStored(ctx context.Context, m Message) error {
	if p.Bodies == nil {
		return fmt.Errorf("event %s is too large for a message and no body store is configured", m.EventID)
	}
	if err := p.Bodies.PutEvent(ctx, m, StatusPending, p.now().Add(StoredGrace)); err != nil {
		return err
	}
	return p.Queue.Send(ctx, m.Reference())
}

// Send enqueues a message that always fits: a control message, a
// reference, or an event on its way again.
func (p *Publisher) Send(ctx context.Context, m Message) error {
	return p.Queue.Send(ctx, m)
}

// PublishBatch publishes many messages with few requests and returns the
// indexes of those it could not make durable, with the first error.
func (p *Publisher) PublishBatch(ctx context.Context, msgs []Message) (failed []int, err error) {
	note := func(i int, e error) {
		if e != nil {
			failed = append(failed, i)
			if err == nil {
				err = e
			}
		}
	}
	var batch []Message
	var bodies []string
	var index []int // batch position → msgs position
	for i, m := range msgs {
		body, inline, e := encodeInline(m)
		switch {
		case e != nil:
			note(i, e)
		case !inline:
			note(i, p.publishStored(ctx, m))
		default:
			batch, bodies, index = append(batch, m), append(bodies, body), append(index, i)
		}
	}
	for j, e := range p.Queue.SendBatch(ctx, batch, bodies) {
		note(index[j], e)
	}
	slices.Sort(failed)
	return failed, err
}

// Package event owns the webhook event as it travels through HookSentry:
// the queue message that carries it (and its retry bookkeeping), which
// inbound headers are forwarded, and the size limits. Ingest creates
// messages, the delivery worker consumes and re-schedules them, the sweeper
// re-drives them.
package event

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
)

// MaxBodySize is the largest accepted webhook body (CONTRACT §2).
const MaxBodySize = 256 << 10

// MaxInlineMessage is the largest message that carries its body inline.
// SQS accepts 256 KiB; larger events are stored in DynamoDB and the message
// carries a reference.
const MaxInlineMessage = 240 << 10

// Message is one event on its way to a destination: the SQS message body.
// Field names are short because every byte is paid for at every hop.
type Message struct {
	Version       int         `json:"v"`
	EventID       string      `json:"id"`
	DestinationID string      `json:"d"`
	TenantID      string      `json:"t"`
	ReceivedAt    int64       `json:"r"` // Unix ms
	ContentType   string      `json:"ct,omitempty"`
	Headers       [][2]string `json:"h,omitempty"`     // forwarded headers, in arrival order
	Body          []byte      `json:"b,omitempty"`     // nil when Stored
	Stored        bool        `json:"s,omitempty"`     // body and headers live in the table
	Attempts      int         `json:"a,omitempty"`     // failed attempts so far
	NotBefore     int64       `json:"nb,omitempty"`    // Unix ms; chained when beyond SQS's 15-minute delay
	Redrives      int         `json:"rd,omitempty"`    // times the sweeper moved it back from the DLQ
	Drain         bool        `json:"drain,omitempty"` // control message: re-drive held events of DestinationID
}

// Encode returns the JSON message body.
func (m Message) Encode() (string, error) {
	if m.Version == 0 {
		m.Version = 1
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "", fmt.Errorf("encode message %s: %w", m.EventID, err)
	}
	return string(b), nil
}

// Decode parses a message body.
func Decode(body string) (Message, error) {
	var m Message
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		return Message{}, fmt.Errorf("decode message: %w", err)
	}
	if m.Version != 1 || m.DestinationID == "" || (!m.Drain && m.EventID == "") {
		return Message{}, errors.New("decode message: missing fields or unknown version")
	}
	return m, nil
}

// Due reports when the message may next be attempted.
func (m Message) Due() time.Time { return time.UnixMilli(m.NotBefore) }

// dropped are never forwarded: hop-by-hop headers, headers HTTP sets per
// connection, credentials meant for HookSentry, proxy metadata, and the
// headers HookSentry sets itself (CONTRACT §3).
var dropped = map[string]bool{
	"connection": true, "keep-alive": true, "proxy-connection": true, "proxy-authenticate": true,
	"proxy-authorization": true, "te": true, "trailer": true, "transfer-encoding": true, "upgrade": true,
	"host": true, "content-length": true, "authorization": true, "cookie": true,
	"expect": true, "forwarded": true, "via": true,
	"webhook-id": true, "webhook-timestamp": true,
}

// Forwardable returns the headers of an inbound webhook that go to the
// destination, with values exactly as received (never split on commas).
// Content-Type travels separately.
func Forwardable(h http.Header) [][2]string {
	var out [][2]string
	for name, values := range h {
		lower := strings.ToLower(name)
		if dropped[lower] || lower == "content-type" ||
			strings.HasPrefix(lower, "x-forwarded-") || strings.HasPrefix(lower, "x-amzn-") || strings.HasPrefix(lower, "x-amz-") {
			continue
		}
		for _, v := range values {
			out = append(out, [2]string{name, v})
		}
	}
	// Stable: the values of a repeated header keep their arrival order
	// (sort.Slice reorders equal keys once there are more than 12 entries).
	sort.SliceStable(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

// Held is an event parked in the table while its destination is not
// Active; SortKey addresses it within the destination's partition.
type Held struct {
	SortKey string
	Message Message
}

// Package event owns the webhook event as it travels through HookSentry:
// the queue message that carries it (and its retry bookkeeping), the
// control messages (drain and probe requests), the stored-body protocol for
// events too large for a message (Publisher, Reference, WithStored), which
// headers are reserved (headers.go: never forwarded from the sender, and
// which ones HookSentry sets itself), and the size limits. Ingest publishes
// messages, the delivery worker consumes and re-schedules them, the sweeper
// re-drives them.
package event

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
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
	Headers       [][2]string `json:"h,omitempty"`     // forwarded headers, sorted by name; a repeated header's values in arrival order
	Body          []byte      `json:"b,omitempty"`     // nil when Stored
	Stored        bool        `json:"s,omitempty"`     // body and headers live in the table
	Attempts      int         `json:"a,omitempty"`     // failed attempts so far
	NotBefore     int64       `json:"nb,omitempty"`    // Unix ms; chained when beyond SQS's 15-minute delay
	Redrives      int         `json:"rd,omitempty"`    // times the sweeper moved it back from the DLQ
	Drain         bool        `json:"drain,omitempty"` // control message: re-drive held events of DestinationID
	DrainChain    string      `json:"dc,omitempty"`    // the drain's chain of rounds, once one has started
	Probe         bool        `json:"probe,omitempty"` // control message: probe suspended DestinationID with a held event
	Recorded      bool        `json:"rc,omitempty"`    // its history record exists (an earlier attempt, hold or replay wrote it)
	Manual        bool        `json:"mn,omitempty"`    // the next attempt is the first of a manual replay
	Prior         int         `json:"pa,omitempty"`    // attempts made before the current replay; history numbers on from here
	Verified      string      `json:"vf,omitempty"`    // the verification scheme the ingest request passed (HookSentry-Verified)
	Alert         bool        `json:"al,omitempty"`    // an operational event (pkg/alert): its failure raises no event.failed alert

	RawBody bool `json:"rb,omitempty"` // wire framing only: the body follows the header (Encode sets, Decode clears)
}

// Encode returns the message body. A body that SQS can carry as text goes
// raw after the JSON header and a newline (JSON never contains a raw
// newline), so neither side pays for base64 or JSON string escaping of the
// payload; any other body is base64 inside the JSON.
func (m Message) Encode() (string, error) {
	if m.Version == 0 {
		m.Version = 1
	}
	raw := len(m.Body) > 0 && sqsText(m.Body)
	body := m.Body
	if raw {
		m.Body, m.RawBody = nil, true
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "", fmt.Errorf("encode message %s: %w", m.EventID, err)
	}
	if !raw {
		return string(b), nil
	}
	var sb strings.Builder
	sb.Grow(len(b) + 1 + len(body))
	sb.Write(b)
	sb.WriteByte('\n')
	sb.Write(body)
	return sb.String(), nil
}

// Decode parses a message body.
func Decode(body string) (Message, error) {
	header, payload, framed := strings.Cut(body, "\n")
	var m Message
	if err := json.Unmarshal([]byte(header), &m); err != nil {
		return Message{}, fmt.Errorf("decode message: %w", err)
	}
	if m.Version != 1 || m.DestinationID == "" || (!m.Control() && m.EventID == "") {
		return Message{}, errors.New("decode message: missing fields or unknown version")
	}
	switch {
	case m.RawBody && framed:
		m.Body, m.RawBody = []byte(payload), false
	case m.RawBody || (framed && strings.TrimSpace(payload) != ""):
		return Message{}, errors.New("decode message: body framing does not match its header")
	}
	return m, nil
}

// sqsText reports whether b is valid UTF-8 made only of the characters SQS
// accepts in a message body (tab, newline, carriage return, and U+0020
// upwards except surrogates and U+FFFE/U+FFFF).
func sqsText(b []byte) bool {
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError || r == 0xFFFE || r == 0xFFFF {
			return false
		}
		i += size
	}
	return true
}

// Control reports whether m is a control message (drain or probe) rather
// than an event.
func (m Message) Control() bool { return m.Drain || m.Probe }

// DrainRequest asks a worker to re-drive the held events of an Active
// destination, a page at a time.
func DrainRequest(destinationID string) Message {
	return Message{Version: 1, DestinationID: destinationID, Drain: true}
}

// NextDrainRound asks for the next round of the drain chain chain.
func NextDrainRound(destinationID, chain string) Message {
	m := DrainRequest(destinationID)
	m.DrainChain = chain
	return m
}

// ProbeRequest asks a worker to probe a Suspended destination with its
// oldest held event once at has passed (the end of the breaker's cooldown).
func ProbeRequest(destinationID string, at time.Time) Message {
	return Message{Version: 1, DestinationID: destinationID, Probe: true, NotBefore: at.UnixMilli()}
}

// Reference is the message that stands for m once its body and headers are
// stored in the table (the body is too large for a queue message).
func (m Message) Reference() Message {
	m.Body, m.Headers, m.ContentType, m.Stored = nil, nil, "", true
	return m
}

// WithStored returns the stored event full, carrying the retry bookkeeping
// of its reference m (the message is newer than the stored copy).
func (m Message) WithStored(full Message) Message {
	full.Attempts, full.Redrives, full.NotBefore, full.Stored = max(m.Attempts, full.Attempts), m.Redrives, m.NotBefore, false
	full.Recorded, full.Manual, full.Prior = m.Recorded || full.Recorded, m.Manual, max(m.Prior, full.Prior)
	return full
}

// AttemptNumber is the number of m's next attempt, counting on across
// retries and replays (HookSentry-Attempt, and the event's history).
func (m Message) AttemptNumber() int { return m.Prior + m.Attempts + 1 }

// Statuses of an event stored in the table (its body was too large for a
// message, or its attempts are spent).
const (
	StatusPending = "Pending" // in flight; its message carries a reference
	StatusFailed  = "Failed"  // every attempt failed; kept for inspection and replay
)

// StoredGrace is how long after its due time a pending stored event may
// wait for its message before the sweeper re-drives it.
const StoredGrace = 5 * time.Minute

// Held is an event parked in the table while its destination is not
// Active; SortKey addresses it within the destination's partition.
type Held struct {
	SortKey string
	Message Message
}

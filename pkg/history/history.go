// Package history owns what HookSentry remembers of every event (CONTRACT
// §5): its record (status, timestamps, body and forwarded headers) and its
// attempts, how the deliver function changes a record (Change), and the
// read and replay rules of the events API (Service). The records live in
// the table (pkg/store implements Store); see docs/DATA_MODEL.md for their
// keys and docs/DELIVERY.md for why the deliver function, not ingest, writes
// them.
package history

import (
	"context"
	"time"

	"github.com/hooksentry/hooksentry/pkg/event"
)

// Status of an event as the events API shows it.
type Status string

const (
	Pending   Status = "Pending"   // waiting for an attempt or a retry
	Held      Status = "Held"      // its destination is not Active
	Delivered Status = "Delivered" // an attempt succeeded
	Failed    Status = "Failed"    // its automatic attempts are spent
)

// Statuses lists every status in the order the stats buckets show them.
var Statuses = []Status{Pending, Held, Delivered, Failed}

// Trigger says what started an attempt.
type Trigger string

const (
	Automatic Trigger = "Automatic"
	Manual    Trigger = "Manual" // the first attempt of a replay
)

// Error classes of a failed attempt (CONTRACT §5).
const (
	ErrTimeout    = "timeout"
	ErrConnection = "connection"
	ErrTLS        = "tls"
	ErrBlocked    = "blocked" // the SSRF guard refused the address
	ErrAuth       = "auth"    // no access token could be obtained
	ErrStatus     = "status"  // the destination answered with a non-2xx status
)

// MaxResponseBody is how much of the answer to a failed attempt is kept.
const MaxResponseBody = 1024

// Attempt is one delivery attempt.
type Attempt struct {
	Number       int
	StartedAt    time.Time
	Duration     time.Duration
	Trigger      Trigger
	Delivered    bool   // outcome: Delivered, else Failed
	StatusCode   int    // 0 when no response arrived
	Error        string // one of the Err classes; empty when delivered
	ResponseBody []byte // at most MaxResponseBody bytes of a failed attempt's answer
}

// Record is an event as the events API shows it.
type Record struct {
	EventID       string
	DestinationID string
	TenantID      string
	Status        Status
	AttemptCount  int
	ReceivedAt    time.Time
	LastAttemptAt time.Time // zero: none
	NextAttemptAt time.Time // zero: none
	DeliveredAt   time.Time // zero: not delivered
	ExpiresAt     time.Time // hidden from then on, removed by TTL later
	ReplayedAt    time.Time // the last replay's mark; zero: never replayed

	// Detail: filled by Get, empty in lists.
	ContentType string
	Headers     [][2]string // forwarded headers, as in event.Message
	Body        []byte
	Verified    string    // as in event.Message: a replay is delivered as verified as the original
	Alert       bool      // as in event.Message: a replayed alert that fails raises no alert
	Attempts    []Attempt // oldest first
}

// Change is what one settled event does to its record: the deliver
// function sends a batch of them at once.
type Change struct {
	// Event is the event in full (body and headers), with the attempt
	// counters as they were before Attempt. Its Recorded flag says whether
	// the record exists already (then only its status and attempts change)
	// or is created now (then with body and headers).
	Event   event.Message
	Status  Status
	Attempt *Attempt // nil when the event was not attempted (held, re-queued)
	// MayExist says that a creation (Event.Recorded false) may find the
	// record there already: the message was delivered before (SQS
	// delivers at least once). Such a creation never overwrites a record;
	// it changes it like an update instead.
	MayExist      bool
	NextAttemptAt time.Time // Pending with a retry due
	DeliveredAt   time.Time // Delivered
}

// Recorder is the deliver function's port: it makes a batch of changes in
// as few requests as it can. Changes of records that expired meanwhile are
// skipped, never re-create a record without its body.
type Recorder interface {
	Record(ctx context.Context, changes []Change) error
}

// Query selects records of one destination, in receipt order.
type Query struct {
	DestinationID string
	Status        Status    // empty: any
	From, To      time.Time // inclusive bounds on ReceivedAt; zero: open
	Descending    bool
	// Offset and Limit page the matches; the store reads at most
	// Offset+Limit matches, and counts matches up to CountLimit.
	Offset, Limit int
	CountLimit    int
	Now           time.Time // records that expired by then are hidden
	// NotReplayedSince leaves out records replayed at or after it (zero:
	// none left out), so that calling a bulk replay again continues
	// rather than replaying the same events again.
	NotReplayedSince time.Time
}

// Page is one page of matches and their count.
type Page struct {
	Items       []Record // summaries: no body, headers or attempts
	Total       int      // exact up to Query.CountLimit
	TotalCapped bool     // there are more than CountLimit matches
}

// StaleReplay is how long a replay's mark may stand without an attempt
// before the event may be replayed again: a replay whose function died
// between marking the event and sending its message must not leave the
// event Pending for good.
const StaleReplay = 15 * time.Minute

// Store is the events API's port to the table.
type Store interface {
	// GetRecord reads an event's record with body, headers and attempts;
	// found is false when there is none or it expired by now.
	GetRecord(ctx context.Context, eventID string, now time.Time) (r Record, found bool, err error)
	// ListRecords pages the records that match q.
	ListRecords(ctx context.Context, q Query) (Page, error)
	// CountByHour counts the records of destinationID received in
	// [from, to] by the UTC hour of their receipt and their status.
	CountByHour(ctx context.Context, destinationID string, from, to, now time.Time) (map[time.Time]map[Status]int, error)
	// MarkReplayed makes a record Pending again for a replay and marks it
	// replayed at now, unless it is gone (apperror NotFound) or Pending
	// (apperror Conflict); a record left Pending by a replay that never
	// sent its message (no attempt since its mark, StaleReplay ago) may be
	// replayed again.
	MarkReplayed(ctx context.Context, eventID string, now time.Time) error
	// UnmarkReplayed gives a record back the status it had, after a replay
	// whose message could not be sent.
	UnmarkReplayed(ctx context.Context, eventID string, status Status) error
}

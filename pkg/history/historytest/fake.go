// Package historytest holds history's test doubles and the conformance
// suite of its store ports: Fake, an in-memory history.Recorder and
// history.Store, and Run, which holds any implementation of both (the
// Fake, and pkg/store over dynalite) to the same behaviour, so tests
// written against the Fake say something about the real table.
package historytest

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/hooksentry/hooksentry/pkg/apperror"
	"github.com/hooksentry/hooksentry/pkg/event"
	"github.com/hooksentry/hooksentry/pkg/history"
)

// Store is what Run tests: both ports of one implementation.
type Store interface {
	history.Recorder
	history.Store
}

// DefaultRetention is the Fake's retention when Fake.Retention is zero
// (HOOKSENTRY_EVENT_RETENTION's default).
const DefaultRetention = 168 * time.Hour

// Fake is an in-memory Store with the semantics of pkg/store (checked by
// Run), recording the changes a test asserts on.
type Fake struct {
	// Retention is how long records are kept after their receipt.
	Retention time.Duration
	// RecordErr, when set, makes Record fail with it and change nothing.
	RecordErr error

	mu        sync.Mutex
	records   map[string]history.Record // by event id; no response bodies
	responses map[string]map[int][]byte // event id → attempt number → answer
	changes   []history.Change
}

var _ Store = (*Fake)(nil)

// NewFake returns an empty Fake.
func NewFake() *Fake {
	return &Fake{records: map[string]history.Record{}, responses: map[string]map[int][]byte{}}
}

// Changes returns every change Record was given, in order.
func (f *Fake) Changes() []history.Change {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.changes)
}

// Add stores r as it is (with the response bodies of its attempts), for a
// test that needs a record without going through Record.
func (f *Fake) Add(r history.Record) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, a := range r.Attempts {
		f.setResponse(r.EventID, a)
	}
	f.records[r.EventID] = copyRecord(r, false)
}

func (f *Fake) retention() time.Duration {
	if f.Retention > 0 {
		return f.Retention
	}
	return DefaultRetention
}

// Record applies changes as pkg/store does: first every creation (the last
// one of an event wins; one that may repeat and finds the record changes
// it instead), then every change of an existing record in order, skipping
// those of missing records and attempts a record has already.
func (f *Fake) Record(_ context.Context, changes []history.Change) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.RecordErr != nil {
		return f.RecordErr
	}
	f.changes = append(f.changes, changes...)
	var updates []history.Change
	for _, c := range changes {
		if _, ok := event.ParseID(c.Event.EventID); !ok {
			continue
		}
		if c.Event.Recorded {
			updates = append(updates, c)
			continue
		}
		if _, exists := f.records[c.Event.EventID]; exists && c.MayExist {
			f.update(c) // a creation that may repeat never overwrites
			continue
		}
		m := c.Event
		received := time.UnixMilli(m.ReceivedAt).UTC()
		r := history.Record{
			EventID: m.EventID, DestinationID: m.DestinationID, TenantID: m.TenantID,
			ReceivedAt: received, ExpiresAt: expiry(received, f.retention()),
			ContentType: m.ContentType, Headers: slices.Clone(m.Headers), Body: slices.Clone(m.Body),
			Verified: m.Verified, Alert: m.Alert,
		}
		r.AttemptCount = m.Prior + m.Attempts
		apply(&r, c)
		if c.Attempt != nil {
			r.AttemptCount = c.Attempt.Number
		}
		f.records[m.EventID] = copyRecord(r, false)
		if c.Attempt != nil {
			f.setResponse(m.EventID, *c.Attempt)
		}
	}
	for _, c := range updates {
		f.update(c)
	}
	return nil
}

// update changes an existing record as pkg/store does: an attempt counts
// once, and only if it started after the record's last one (the same
// change applied twice is skipped; an attempt made again is recorded).
func (f *Fake) update(c history.Change) {
	r, ok := f.records[c.Event.EventID]
	if !ok || (c.Attempt != nil && !r.LastAttemptAt.IsZero() && !ms(c.Attempt.StartedAt).After(r.LastAttemptAt)) {
		return
	}
	r.Attempts = slices.Clone(r.Attempts)
	if c.Attempt != nil {
		r.AttemptCount++
	}
	apply(&r, c)
	f.records[c.Event.EventID] = r
	if c.Attempt != nil {
		f.setResponse(c.Event.EventID, *c.Attempt)
	}
}

// apply sets what a change sets on a record, but its attempt count.
func apply(r *history.Record, c history.Change) {
	r.Status = c.Status
	if a := c.Attempt; a != nil {
		r.LastAttemptAt = ms(a.StartedAt)
		a := *a
		a.StartedAt, a.Duration, a.ResponseBody = ms(a.StartedAt), a.Duration.Truncate(time.Millisecond), nil
		r.Attempts = append(r.Attempts, a)
	}
	r.NextAttemptAt = time.Time{}
	if c.Status == history.Pending {
		r.NextAttemptAt = ms(c.NextAttemptAt)
	}
	if !c.DeliveredAt.IsZero() { // it stays the last delivery's
		r.DeliveredAt = ms(c.DeliveredAt)
	}
}

// expiry is when a record expires, to the second, rounded up (as the
// table's TTL attribute keeps it).
func expiry(received time.Time, retention time.Duration) time.Time {
	t := received.Add(retention)
	sec := t.Unix()
	if t.After(time.Unix(sec, 0)) {
		sec++
	}
	return time.Unix(sec, 0).UTC()
}

// setResponse keeps the answer to a failed attempt, as pkg/store keeps it
// in an item of its own: a later answer for the same number replaces it.
func (f *Fake) setResponse(eventID string, a history.Attempt) {
	if a.Delivered || len(a.ResponseBody) == 0 {
		return
	}
	if f.responses[eventID] == nil {
		f.responses[eventID] = map[int][]byte{}
	}
	f.responses[eventID][a.Number] = slices.Clone(a.ResponseBody[:min(len(a.ResponseBody), history.MaxResponseBody)])
}

// ms is t as the table keeps it: UTC, to the millisecond.
func ms(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return time.UnixMilli(t.UnixMilli()).UTC()
}

func copyRecord(r history.Record, summary bool) history.Record {
	if summary {
		r.ContentType, r.Headers, r.Body, r.Attempts, r.Verified, r.Alert = "", nil, nil, nil, "", false
		return r
	}
	r.Headers, r.Body, r.Attempts = slices.Clone(r.Headers), slices.Clone(r.Body), slices.Clone(r.Attempts)
	if len(r.Body) == 0 {
		r.Body = nil
	}
	if len(r.Headers) == 0 {
		r.Headers = nil
	}
	if len(r.Attempts) == 0 {
		r.Attempts = nil
	}
	for i := range r.Attempts {
		r.Attempts[i].ResponseBody = nil
	}
	return r
}

func (f *Fake) GetRecord(_ context.Context, eventID string, now time.Time) (history.Record, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.records[eventID]
	if !ok || !r.ExpiresAt.After(now) {
		return history.Record{}, false, nil
	}
	r = copyRecord(r, false)
	for i, a := range r.Attempts {
		if !a.Delivered {
			r.Attempts[i].ResponseBody = slices.Clone(f.responses[eventID][a.Number])
		}
	}
	return r, true, nil
}

// matches returns the records of destinationID received in [from, to]
// (zero: open) that have status (empty: any) and have not expired by now,
// in receipt order (by id, as the table sorts them).
func (f *Fake) matches(destinationID string, status history.Status, from, to, now time.Time) []history.Record {
	var out []history.Record
	for _, r := range f.records {
		if r.DestinationID != destinationID || !r.ExpiresAt.After(now) || (status != "" && r.Status != status) ||
			(!from.IsZero() && r.ReceivedAt.Before(from)) || (!to.IsZero() && r.ReceivedAt.After(to)) {
			continue
		}
		out = append(out, copyRecord(r, true))
	}
	slices.SortFunc(out, func(a, b history.Record) int { return cmp.Compare(a.EventID, b.EventID) })
	return out
}

// ListRecords pages the matches of q; a CountLimit of 0 or less counts
// every match, as in pkg/store.
func (f *Fake) ListRecords(_ context.Context, q history.Query) (history.Page, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	all := f.matches(q.DestinationID, q.Status, q.From, q.To, q.Now)
	if !q.NotReplayedSince.IsZero() {
		all = slices.DeleteFunc(all, func(r history.Record) bool {
			return !r.ReplayedAt.IsZero() && !r.ReplayedAt.Before(q.NotReplayedSince)
		})
	}
	if q.Descending {
		slices.Reverse(all)
	}
	page := history.Page{Total: len(all)}
	if q.CountLimit > 0 && page.Total > q.CountLimit {
		page.Total, page.TotalCapped = q.CountLimit, true
	}
	offset, limit := max(q.Offset, 0), max(q.Limit, 0)
	if offset < len(all) {
		page.Items = all[offset:min(offset+limit, len(all))]
	}
	if len(page.Items) == 0 {
		page.Items = nil
	}
	return page, nil
}

func (f *Fake) CountByHour(_ context.Context, destinationID string, from, to, now time.Time) (map[time.Time]map[history.Status]int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	counts := map[time.Time]map[history.Status]int{}
	for _, r := range f.matches(destinationID, "", from, to, now) {
		hour := r.ReceivedAt.UTC().Truncate(time.Hour)
		if counts[hour] == nil {
			counts[hour] = map[history.Status]int{}
		}
		counts[hour][r.Status]++
	}
	return counts, nil
}

func (f *Fake) MarkReplayed(_ context.Context, eventID string, now time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.records[eventID]
	if !ok || !r.ExpiresAt.After(now) {
		return apperror.New(apperror.NotFound, "Event %q was not found.", eventID)
	}
	stranded := !r.ReplayedAt.IsZero() && r.ReplayedAt.Before(now.Add(-history.StaleReplay)) && r.LastAttemptAt.Before(r.ReplayedAt)
	if r.Status == history.Pending && !stranded {
		return apperror.New(apperror.Conflict, "Event %q is already pending delivery.", eventID)
	}
	r.Status, r.NextAttemptAt, r.ReplayedAt = history.Pending, time.Time{}, ms(now)
	f.records[eventID] = r
	return nil
}

func (f *Fake) UnmarkReplayed(_ context.Context, eventID string, status history.Status) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r, ok := f.records[eventID]; ok && r.Status == history.Pending {
		r.Status = status
		f.records[eventID] = r
	}
	return nil
}

package history

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/hooksentry/hooksentry/pkg/apperror"
	"github.com/hooksentry/hooksentry/pkg/destination"
	"github.com/hooksentry/hooksentry/pkg/event"
)

// Destinations checks that a destination exists and belongs to the caller
// (destination.Service.Get): 404 for an unknown tenant or destination, 403
// for another tenant's.
type Destinations interface {
	Get(ctx context.Context, tenantID, id string) (destination.Destination, error)
}

// Publisher puts replayed events on the delivery queue (an event.Publisher,
// which stores bodies too large for a message first).
type Publisher interface {
	PublishBatch(ctx context.Context, msgs []event.Message) (failed []int, err error)
}

// Service is the events API (CONTRACT §5): reading history and replaying.
type Service struct {
	Store        Store
	Destinations Destinations
	Publisher    Publisher // only the replay functions have one
	Log          *slog.Logger
	Now          func() time.Time
}

// Clock is the service's current time (stats default to the last 24 hours).
func (s *Service) Clock() time.Time { return s.now() }

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

// Get returns an event with its body and attempts.
func (s *Service) Get(ctx context.Context, tenantID, eventID string) (Record, error) {
	r, found, err := s.Store.GetRecord(ctx, eventID, s.now())
	if err != nil {
		return Record{}, fmt.Errorf("read event %s: %w", eventID, err)
	}
	if !found {
		return Record{}, apperror.New(apperror.NotFound, "Event %q was not found.", eventID)
	}
	// The destination decides: another tenant's is 403, and a deleted
	// destination's events are gone (404) even before their TTL.
	if _, err := s.Destinations.Get(ctx, tenantID, r.DestinationID); err != nil {
		if apperror.CodeOf(err) == apperror.NotFound {
			return Record{}, apperror.New(apperror.NotFound, "Event %q was not found.", eventID)
		}
		if apperror.CodeOf(err) == apperror.Forbidden {
			return Record{}, apperror.New(apperror.Forbidden, "Event %q belongs to another tenant.", eventID)
		}
		return Record{}, err
	}
	return r, nil
}

// List pages a destination's events.
func (s *Service) List(ctx context.Context, tenantID, destinationID string, p ListParams) (Page, error) {
	d, err := s.Destinations.Get(ctx, tenantID, destinationID)
	if err != nil {
		return Page{}, err
	}
	page, err := s.Store.ListRecords(ctx, Query{
		DestinationID: d.ID, Status: p.Status, From: p.From, To: p.To, Descending: p.Descending,
		Offset: (p.Page - 1) * p.PageSize, Limit: p.PageSize, CountLimit: MaxMatches, Now: s.now(),
	})
	if err != nil {
		return Page{}, fmt.Errorf("list events of %s: %w", d.ID, err)
	}
	return page, nil
}

// Bucket is one hour of stats.
type Bucket struct {
	Start  time.Time
	Counts map[Status]int // every status present
}

// Stats counts a destination's events by hour of receipt and status.
func (s *Service) Stats(ctx context.Context, tenantID, destinationID string, r StatsRange) ([]Bucket, error) {
	d, err := s.Destinations.Get(ctx, tenantID, destinationID)
	if err != nil {
		return nil, err
	}
	at := r.Now
	if at.IsZero() {
		at = s.now()
	}
	counts, err := s.Store.CountByHour(ctx, d.ID, r.From, r.To, at)
	if err != nil {
		return nil, fmt.Errorf("count events of %s: %w", d.ID, err)
	}
	hours := r.Hours()
	out := make([]Bucket, len(hours))
	for i, h := range hours {
		out[i] = Bucket{Start: h, Counts: map[Status]int{}}
		for _, st := range Statuses {
			out[i].Counts[st] = counts[h][st]
		}
	}
	return out, nil
}

// Replay delivers one event again, with the same id, and returns its
// summary. An event that is Pending already is a Conflict; a Held one is
// parked already and goes out when its destination is Active again, so
// replaying it changes nothing (a second message would deliver it twice).
func (s *Service) Replay(ctx context.Context, tenantID, eventID string) (Record, error) {
	r, err := s.Get(ctx, tenantID, eventID)
	if err != nil {
		return Record{}, err
	}
	switch r.Status {
	case Pending:
		return Record{}, apperror.New(apperror.Conflict, "Event %q is pending already: it will be attempted.", eventID)
	case Held:
		return r, nil
	}
	if _, err := s.replay(ctx, []Record{r}); err != nil {
		return Record{}, err
	}
	r.Status, r.NextAttemptAt = Pending, time.Time{}
	return r, nil
}

// BulkResult is what a bulk replay did.
type BulkResult struct {
	Replayed        int
	Remaining       int
	RemainingCapped bool // more than MaxMatches remain
}

// BulkReplayWindow is how long a replayed event is left out of bulk
// replays: calling again continues with the events not replayed yet, even
// when the replayed ones match again (delivered again, or failed again),
// instead of replaying the oldest 1,000 over and over.
const BulkReplayWindow = 24 * time.Hour

// ReplayMatching replays up to MaxReplay of a destination's events that
// match b, oldest first, leaving out those replayed in the last
// BulkReplayWindow; calling again continues where it stopped.
func (s *Service) ReplayMatching(ctx context.Context, tenantID, destinationID string, b BulkReplay) (BulkResult, error) {
	d, err := s.Destinations.Get(ctx, tenantID, destinationID)
	if err != nil {
		return BulkResult{}, err
	}
	now := s.now()
	page, err := s.Store.ListRecords(ctx, Query{
		DestinationID: d.ID, Status: b.Status, From: b.From, To: b.To,
		Limit: MaxReplay, CountLimit: MaxReplay + MaxMatches, Now: now, NotReplayedSince: now.Add(-BulkReplayWindow),
	})
	if err != nil {
		return BulkResult{}, fmt.Errorf("list events of %s: %w", d.ID, err)
	}
	replayed := 0
	// A chunk at a time: a few bodies in memory, and what a failure leaves
	// behind is at most one chunk, given back its status.
	for start := 0; start < len(page.Items); start += replayChunk {
		full, err := s.readAll(ctx, page.Items[start:min(start+replayChunk, len(page.Items))])
		if err != nil {
			return BulkResult{}, err
		}
		n, err := s.replay(ctx, full)
		replayed += n
		if err != nil {
			return BulkResult{}, fmt.Errorf("after %d replayed: %w", replayed, err)
		}
	}
	return BulkResult{
		Replayed: replayed, Remaining: max(page.Total-replayed, 0), RemainingCapped: page.TotalCapped,
	}, nil
}

// replayChunk is how many events a bulk replay reads, marks and sends at
// a time: one SendMessageBatch.
const replayChunk = 10

// readAll reads the records of summaries with their bodies, in parallel; a
// record gone meanwhile is skipped.
func (s *Service) readAll(ctx context.Context, summaries []Record) ([]Record, error) {
	out := make([]Record, len(summaries))
	found := make([]bool, len(summaries))
	errs := make([]error, len(summaries))
	var wg sync.WaitGroup
	for i, sum := range summaries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i], found[i], errs[i] = s.Store.GetRecord(ctx, sum.EventID, s.now())
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("read events to replay: %w", err)
	}
	kept := out[:0]
	for i, r := range out {
		if found[i] && r.Status != Pending && r.Status != Held {
			kept = append(kept, r)
		}
	}
	return kept, nil
}

// replay marks each record Pending and publishes its message, returning
// how many it sent. A record that turned Pending or went away meanwhile is
// skipped when there are several, and an error when it is the only one.
// Whatever it marked but could not send gets its status back, so no event
// is left Pending without a message (and a replay stranded by a crash in
// between may be replayed again: StaleReplay).
func (s *Service) replay(ctx context.Context, records []Record) (sent int, err error) {
	var msgs []event.Message
	var marked []Record
	defer func() {
		if err != nil {
			s.unmark(ctx, marked)
		}
	}()
	for _, r := range records {
		if err := s.Store.MarkReplayed(ctx, r.EventID, s.now()); err != nil {
			code := apperror.CodeOf(err)
			if len(records) > 1 && (code == apperror.Conflict || code == apperror.NotFound) {
				continue
			}
			if code == apperror.Conflict || code == apperror.NotFound {
				return 0, err
			}
			// The mark may have been written before the error (the hour's
			// count failed): give it back too.
			marked = append(marked, r)
			return 0, fmt.Errorf("mark event %s replayed: %w", r.EventID, err)
		}
		marked = append(marked, r)
		msgs = append(msgs, replayMessage(r))
	}
	if len(msgs) == 0 {
		return 0, nil
	}
	failed, err := s.Publisher.PublishBatch(ctx, msgs)
	if err == nil && len(failed) == 0 {
		return len(msgs), nil
	}
	if len(failed) == 0 { // the whole batch failed
		return 0, fmt.Errorf("publish %d replayed events: %w", len(msgs), err)
	}
	notSent := make([]Record, 0, len(failed))
	for _, i := range failed {
		notSent = append(notSent, marked[i])
	}
	marked = notSent // the sent ones stay Pending: their messages are on the queue
	if err == nil {
		err = errors.New("the queue refused them")
	}
	return len(msgs) - len(failed), fmt.Errorf("publish %d of %d replayed events: %w", len(failed), len(msgs), err)
}

// unmark gives records back the status they had before their replay was
// marked, even when ctx is done (the request timed out mid-replay).
func (s *Service) unmark(ctx context.Context, records []Record) {
	ctx = context.WithoutCancel(ctx)
	for _, r := range records {
		if err := s.Store.UnmarkReplayed(ctx, r.EventID, r.Status); err != nil {
			s.log().ErrorContext(ctx, "restore status after a failed replay", "eventId", r.EventID, "error", err)
		}
	}
}

// replayMessage is the message of a replay: the event as accepted, with its
// attempts counting on from those already made and its first attempt Manual.
func replayMessage(r Record) event.Message {
	return event.Message{
		Version: 1, EventID: r.EventID, DestinationID: r.DestinationID, TenantID: r.TenantID,
		ReceivedAt: r.ReceivedAt.UnixMilli(), ContentType: r.ContentType, Headers: r.Headers, Body: r.Body,
		Verified: r.Verified, Alert: r.Alert, Prior: r.AttemptCount, Recorded: true, Manual: true,
	}
}

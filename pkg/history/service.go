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
	counts, err := s.Store.CountByHour(ctx, d.ID, r.From, r.To, s.now())
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
// summary. An event that is Pending already is a Conflict.
func (s *Service) Replay(ctx context.Context, tenantID, eventID string) (Record, error) {
	r, err := s.Get(ctx, tenantID, eventID)
	if err != nil {
		return Record{}, err
	}
	if r.Status == Pending {
		return Record{}, apperror.New(apperror.Conflict, "Event %q is pending already: it will be attempted.", eventID)
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

// ReplayMatching replays up to MaxReplay of a destination's events that
// match b, oldest first. Calling again continues where it stopped, because
// replayed events are Pending and no longer match.
func (s *Service) ReplayMatching(ctx context.Context, tenantID, destinationID string, b BulkReplay) (BulkResult, error) {
	d, err := s.Destinations.Get(ctx, tenantID, destinationID)
	if err != nil {
		return BulkResult{}, err
	}
	page, err := s.Store.ListRecords(ctx, Query{
		DestinationID: d.ID, Status: b.Status, From: b.From, To: b.To,
		Limit: MaxReplay, CountLimit: MaxReplay + MaxMatches, Now: s.now(),
	})
	if err != nil {
		return BulkResult{}, fmt.Errorf("list events of %s: %w", d.ID, err)
	}
	full, err := s.readAll(ctx, page.Items)
	if err != nil {
		return BulkResult{}, err
	}
	replayed, err := s.replay(ctx, full)
	if err != nil {
		return BulkResult{}, err
	}
	return BulkResult{
		Replayed: replayed, Remaining: max(page.Total-replayed, 0), RemainingCapped: page.TotalCapped,
	}, nil
}

// readConcurrency bounds the parallel reads of a bulk replay.
const readConcurrency = 16

// readAll reads the records of summaries with their bodies; a record gone
// meanwhile is skipped.
func (s *Service) readAll(ctx context.Context, summaries []Record) ([]Record, error) {
	out := make([]Record, len(summaries))
	found := make([]bool, len(summaries))
	errs := make([]error, len(summaries))
	var wg sync.WaitGroup
	sem := make(chan struct{}, readConcurrency)
	for i, sum := range summaries {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			out[i], found[i], errs[i] = s.Store.GetRecord(ctx, sum.EventID, s.now())
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("read events to replay: %w", err)
	}
	kept := out[:0]
	for i, r := range out {
		if found[i] {
			kept = append(kept, r)
		}
	}
	return kept, nil
}

// replay marks each record Pending and publishes its message. A record
// that turned Pending meanwhile is skipped when there are several, and a
// Conflict when it is the only one; a message that cannot be sent gives
// its record back its status.
func (s *Service) replay(ctx context.Context, records []Record) (int, error) {
	var msgs []event.Message
	var marked []Record
	for _, r := range records {
		if err := s.Store.MarkReplayed(ctx, r.EventID, s.now()); err != nil {
			if len(records) > 1 && (apperror.CodeOf(err) == apperror.Conflict || apperror.CodeOf(err) == apperror.NotFound) {
				continue
			}
			if apperror.CodeOf(err) == apperror.Conflict {
				return 0, apperror.New(apperror.Conflict, "Event %q is pending already: it will be attempted.", r.EventID)
			}
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
	if len(failed) == 0 {
		failed = make([]int, len(msgs))
		for i := range failed {
			failed[i] = i
		}
	}
	for _, i := range failed {
		if uerr := s.Store.UnmarkReplayed(ctx, marked[i].EventID, marked[i].Status); uerr != nil {
			s.log().ErrorContext(ctx, "restore status after a failed replay", "eventId", marked[i].EventID, "error", uerr)
		}
	}
	return 0, fmt.Errorf("publish %d of %d replayed events: %w", len(failed), len(msgs), errors.Join(err, errors.New("not sent")))
}

// replayMessage is the message of a replay: the event as accepted, with its
// attempts counting on from those already made and its first attempt Manual.
func replayMessage(r Record) event.Message {
	return event.Message{
		Version: 1, EventID: r.EventID, DestinationID: r.DestinationID, TenantID: r.TenantID,
		ReceivedAt: r.ReceivedAt.UnixMilli(), ContentType: r.ContentType, Headers: r.Headers, Body: r.Body,
		Prior: r.AttemptCount, Recorded: true, Manual: true,
	}
}

package history

import (
	"encoding/json"
	"net/url"
	"strings"
	"time"

	"github.com/hooksentry/hooksentry/pkg/apperror"
	"github.com/hooksentry/hooksentry/pkg/paging"
)

// Paging bounds of CONTRACT §1 and §5.
const (
	// MaxMatches bounds how deep a list pages (Pg × Qt) and how far its
	// total is counted: deeper pages are narrowed with from/to instead.
	MaxMatches = 10000
	// MaxReplay is how many events one bulk replay call replays.
	MaxReplay = 1000
	// MaxStatsRange is the widest stats range.
	MaxStatsRange = 7 * 24 * time.Hour
)

// ListParams is a validated events list request.
type ListParams struct {
	PageSize   int
	Page       int
	Descending bool
	Status     Status
	From, To   time.Time // zero: open
}

// ParseStatus matches a status case-insensitively.
func ParseStatus(s string) (Status, bool) {
	for _, st := range Statuses {
		if strings.EqualFold(s, string(st)) {
			return st, true
		}
	}
	return "", false
}

// ParseListParams validates Qt, Pg, CpOrd, TpOrd, status, from and to.
func ParseListParams(values url.Values) (ListParams, error) {
	get := paging.Getter(values)
	var f apperror.Fields
	pg := paging.Parse(get, MaxMatches, &f)
	p := ListParams{PageSize: pg.PageSize, Page: pg.Page, Descending: pg.Descending}
	if v, ok := get("CpOrd"); ok && !strings.EqualFold(strings.TrimSpace(v), "receivedAt") {
		f.Add("CpOrd", "events sort by receivedAt only")
	}
	if v, ok := get("status"); ok {
		st, valid := ParseStatus(strings.TrimSpace(v))
		if !valid {
			f.Add("status", "must be Pending, Held, Delivered or Failed")
		}
		p.Status = st
	}
	p.From = parseTime(get, "from", &f)
	p.To = parseTime(get, "to", &f)
	if !p.From.IsZero() && !p.To.IsZero() && p.To.Before(p.From) {
		f.Add("to", "must not be before from")
	}
	if len(f) == 0 && p.Page*p.PageSize > MaxMatches {
		f.Add("Pg", "Pg × Qt must not exceed %d; narrow the range with from and to", MaxMatches)
	}
	if err := f.Err(); err != nil {
		return ListParams{}, err
	}
	return p, nil
}

func parseTime(get func(string) (string, bool), name string, f *apperror.Fields) time.Time {
	v, ok := get(name)
	if !ok {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(v))
	if err != nil {
		f.Add(name, "must be an RFC 3339 timestamp such as 2026-07-03T14:32:00.000Z")
		return time.Time{}
	}
	return t.UTC()
}

// StatsRange is a validated stats request: [From, To], read at Now (the
// time the defaults were taken from, so that a range reaching now is known
// to: nothing was received after it).
type StatsRange struct{ From, To, Now time.Time }

// ParseStatsRange validates from and to; by default the range runs until
// now, from the start of the UTC hour 23 hours before to's (24 buckets).
func ParseStatsRange(values url.Values, now time.Time) (StatsRange, error) {
	get := paging.Getter(values)
	var f apperror.Fields
	r := StatsRange{To: now.UTC(), Now: now.UTC()}
	from, to := parseTime(get, "from", &f), parseTime(get, "to", &f)
	if !to.IsZero() {
		r.To = to
	}
	r.From = r.To.Truncate(time.Hour).Add(-23 * time.Hour)
	if !from.IsZero() {
		r.From = from
	}
	// The field to blame for a range that runs backwards is the one sent.
	blame := "to"
	if to.IsZero() {
		blame = "from"
	}
	switch {
	case len(f) > 0:
	case r.To.Before(r.From):
		f.Add(blame, "from must not be after to (to defaults to now)")
	case r.To.Sub(r.From) > MaxStatsRange:
		f.Add(blame, "from and to must be at most 7 days apart")
	}
	if err := f.Err(); err != nil {
		return StatsRange{}, err
	}
	return r, nil
}

// Hours returns the start of every UTC clock hour that overlaps r, oldest first.
func (r StatsRange) Hours() []time.Time {
	var out []time.Time
	for h := r.From.Truncate(time.Hour); !h.After(r.To); h = h.Add(time.Hour) {
		out = append(out, h)
	}
	return out
}

// BulkReplay is a validated bulk replay request.
type BulkReplay struct {
	Status   Status // Failed or Delivered
	From, To time.Time
}

// ParseBulkReplay validates a bulk replay body: {"status", "from", "to"},
// all optional (an empty body replays every Failed event).
func ParseBulkReplay(body []byte) (BulkReplay, error) {
	var in struct {
		Status *string `json:"status"`
		From   *string `json:"from"`
		To     *string `json:"to"`
	}
	if len(strings.TrimSpace(string(body))) > 0 {
		if err := json.Unmarshal(body, &in); err != nil {
			return BulkReplay{}, apperror.Validation(apperror.FieldError{Field: "body", Message: "must be a JSON object with status, from and to"})
		}
	}
	b := BulkReplay{Status: Failed}
	var f apperror.Fields
	if in.Status != nil {
		st, ok := ParseStatus(strings.TrimSpace(*in.Status))
		if !ok || (st != Failed && st != Delivered) {
			f.Add("status", "must be Failed or Delivered")
		}
		b.Status = st
	}
	values := url.Values{}
	if in.From != nil {
		values.Set("from", *in.From)
	}
	if in.To != nil {
		values.Set("to", *in.To)
	}
	get := paging.Getter(values)
	b.From, b.To = parseTime(get, "from", &f), parseTime(get, "to", &f)
	if !b.From.IsZero() && !b.To.IsZero() && b.To.Before(b.From) {
		f.Add("to", "must not be before from")
	}
	if err := f.Err(); err != nil {
		return BulkReplay{}, err
	}
	return b, nil
}

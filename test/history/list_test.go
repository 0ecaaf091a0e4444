package history_test

import (
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/hooksentry/hooksentry/pkg/testkit"
)

func TestListPagesAndFilters(t *testing.T) {
	t.Parallel()
	c := newTenant(t)
	rcv := testkit.NewReceiver(t, ca)
	d := createDestination(t, c, map[string]any{"url": rcv.URL, "serverRateLimit": 10})
	const n = 12
	var ids []string // in receipt order
	for i := 0; i < n; i++ {
		ids = append(ids, ingest(t, d.IngestToken, []byte(`{}`), nil))
		time.Sleep(2 * time.Millisecond) // distinct receipt times
	}
	testkit.WaitFor(t, 15*time.Second, "every event to be delivered", func() bool {
		return list(t, c, d.ID, url.Values{"status": {"Delivered"}}).Total == n
	})

	idsOf := func(l listView) []string {
		var out []string
		for _, e := range l.Items {
			out = append(out, e.ID)
		}
		return out
	}
	newestFirst := slices.Clone(ids)
	slices.Reverse(newestFirst)
	all := list(t, c, d.ID, url.Values{"Qt": {"100"}})
	from, to := all.Items[n-1-3].ReceivedAt, all.Items[n-1-7].ReceivedAt // the 4th to 8th oldest

	tests := []struct {
		name  string
		query url.Values
		total int
		want  []string
	}{
		{"default: newest first, 10 a page", nil, n, newestFirst[:10]},
		{"second page", url.Values{"Pg": {"2"}}, n, newestFirst[10:]},
		{"past the end", url.Values{"Pg": {"5"}}, n, nil},
		{"oldest first, 5 a page", url.Values{"tpord": {"asc"}, "qt": {"5"}, "cpord": {"receivedAt"}}, n, ids[:5]},
		{"page 3 of 5", url.Values{"TpOrd": {"Asc"}, "Qt": {"5"}, "Pg": {"3"}}, n, ids[10:]},
		{"status any case", url.Values{"status": {"dElIvErEd"}, "Qt": {"3"}}, n, newestFirst[:3]},
		{"no failed ones", url.Values{"status": {"Failed"}}, 0, nil},
		{"from and to inclusive", url.Values{"from": {from}, "to": {to}, "TpOrd": {"Asc"}}, 5, ids[3:8]},
		{"from only", url.Values{"from": {to}, "TpOrd": {"Asc"}}, 5, ids[7:]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := list(t, c, d.ID, tt.query)
			if got.Total != tt.total || !slices.Equal(idsOf(got), tt.want) || got.TotalCapped {
				t.Errorf("got total %d %v (capped %v), want total %d %v", got.Total, idsOf(got), got.TotalCapped, tt.total, tt.want)
			}
		})
	}
	for _, e := range all.Items {
		if e.Body != "" || e.Headers != nil || e.Attempts != nil {
			t.Errorf("list item %s carries detail: %+v", e.ID, e)
		}
	}
}

func TestListRefusesBadQueries(t *testing.T) {
	t.Parallel()
	c := newTenant(t)
	d := createDestination(t, c, map[string]any{"url": "https://example.com/hook"})
	for _, q := range []string{
		"Pg=101&Qt=100", "Pg=10001", "Qt=0", "Qt=101", "CpOrd=url", "TpOrd=sideways",
		"status=Lost", "from=yesterday", "to=2026-13-01T00:00:00Z",
		"from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z", "Qt=%zz",
	} {
		resp := c.Do(t, http.MethodGet, "/api/v1/destinations/"+d.ID+"/events?"+q, nil, nil)
		if resp.Status != http.StatusBadRequest || resp.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("?%s: got %d %s, want 400 problem+json", q, resp.Status, resp.Body)
		}
	}
	if got := c.Do(t, http.MethodGet, "/api/v1/destinations/"+d.ID+"/events?Pg=100&Qt=100", nil, nil).Status; got != http.StatusOK {
		t.Errorf("Pg × Qt = 10,000: got %d, want 200", got)
	}
	for _, id := range []string{"not-a-uuid", "0b9ad2e4-7c1d-4e8a-9f3b-2a6c8d0e4f1a"} {
		for _, path := range []string{"/events", "/events/stats"} {
			if got := c.Do(t, http.MethodGet, "/api/v1/destinations/"+id+path, nil, nil).Status; got != http.StatusNotFound {
				t.Errorf("GET %s of destination %s: got %d, want 404", path, id, got)
			}
		}
		if got := c.Do(t, http.MethodPost, "/api/v1/destinations/"+id+"/events/replay", map[string]any{}, nil).Status; got != http.StatusNotFound {
			t.Errorf("bulk replay of destination %s: got %d, want 404", id, got)
		}
	}
	for _, body := range []any{`{"status":"Pending"}`, `{"status":"held"}`, `{"from":"soon"}`, `[1,2]`, `{"status":`} {
		resp := c.Do(t, http.MethodPost, "/api/v1/destinations/"+d.ID+"/events/replay", body, nil)
		if resp.Status != http.StatusBadRequest {
			t.Errorf("bulk replay body %s: got %d %s, want 400", body, resp.Status, resp.Body)
		}
	}
}

func TestStatsCountByHourAndStatus(t *testing.T) {
	t.Parallel()
	c := newTenant(t)
	rcv := testkit.NewReceiver(t, ca)
	d := createDestination(t, c, map[string]any{"url": rcv.URL})
	const n = 3
	for i := 0; i < n; i++ {
		ingest(t, d.IngestToken, []byte(`{}`), nil)
	}
	type stats struct {
		From    string `json:"from"`
		To      string `json:"to"`
		Buckets []struct {
			Start  string         `json:"start"`
			Counts map[string]int `json:"counts"`
		} `json:"buckets"`
	}
	var s stats
	testkit.WaitFor(t, 15*time.Second, "the stats to count every event delivered", func() bool {
		resp := c.Do(t, http.MethodGet, "/api/v1/destinations/"+d.ID+"/events/stats", nil, nil)
		if resp.Status != http.StatusOK {
			t.Fatalf("stats: got %d %s", resp.Status, resp.Body)
		}
		resp.JSON(t, &s)
		return len(s.Buckets) == 24 && s.Buckets[23].Counts["Delivered"] == n
	})
	now := time.Now().UTC()
	if got, want := s.Buckets[23].Start, now.Truncate(time.Hour).Format("2006-01-02T15:04:05.000Z"); got != want && now.Minute() != 0 {
		t.Errorf("last bucket starts %s, want %s", got, want)
	}
	for i, b := range s.Buckets {
		if len(b.Counts) != 4 {
			t.Errorf("bucket %d counts: got %v, want all four statuses", i, b.Counts)
		}
		if i < 23 && b.Counts["Delivered"] != 0 {
			t.Errorf("bucket %d (%s): got %v, want empty", i, b.Start, b.Counts)
		}
	}

	from := now.Add(-time.Hour).Format(time.RFC3339)
	to := now.Add(time.Hour).Format(time.RFC3339)
	resp := c.Do(t, http.MethodGet, "/api/v1/destinations/"+d.ID+"/events/stats?from="+from+"&to="+to, nil, nil)
	resp.JSON(t, &s)
	if resp.Status != http.StatusOK || len(s.Buckets) != 3 {
		t.Errorf("stats of 2 hours: got %d with %d buckets, want 200 with 3 (every overlapping hour)", resp.Status, len(s.Buckets))
	}
	for _, q := range []string{"from=" + now.Add(-8*24*time.Hour).Format(time.RFC3339), "from=x", "from=" + to + "&to=" + from} {
		if got := c.Do(t, http.MethodGet, "/api/v1/destinations/"+d.ID+"/events/stats?"+q, nil, nil).Status; got != http.StatusBadRequest {
			t.Errorf("stats ?%s: got %d, want 400", q, got)
		}
	}
}

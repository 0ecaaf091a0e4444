package destination_test

import (
	"fmt"
	"math/rand/v2"
	"net/url"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/hooksentry/hooksentry/pkg/destination"
)

func TestParseListQueryValid(t *testing.T) {
	def := destination.ListQuery{PageSize: 10, Page: 1, SortField: "createdAt", Descending: true}
	with := func(change func(*destination.ListQuery)) destination.ListQuery {
		q := def
		change(&q)
		return q
	}
	for _, tc := range []struct {
		query string
		want  destination.ListQuery
	}{
		{"", def},
		{"Qt=10&Pg=1&CpOrd=id&TpOrd=Desc", with(func(q *destination.ListQuery) { q.SortField = "id" })},
		{"qt=1&pg=3", with(func(q *destination.ListQuery) { q.PageSize, q.Page = 1, 3 })},
		{"QT=100", with(func(q *destination.ListQuery) { q.PageSize = 100 })},
		{"Qt=%205%20", with(func(q *destination.ListQuery) { q.PageSize = 5 })},
		{"Pg=1000000", with(func(q *destination.ListQuery) { q.Page = 1000000 })},
		{"cpord=SERVERRATELIMIT", with(func(q *destination.ListQuery) { q.SortField = "serverRateLimit" })},
		{"CPORD=url&tpord=asc", with(func(q *destination.ListQuery) { q.SortField, q.Descending = "url", false })},
		{"CpOrd=AuthType&TpOrd=ASC", with(func(q *destination.ListQuery) { q.SortField, q.Descending = "authType", false })},
		{"CpOrd=status", with(func(q *destination.ListQuery) { q.SortField = "status" })},
		{"CpOrd=updatedat&TpOrd=DESC", with(func(q *destination.ListQuery) { q.SortField = "updatedAt" })},
		{"CpOrd=CreatedAt", def},
		{"status=active", with(func(q *destination.ListQuery) { q.Status = destination.Active })},
		{"STATUS=SUSPENDED", with(func(q *destination.ListQuery) { q.Status = destination.Suspended })},
		{"authtype=bearertoken", with(func(q *destination.ListQuery) {
			q.AuthType, q.AuthTypeSet = destination.AuthBearerToken, true
		})},
		{"url=Example.COM", with(func(q *destination.ListQuery) { q.URLSubstr = "example.com" })},
		{"Url=", def},
		{"unknown=1&Qt=2", with(func(q *destination.ListQuery) { q.PageSize = 2 })},
		{"Qt=3&Qt=4", with(func(q *destination.ListQuery) { q.PageSize = 4 })},
	} {
		t.Run(tc.query, func(t *testing.T) {
			values, err := url.ParseQuery(tc.query)
			if err != nil {
				t.Fatal(err)
			}
			got, err := destination.ParseListQuery(values)
			if err != nil {
				t.Fatalf("ParseListQuery: got error %v, want nil", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParseListQuery:\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestParseListQueryInvalid(t *testing.T) {
	for _, tc := range []struct {
		query  string
		fields []string
	}{
		{"Qt=0", []string{"Qt"}},
		{"Qt=101", []string{"Qt"}},
		{"Qt=-1", []string{"Qt"}},
		{"Qt=abc", []string{"Qt"}},
		{"Qt=1.5", []string{"Qt"}},
		{"Qt=", []string{"Qt"}},
		{"qt=99999999999999999999", []string{"Qt"}},
		{"Pg=0", []string{"Pg"}},
		{"Pg=-3", []string{"Pg"}},
		{"PG=x", []string{"Pg"}},
		{"CpOrd=name", []string{"CpOrd"}},
		{"CpOrd=", []string{"CpOrd"}},
		{"cpord=tenantId", []string{"CpOrd"}},
		{"cpord=credentials", []string{"CpOrd"}},
		{"TpOrd=up", []string{"TpOrd"}},
		{"TpOrd=ascending", []string{"TpOrd"}},
		{"status=deleted", []string{"status"}},
		{"authType=OAuth", []string{"authType"}},
		{"Qt=0&Pg=0&CpOrd=x&TpOrd=y&status=z&authType=w", []string{"Qt", "Pg", "CpOrd", "TpOrd", "status", "authType"}},
	} {
		t.Run(tc.query, func(t *testing.T) {
			values, err := url.ParseQuery(tc.query)
			if err != nil {
				t.Fatal(err)
			}
			_, err = destination.ParseListQuery(values)
			wantFields(t, err, tc.fields...)
		})
	}
}

func TestParseListQueryDeterministic(t *testing.T) {
	values := url.Values{"qt": {"3"}, "QT": {"4"}, "Qt": {"5"}, "qT": {"6"}, "cpord": {"url"}, "CPORD": {"id"}}
	first, _ := destination.ParseListQuery(values)
	for range 50 {
		if got, _ := destination.ParseListQuery(values); got != first {
			t.Fatalf("ParseListQuery is not deterministic: got %+v and %+v", first, got)
		}
	}
}

// listFixture is a set of destinations with ties in every sortable field,
// ids in a known order (d0 < d1 < ...).
func listFixture() []destination.Destination {
	base := time.Date(2026, 7, 3, 14, 32, 0, 0, time.UTC)
	mk := func(i int, url string, st destination.Status, limit int, at destination.AuthType, created, updated int) destination.Destination {
		return destination.Destination{
			ID: fmt.Sprintf("%08d-0000-4000-8000-000000000000", i), TenantID: "t", URL: url, Status: st,
			ServerRateLimit: limit, AuthType: at,
			CreatedAt: base.Add(time.Duration(created) * time.Minute), UpdatedAt: base.Add(time.Duration(updated) * time.Minute),
		}
	}
	return []destination.Destination{
		mk(0, "https://a.example/hook", destination.Active, 5, destination.AuthNone, 0, 9),
		mk(1, "https://B.example/hook", destination.Inactive, 10, destination.AuthBearerToken, 1, 8),
		mk(2, "https://c.example/other", destination.Active, 5, destination.AuthAPIKey, 2, 7),
		mk(3, "https://d.example/HOOK", destination.Suspended, 1, destination.AuthBearerToken, 3, 6),
		mk(4, "https://e.example/x", destination.Active, 10, destination.AuthBasic, 3, 5),
		mk(5, "https://f.example/hook", destination.Inactive, 5, destination.AuthNone, 5, 5),
	}
}

func ids(ds []destination.Destination) []int {
	out := make([]int, len(ds))
	for i, d := range ds {
		fmt.Sscanf(d.ID, "%d-", &out[i])
	}
	return out
}

func TestApply(t *testing.T) {
	def := destination.ListQuery{PageSize: 10, Page: 1, SortField: "createdAt", Descending: true}
	with := func(change func(*destination.ListQuery)) destination.ListQuery {
		q := def
		change(&q)
		return q
	}
	for _, tc := range []struct {
		name      string
		q         destination.ListQuery
		wantTotal int
		wantIDs   []int
	}{
		// 3 and 4 share createdAt: the id breaks the tie, reversed with the order.
		{"default is createdAt descending", def, 6, []int{5, 4, 3, 2, 1, 0}},
		{"createdAt ascending", with(func(q *destination.ListQuery) { q.Descending = false }), 6, []int{0, 1, 2, 3, 4, 5}},
		{"id descending", with(func(q *destination.ListQuery) { q.SortField = "id" }), 6, []int{5, 4, 3, 2, 1, 0}},
		{"url ascending is byte order", with(func(q *destination.ListQuery) { q.SortField, q.Descending = "url", false }), 6, []int{1, 0, 2, 3, 4, 5}},
		{"serverRateLimit ascending with ties by id", with(func(q *destination.ListQuery) { q.SortField, q.Descending = "serverRateLimit", false }),
			6, []int{3, 0, 2, 5, 1, 4}},
		{"serverRateLimit descending with ties by id reversed", with(func(q *destination.ListQuery) { q.SortField = "serverRateLimit" }),
			6, []int{4, 1, 5, 2, 0, 3}},
		{"status ascending", with(func(q *destination.ListQuery) { q.SortField, q.Descending = "status", false }), 6, []int{0, 2, 4, 1, 5, 3}},
		{"authType ascending, none first", with(func(q *destination.ListQuery) { q.SortField, q.Descending = "authType", false }),
			6, []int{0, 5, 2, 4, 1, 3}},
		{"updatedAt ascending", with(func(q *destination.ListQuery) { q.SortField, q.Descending = "updatedAt", false }), 6, []int{4, 5, 3, 2, 1, 0}},
		{"page size 2 page 2", with(func(q *destination.ListQuery) { q.PageSize, q.Page = 2, 2 }), 6, []int{3, 2}},
		{"last partial page", with(func(q *destination.ListQuery) { q.PageSize, q.Page = 4, 2 }), 6, []int{1, 0}},
		{"page past the end", with(func(q *destination.ListQuery) { q.PageSize, q.Page = 2, 4 }), 6, []int{}},
		{"page far past the end", with(func(q *destination.ListQuery) { q.PageSize, q.Page = 100, 1<<62 }), 6, []int{}},
		{"status filter", with(func(q *destination.ListQuery) { q.Status = destination.Active }), 3, []int{4, 2, 0}},
		{"status filter with paging counts all matches", with(func(q *destination.ListQuery) { q.Status, q.PageSize = destination.Active, 1 }), 3, []int{4}},
		{"authType filter", with(func(q *destination.ListQuery) { q.AuthType, q.AuthTypeSet = destination.AuthBearerToken, true }), 2, []int{3, 1}},
		{"url substring filter is case-insensitive", with(func(q *destination.ListQuery) { q.URLSubstr = "hook" }), 4, []int{5, 3, 1, 0}},
		{"url substring on the host", with(func(q *destination.ListQuery) { q.URLSubstr = "b.example" }), 1, []int{1}},
		{"filters combine", with(func(q *destination.ListQuery) {
			q.Status, q.URLSubstr = destination.Inactive, "hook"
		}), 2, []int{5, 1}},
		{"no match", with(func(q *destination.ListQuery) { q.URLSubstr = "nothing" }), 0, []int{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			all := listFixture()
			got := tc.q.Apply(all)
			if got.Total != tc.wantTotal {
				t.Errorf("total: got %d, want %d", got.Total, tc.wantTotal)
			}
			if got.Items == nil {
				t.Errorf("items: got nil, want a non-nil slice (it is rendered as [])")
			}
			if g := ids(got.Items); !slices.Equal(g, tc.wantIDs) {
				t.Errorf("ids: got %v, want %v", g, tc.wantIDs)
			}
			// Any input order gives the same page: the order is total.
			for seed := range uint64(20) {
				shuffled := listFixture()
				r := rand.New(rand.NewPCG(seed, seed))
				r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
				if g := ids(tc.q.Apply(shuffled).Items); !slices.Equal(g, tc.wantIDs) {
					t.Fatalf("ids from shuffled input (seed %d): got %v, want %v", seed, g, tc.wantIDs)
				}
			}
		})
	}
}

func TestApplyEmpty(t *testing.T) {
	q := destination.ListQuery{PageSize: 10, Page: 1, SortField: "createdAt", Descending: true}
	got := q.Apply(nil)
	if got.Total != 0 || got.Items == nil || len(got.Items) != 0 {
		t.Errorf("Apply(nil): got total %d items %#v, want 0 and an empty non-nil slice", got.Total, got.Items)
	}
}

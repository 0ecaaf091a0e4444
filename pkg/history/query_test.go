package history

import (
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/hooksentry/hooksentry/pkg/apperror"
)

func TestParseListParams(t *testing.T) {
	at := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v.UTC()
	}
	tests := []struct {
		query   string
		want    ListParams
		invalid []string // fields named in the 400
	}{
		{"", ListParams{PageSize: 10, Page: 1, Descending: true}, nil},
		{"qt=100&pg=100&tpord=ASC&cpord=RECEIVEDAT&STATUS=failed", ListParams{PageSize: 100, Page: 100, Status: Failed}, nil},
		{"from=2026-12-01T10:00:00.123Z&to=2026-12-01T12:00:00%2B01:00", ListParams{PageSize: 10, Page: 1, Descending: true,
			From: at("2026-12-01T10:00:00.123Z"), To: at("2026-12-01T11:00:00Z")}, nil},
		{"Pg=101&Qt=100", ListParams{}, []string{"Pg"}},
		{"Pg=10001", ListParams{}, []string{"Pg"}},
		{"Pg=0&Qt=101", ListParams{}, []string{"Qt", "Pg"}},
		{"CpOrd=createdAt", ListParams{}, []string{"CpOrd"}},
		{"TpOrd=up&status=gone", ListParams{}, []string{"TpOrd", "status"}},
		{"from=2026-12-01&to=soon", ListParams{}, []string{"from", "to"}},
		{"from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z", ListParams{}, []string{"to"}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			values, err := url.ParseQuery(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParseListParams(values)
			if tt.invalid != nil {
				assertInvalid(t, err, tt.invalid)
				return
			}
			if err != nil {
				t.Fatalf("got error %v", err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func assertInvalid(t *testing.T, err error, fields []string) {
	t.Helper()
	var e *apperror.Error
	if !errors.As(err, &e) || e.Code != apperror.Invalid {
		t.Fatalf("got %v, want an Invalid error naming %v", err, fields)
	}
	var got []string
	for _, f := range e.Fields {
		got = append(got, f.Field)
	}
	if len(got) != len(fields) {
		t.Fatalf("fields: got %v, want %v", got, fields)
	}
	for i := range got {
		if got[i] != fields[i] {
			t.Errorf("fields: got %v, want %v", got, fields)
		}
	}
}

func TestParseStatsRange(t *testing.T) {
	now := time.Date(2026, 12, 1, 11, 43, 10, 0, time.UTC)
	tests := []struct {
		query    string
		from, to time.Time
		hours    int
		invalid  []string
	}{
		{"", time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC), now, 24, nil},
		{"from=2026-12-01T09:30:00Z&to=2026-12-01T10:00:00Z", time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC), time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC), 2, nil},
		{"from=2026-11-24T11:43:10Z", time.Date(2026, 11, 24, 11, 43, 10, 0, time.UTC), now, 7*24 + 1, nil},
		{"from=2026-11-24T11:43:09Z", time.Time{}, time.Time{}, 0, []string{"from"}},
		{"from=2026-12-02T00:00:00Z", time.Time{}, time.Time{}, 0, []string{"from"}},
		{"to=2026-11-01T00:00:30Z", time.Date(2026, 10, 31, 1, 0, 0, 0, time.UTC), time.Date(2026, 11, 1, 0, 0, 30, 0, time.UTC), 24, nil},
		{"from=2026-11-01T00:00:00Z&to=2026-11-09T00:00:00Z", time.Time{}, time.Time{}, 0, []string{"to"}},
		{"from=x", time.Time{}, time.Time{}, 0, []string{"from"}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			values, _ := url.ParseQuery(tt.query)
			got, err := ParseStatsRange(values, now)
			if tt.invalid != nil {
				assertInvalid(t, err, tt.invalid)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !got.From.Equal(tt.from) || !got.To.Equal(tt.to) || len(got.Hours()) != tt.hours {
				t.Errorf("got %v..%v with %d hours, want %v..%v with %d", got.From, got.To, len(got.Hours()), tt.from, tt.to, tt.hours)
			}
		})
	}
}

func TestParseBulkReplay(t *testing.T) {
	tests := []struct {
		body    string
		want    BulkReplay
		invalid []string
	}{
		{"", BulkReplay{Status: Failed}, nil},
		{"{}", BulkReplay{Status: Failed}, nil},
		{`{"STATUS":"delivered","From":"2026-12-01T00:00:00Z"}`, BulkReplay{Status: Delivered, From: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}, nil},
		{`{"status":"Pending"}`, BulkReplay{}, []string{"status"}},
		{`{"status":"Held","to":"later"}`, BulkReplay{}, []string{"status", "to"}},
		{`{"from":"2026-12-02T00:00:00Z","to":"2026-12-01T00:00:00Z"}`, BulkReplay{}, []string{"to"}},
		{`{"status":1}`, BulkReplay{}, []string{"body"}},
		{`[]`, BulkReplay{}, []string{"body"}},
	}
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			got, err := ParseBulkReplay([]byte(tt.body))
			if tt.invalid != nil {
				assertInvalid(t, err, tt.invalid)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

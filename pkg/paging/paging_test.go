package paging

import (
	"net/url"
	"testing"

	"github.com/hooksentry/hooksentry/pkg/apperror"
)

func TestParse(t *testing.T) {
	tests := []struct {
		query   string
		maxPage int
		want    Params
		fields  []string
	}{
		{"", 0, Params{PageSize: 10, Page: 1, Descending: true}, nil},
		{"qt=100&PG=7&tpord=ASC", 0, Params{PageSize: 100, Page: 7}, nil},
		{"Qt=5&qt=6", 0, Params{PageSize: 6, Page: 1, Descending: true}, nil}, // "qt" sorts after "Qt": the last one wins
		{"Pg=1000000", 0, Params{PageSize: 10, Page: 1000000, Descending: true}, nil},
		{"Pg=101", 100, Params{}, []string{"Pg"}},
		{"Qt=0&Pg=x&TpOrd=up", 0, Params{}, []string{"Qt", "Pg", "TpOrd"}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			values, _ := url.ParseQuery(tt.query)
			var f apperror.Fields
			got := Parse(Getter(values), tt.maxPage, &f)
			var fields []string
			for _, e := range f {
				fields = append(fields, e.Field)
			}
			if len(fields) != len(tt.fields) {
				t.Fatalf("problems: got %v, want %v", fields, tt.fields)
			}
			for i := range fields {
				if fields[i] != tt.fields[i] {
					t.Errorf("problems: got %v, want %v", fields, tt.fields)
				}
			}
			if tt.fields == nil && got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

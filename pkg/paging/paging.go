// Package paging owns the paging parameters every list endpoint shares
// (CONTRACT §1): Qt (page size), Pg (page number) and TpOrd (order), and
// the case-insensitive lookup of query parameters. Each list adds its own
// sort field and filters.
package paging

import (
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/hooksentry/hooksentry/pkg/apperror"
)

// Bounds of CONTRACT §1.
const (
	DefaultPageSize = 10
	MaxPageSize     = 100
)

// Params are a validated page request.
type Params struct {
	PageSize   int
	Page       int
	Descending bool
}

// Getter returns a case-insensitive accessor of query values: spellings of
// one name that differ in case are tried in sorted order, the last value
// winning, so the outcome does not depend on map order.
func Getter(values url.Values) func(name string) (string, bool) {
	keys := slices.Sorted(maps.Keys(values))
	return func(name string) (string, bool) {
		val, found := "", false
		for _, k := range keys {
			if v := values[k]; strings.EqualFold(k, name) && len(v) > 0 {
				val, found = v[len(v)-1], true
			}
		}
		return val, found
	}
}

// Parse reads Qt, Pg and TpOrd, recording problems in f. maxPage bounds Pg
// (0: no bound); the order is descending by default.
func Parse(get func(string) (string, bool), maxPage int, f *apperror.Fields) Params {
	p := Params{PageSize: DefaultPageSize, Page: 1, Descending: true}
	if v, ok := get("Qt"); ok {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 1 || n > MaxPageSize {
			f.Add("Qt", "must be an integer from 1 to %d", MaxPageSize)
		} else {
			p.PageSize = n
		}
	}
	if v, ok := get("Pg"); ok {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		switch {
		case maxPage > 0 && (err != nil || n < 1 || n > maxPage):
			f.Add("Pg", "must be an integer from 1 to %d", maxPage)
		case err != nil || n < 1:
			f.Add("Pg", "must be an integer of at least 1")
		default:
			p.Page = n
		}
	}
	if v, ok := get("TpOrd"); ok {
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "asc":
			p.Descending = false
		case "desc":
			p.Descending = true
		default:
			f.Add("TpOrd", "must be Asc or Desc")
		}
	}
	return p
}

package destination

import (
	"cmp"
	"net/url"
	"slices"
	"strings"

	"github.com/hooksentry/hooksentry/pkg/apperror"
	"github.com/hooksentry/hooksentry/pkg/paging"
)

// Paging bounds of CONTRACT §1.
const (
	DefaultPageSize = paging.DefaultPageSize
	MaxPageSize     = paging.MaxPageSize
)

// ListQuery is a validated page request with its filters.
type ListQuery struct {
	PageSize   int
	Page       int
	SortField  string // canonical name, e.g. "createdAt"
	Descending bool

	Status      Status   // "" = any
	AuthType    AuthType // matched exactly; see AuthTypeSet
	AuthTypeSet bool
	URLSubstr   string // lower-cased; "" = any
}

// Page is one page of destinations and the count of all that match.
type Page struct {
	Total int
	Items []Destination
}

var sortFields = []string{"id", "url", "status", "serverRateLimit", "authType", "createdAt", "updatedAt"}

// ParseListQuery validates the shared pagination parameters (Qt, Pg, CpOrd,
// TpOrd) and the destination filters. Parameter names are case-insensitive;
// unknown parameters are ignored, as a proxy may add its own.
func ParseListQuery(values url.Values) (ListQuery, error) {
	get := paging.Getter(values)
	var f apperror.Fields
	pg := paging.Parse(get, 0, &f)
	q := ListQuery{PageSize: pg.PageSize, Page: pg.Page, SortField: "createdAt", Descending: pg.Descending}
	if v, ok := get("CpOrd"); ok {
		i := slices.IndexFunc(sortFields, func(s string) bool { return strings.EqualFold(s, strings.TrimSpace(v)) })
		if i < 0 {
			f.Add("CpOrd", "must be one of %s", strings.Join(sortFields, ", "))
		} else {
			q.SortField = sortFields[i]
		}
	}
	if v, ok := get("status"); ok {
		st, valid := ParseStatus(strings.TrimSpace(v))
		if !valid {
			f.Add("status", "must be Active, Inactive or Suspended")
		}
		q.Status = st
	}
	if v, ok := get("authType"); ok {
		q.AuthTypeSet = true
		if at, valid := ParseAuthType(strings.TrimSpace(v)); valid {
			q.AuthType = at
		} else {
			f.Add("authType", "must be one of ApiKey, BearerToken, JwtBearer, BasicAuth")
		}
	}
	if v, ok := get("url"); ok {
		q.URLSubstr = strings.ToLower(v)
	}
	if err := f.Err(); err != nil {
		return ListQuery{}, err
	}
	return q, nil
}

// Apply filters, sorts and pages all of a tenant's destinations. Ties are
// broken by id so that pages are stable.
func (q ListQuery) Apply(all []Destination) Page {
	matched := make([]Destination, 0, len(all))
	for _, d := range all {
		if q.Status != "" && d.Status != q.Status {
			continue
		}
		if q.AuthTypeSet && d.AuthType != q.AuthType {
			continue
		}
		if q.URLSubstr != "" && !strings.Contains(strings.ToLower(d.URL), q.URLSubstr) {
			continue
		}
		matched = append(matched, d)
	}
	slices.SortStableFunc(matched, func(a, b Destination) int {
		c := compareField(q.SortField, a, b)
		if c == 0 {
			c = cmp.Compare(a.ID, b.ID)
		}
		if q.Descending {
			return -c
		}
		return c
	})
	page := Page{Total: len(matched), Items: []Destination{}}
	start := (q.Page - 1) * q.PageSize
	if q.Page > 0 && start/q.PageSize == q.Page-1 && start < len(matched) {
		page.Items = matched[start:min(start+q.PageSize, len(matched))]
	}
	return page
}

func compareField(field string, a, b Destination) int {
	switch field {
	case "id":
		return cmp.Compare(a.ID, b.ID)
	case "url":
		return cmp.Compare(a.URL, b.URL)
	case "status":
		return cmp.Compare(a.Status, b.Status)
	case "serverRateLimit":
		return cmp.Compare(a.ServerRateLimit, b.ServerRateLimit)
	case "authType":
		return cmp.Compare(a.AuthType, b.AuthType)
	case "updatedAt":
		return a.UpdatedAt.Compare(b.UpdatedAt)
	default:
		return a.CreatedAt.Compare(b.CreatedAt)
	}
}

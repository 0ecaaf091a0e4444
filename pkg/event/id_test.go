package event

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestNewIDCarriesTimeAndRoute(t *testing.T) {
	tests := []struct {
		name string
		dest string
		at   time.Time
	}{
		{"now", "3f2b8c1d-9a4e-4b7f-8c2d-1e0f9a8b7c6d", time.Date(2026, 12, 1, 11, 0, 0, 123e6, time.UTC)},
		{"epoch", "00000000-0000-4000-8000-000000000000", time.UnixMilli(0).UTC()},
		{"upper-case destination", "FFFFFFFF-FFFF-4FFF-BFFF-FFFFFFFFFFFF", time.Date(2100, 1, 1, 0, 0, 0, 999e6, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := NewID(tt.dest, tt.at)
			u, err := uuid.Parse(id)
			if err != nil {
				t.Fatalf("NewID = %q, not a UUID: %v", id, err)
			}
			if got, want := u.Version(), uuid.Version(8); got != want {
				t.Errorf("version: got %d, want %d", got, want)
			}
			if got, want := u.Variant(), uuid.RFC4122; got != want {
				t.Errorf("variant: got %v, want %v", got, want)
			}
			if id != strings.ToLower(id) {
				t.Errorf("id %q is not lower case", id)
			}
			p, ok := ParseID(id)
			if !ok {
				t.Fatalf("ParseID(%q) failed", id)
			}
			if got, want := p.ReceivedAt, tt.at.Truncate(time.Millisecond); !got.Equal(want) {
				t.Errorf("time: got %v, want %v", got, want)
			}
			if got, want := p.Route, Route(tt.dest); got != want {
				t.Errorf("route: got %q, want %q", got, want)
			}
			if !strings.HasPrefix(id, IDPrefix(tt.at)) {
				t.Errorf("id %q does not start with IDPrefix %q", id, IDPrefix(tt.at))
			}
		})
	}
}

func TestNewIDIsUniqueAndSortsByTime(t *testing.T) {
	dest := "3f2b8c1d-9a4e-4b7f-8c2d-1e0f9a8b7c6d"
	at := time.Date(2026, 12, 1, 11, 0, 0, 0, time.UTC)
	seen := map[string]bool{}
	for i := 0; i < 10000; i++ {
		id := NewID(dest, at)
		if seen[id] {
			t.Fatalf("duplicate id %q after %d ids", id, i)
		}
		seen[id] = true
	}
	if a, b := NewID(dest, at), NewID(dest, at.Add(time.Millisecond)); a >= b {
		t.Errorf("a later id sorts first: %q >= %q", a, b)
	}
}

func TestParseIDRefusesOtherIDs(t *testing.T) {
	for _, id := range []string{
		"", "not-a-uuid", uuid.NewString(), // version 4
		strings.ToUpper(NewID("3f2b8c1d-9a4e-4b7f-8c2d-1e0f9a8b7c6d", time.Now())),
		"0195c2e4-1a2b-8c3d-0e4f-5a6b7c8d9e0f", // variant 0
		"0195c2e4-1a2b-8c3d-8e4f-5a6b7c8d9e0g", // not hex
	} {
		if _, ok := ParseID(id); ok {
			t.Errorf("ParseID(%q) succeeded", id)
		}
	}
}

func TestRouteOfANonUUIDIsHex(t *testing.T) {
	for _, dest := range []string{"dest-1", "", "zzzzzzzzzzzz"} {
		r := Route(dest)
		if len(r) != routeLen || !isHex(r) {
			t.Errorf("Route(%q) = %q, want %d hex digits", dest, r, routeLen)
		}
		if p, ok := ParseID(NewID(dest, time.Now())); !ok || p.Route != r {
			t.Errorf("ParseID(NewID(%q)) = %+v, %v; want route %q", dest, p, ok, r)
		}
	}
}

package delivery_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/hooksentry/hooksentry/pkg/delivery"
)

func TestStateInUseAndLive(t *testing.T) {
	now := time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)
	live1 := delivery.Lease{Slots: 2, Expires: now.Add(time.Second)}
	live2 := delivery.Lease{Slots: 5, Expires: now.Add(time.Millisecond)}
	expiresNow := delivery.Lease{Slots: 3, Expires: now}
	expired := delivery.Lease{Slots: 7, Expires: now.Add(-time.Minute)}
	for _, tc := range []struct {
		name      string
		leases    map[string]delivery.Lease
		wantInUse int
		wantLive  map[string]delivery.Lease
	}{
		{"no leases (nil map)", nil, 0, map[string]delivery.Lease{}},
		{"no leases", map[string]delivery.Lease{}, 0, map[string]delivery.Lease{}},
		{"one live lease", map[string]delivery.Lease{"a": live1}, 2, map[string]delivery.Lease{"a": live1}},
		{"live leases add up", map[string]delivery.Lease{"a": live1, "b": live2}, 7, map[string]delivery.Lease{"a": live1, "b": live2}},
		{"a lease expiring now no longer counts", map[string]delivery.Lease{"c": expiresNow}, 0, map[string]delivery.Lease{}},
		{"expired leases are excluded", map[string]delivery.Lease{"a": live1, "c": expiresNow, "d": expired}, 2, map[string]delivery.Lease{"a": live1}},
		{"only expired leases", map[string]delivery.Lease{"d": expired, "e": expired}, 0, map[string]delivery.Lease{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := delivery.State{Leases: tc.leases}
			if got := st.InUse(now); got != tc.wantInUse {
				t.Errorf("InUse: got %d, want %d", got, tc.wantInUse)
			}
			got := st.Live(now)
			if got == nil {
				t.Fatalf("Live: got a nil map, want one the caller can add its lease to")
			}
			if !reflect.DeepEqual(got, tc.wantLive) {
				t.Errorf("Live: got %v, want %v", got, tc.wantLive)
			}
			// Live returns a copy: adding a lease leaves the state alone.
			got["new"] = delivery.Lease{Slots: 1, Expires: now.Add(time.Hour)}
			if _, ok := st.Leases["new"]; ok {
				t.Errorf("Live: adding to the result changed the state's leases")
			}
		})
	}
}

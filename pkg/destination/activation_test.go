package destination_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/hooksentry/hooksentry/pkg/destination"
	"github.com/hooksentry/hooksentry/pkg/testkit"
)

// Defect 7 of issue 7: a destination suspended by the breaker, set inactive
// and then active again kept its consecutive failure count, so its first
// failure suspended it again. CONTRACT §1: setting active on a destination
// that is not Active resets its circuit breaker, whatever the path.
func TestServiceSuspendedInactiveActiveResetsTheBreaker(t *testing.T) {
	f := newFixture(t)
	d, _ := f.create(t, `{"url":"https://example.com"}`)
	f.store.Modify(d.ID, func(d *destination.Destination) { d.Status = destination.Suspended })

	if _, err := f.svc.Update(context.Background(), f.tenant, d.ID, []byte(`{"status":"inactive"}`)); err != nil {
		t.Fatalf("Update inactive: %v", err)
	}
	if got := f.store.BreakerResets(d.ID); got != 0 {
		t.Errorf("breaker resets after Suspended -> inactive: %d, want 0 (it stays open until the destination is active)", got)
	}
	got, err := f.svc.Update(context.Background(), f.tenant, d.ID, []byte(`{"status":"active"}`))
	if err != nil {
		t.Fatalf("Update active: %v", err)
	}
	if got.Status != destination.Active {
		t.Errorf("status %q, want Active", got.Status)
	}
	if got := f.store.BreakerResets(d.ID); got != 1 {
		t.Errorf("breaker resets after inactive -> active: %d, want 1", got)
	}
}

// Defect 8 of issue 7: when the re-drive of held events fails after a
// destination became Active, the update still succeeds (the sweeper's pass
// re-drives them) but the failure must be logged, with the destination id.
func TestServiceActivationDrainFailureIsLogged(t *testing.T) {
	f := newFixture(t)
	logs := &testkit.LogBuffer{}
	f.svc.Log = slog.New(slog.NewJSONHandler(logs, nil))
	f.svc.Activated = func(context.Context, destination.Destination) error {
		return errors.New("queue unavailable")
	}
	d, _ := f.create(t, `{"url":"https://example.com"}`)
	f.store.Modify(d.ID, func(d *destination.Destination) { d.Status = destination.Inactive })

	got, err := f.svc.Update(context.Background(), f.tenant, d.ID, []byte(`{"status":"active"}`))
	if err != nil {
		t.Fatalf("Update: %v, want success (the sweeper re-drives held events)", err)
	}
	if got.Status != destination.Active {
		t.Errorf("status %q, want Active", got.Status)
	}
	out := logs.String()
	for _, want := range []string{`"level":"ERROR"`, "queue unavailable", `"destinationId":"` + d.ID + `"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log %q does not contain %s", out, want)
		}
	}
}

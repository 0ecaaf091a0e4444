package delivery_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hooksentry/hooksentry/pkg/delivery"
	"github.com/hooksentry/hooksentry/pkg/destination"
	"github.com/hooksentry/hooksentry/pkg/event"
	"github.com/hooksentry/hooksentry/pkg/testkit"
)

// refusing answers 422 to the poison event and 200 to every other.
func refusing(poison string) func(w http.ResponseWriter, r *http.Request, _ int) {
	return func(w http.ResponseWriter, r *http.Request, _ int) {
		b, _ := io.ReadAll(r.Body)
		if strings.Contains(string(b), poison) {
			w.WriteHeader(http.StatusUnprocessableEntity)
			return
		}
		w.WriteHeader(http.StatusOK)
	}
}

// suspendedWithHeld sets up a Suspended destination whose cooldown ended,
// holding msgs in that order.
func (f *workerFixture) suspendedWithHeld(t *testing.T, n int) (destination.Destination, []event.Message) {
	t.Helper()
	now := f.clock.Now()
	d := f.addDestination(destination.Suspended, 5, delivery.State{Failures: threshold, OpenUntil: now.Add(-time.Second), Cooldown: cooldown})
	msgs := f.events(d, n)
	for i, m := range msgs {
		if _, err := f.store.Hold(context.Background(), m, now.Add(time.Duration(i-n)*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.store.FlagHeld(context.Background(), d.ID); err != nil {
		t.Fatal(err)
	}
	return d, msgs
}

// probeNow hands the worker the probe request for d.
func (f *workerFixture) probeNow(t *testing.T, d destination.Destination) {
	t.Helper()
	if failed := f.handle(t, batch(t, event.ProbeRequest(d.ID, f.clock.Now()))); len(failed) != 0 {
		t.Errorf("probe request: batch item failures %v", failed)
	}
}

// TestProbeRequestProbesWithTheOldestHeldEvent: defect 10, a suspended
// destination is probed when its cooldown ends, with no event arriving.
func TestProbeRequestProbesWithTheOldestHeldEvent(t *testing.T) {
	f := newWorkerFixture(t)
	d, msgs := f.suspendedWithHeld(t, 3)
	f.probeNow(t, d)
	reqs := f.recv.Requests()
	if len(reqs) != 1 || string(reqs[0].Body) != string(msgs[0].Body) {
		t.Fatalf("deliveries: got %d, want one probe with the oldest held event %s", len(reqs), msgs[0].Body)
	}
	if got := f.store.Destination(d.ID).Status; got != destination.Active {
		t.Errorf("status: got %s, want Active", got)
	}
	if got := heldIDsOf(f.store.Held(d.ID)); strings.Join(got, ",") != "e2,e3" {
		t.Errorf("held after the probe: got %v, want e2,e3 (the probe's hold deleted, the rest left to the drain)", got)
	}
	sent, _ := f.queue.messages()
	if _, drains, _ := testkit.SplitMessages(sent); len(drains) != 1 {
		t.Errorf("drain requests: got %d, want 1", len(drains))
	}
}

// TestProbeRequestBeforeTheCooldownEndsDoesNothing: a stale or duplicate
// request neither probes nor touches the held events.
func TestProbeRequestBeforeTheCooldownEndsDoesNothing(t *testing.T) {
	f := newWorkerFixture(t)
	d, _ := f.suspendedWithHeld(t, 2)
	f.clock.Advance(-time.Minute)
	f.probeNow(t, d)
	if got := len(f.recv.Requests()); got != 0 {
		t.Errorf("deliveries: got %d, want 0", got)
	}
	if got := len(f.store.Held(d.ID)); got != 2 {
		t.Errorf("held: got %d, want 2", got)
	}
}

// TestPoisonProbeDoesNotWedgeTheDestination: defect 2. The oldest held
// event is always refused; the failed probe goes behind the others, so the
// next probe is another event, which heals the destination.
func TestPoisonProbeDoesNotWedgeTheDestination(t *testing.T) {
	f := newWorkerFixture(t)
	d, msgs := f.suspendedWithHeld(t, 3)
	f.recv.SetRespond(refusing(string(msgs[0].Body)))

	f.probeNow(t, d)
	st, _ := f.store.LoadState(context.Background(), d.ID)
	if got := f.store.Destination(d.ID).Status; got != destination.Suspended {
		t.Fatalf("after the poison probe: status %s, want Suspended", got)
	}
	if got := heldIDsOf(f.store.Held(d.ID)); strings.Join(got, ",") != "e2,e3,e1" {
		t.Errorf("held after the failed probe: got %v, want e2,e3,e1 (the poison last)", got)
	}

	f.clock.Set(st.OpenUntil)
	f.probeNow(t, d)
	reqs := f.recv.Requests()
	if len(reqs) != 2 || string(reqs[1].Body) != string(msgs[1].Body) {
		t.Fatalf("second probe: got %d deliveries, last %q; want the next event %s", len(reqs), reqs[len(reqs)-1].Body, msgs[1].Body)
	}
	if got := f.store.Destination(d.ID).Status; got != destination.Active {
		t.Errorf("after the second probe: status %s, want Active", got)
	}
}

// TestFailedProbesSpendAttempts: defect 2. A destination that refuses its
// only held event ends with that event Failed, attempts spent, instead of
// probing with it forever.
func TestFailedProbesSpendAttempts(t *testing.T) {
	f := newWorkerFixture(t)
	d, msgs := f.suspendedWithHeld(t, 1)
	f.recv.SetRespond(refusing(string(msgs[0].Body)))
	for i := range maxAttempts + 2 {
		f.probeNow(t, d)
		st, _ := f.store.LoadState(context.Background(), d.ID)
		f.clock.Set(st.OpenUntil)
		if len(f.store.Held(d.ID)) == 0 {
			if i+1 != maxAttempts {
				t.Errorf("held event gone after %d probes, want %d", i+1, maxAttempts)
			}
			break
		}
	}
	e, ok := f.store.Event(msgs[0].EventID)
	if !ok || e.Status != event.StatusFailed || e.Msg.Attempts != maxAttempts || string(e.Msg.Body) != string(msgs[0].Body) {
		t.Errorf("stored event: got %+v (found %v), want Failed with %d attempts and its body", e, ok, maxAttempts)
	}
	if got := len(f.recv.Requests()); got != maxAttempts {
		t.Errorf("probes sent: got %d, want %d", got, maxAttempts)
	}
}

func heldIDsOf(held []event.Held) []string {
	var ids []string
	for _, h := range held {
		ids = append(ids, h.Message.EventID)
	}
	return ids
}

// TestProbeRequestWithNothingHeldClaimsNothing: a probe request that finds
// no held event leaves the claim free, so the next event to arrive (say, a
// retry) is the probe at once instead of being held until a sweep.
func TestProbeRequestWithNothingHeldClaimsNothing(t *testing.T) {
	f := newWorkerFixture(t)
	d, _ := f.suspendedWithHeld(t, 0)
	f.probeNow(t, d)
	if st, _ := f.store.LoadState(context.Background(), d.ID); !st.ProbeUntil.IsZero() {
		t.Fatalf("probe claimed until %v with nothing to probe with", st.ProbeUntil)
	}
	if failed := f.handle(t, batch(t, f.events(d, 1)...)); len(failed) != 0 {
		t.Errorf("batch item failures: %v", failed)
	}
	if got := len(f.recv.Requests()); got != 1 {
		t.Errorf("deliveries: got %d, want the arriving event as the probe", got)
	}
	if got := f.store.Destination(d.ID).Status; got != destination.Active {
		t.Errorf("status: got %s, want Active", got)
	}
}

// TestFailedProbeIsNotTheNextProbe: the poison event was the only hold when
// its probe failed; events held during the cooldown come after it, yet the
// next probe is one of them.
func TestFailedProbeIsNotTheNextProbe(t *testing.T) {
	f := newWorkerFixture(t)
	d, msgs := f.suspendedWithHeld(t, 1)
	f.recv.SetRespond(refusing(string(msgs[0].Body)))
	f.probeNow(t, d)
	arriving := f.events(d, 3)[1:] // e2, e3, arriving while the breaker is open
	if failed := f.handle(t, batch(t, arriving...)); len(failed) != 0 {
		t.Fatalf("batch item failures: %v", failed)
	}
	if got := heldIDsOf(f.store.Held(d.ID)); strings.Join(got, ",") != "e1,e2,e3" {
		t.Fatalf("held: got %v, want e1,e2,e3 (the poison first)", got)
	}
	st, _ := f.store.LoadState(context.Background(), d.ID)
	f.clock.Set(st.OpenUntil)
	f.probeNow(t, d)
	reqs := f.recv.Requests()
	if len(reqs) != 2 || string(reqs[1].Body) != string(arriving[0].Body) {
		t.Fatalf("second probe: got %d deliveries, last %q; want %s", len(reqs), reqs[len(reqs)-1].Body, arriving[0].Body)
	}
	if got := f.store.Destination(d.ID).Status; got != destination.Active {
		t.Errorf("status: got %s, want Active", got)
	}
}

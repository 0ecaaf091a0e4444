package delivery_test

import (
	"bytes"
	"context"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hooksentry/hooksentry/pkg/delivery"
	"github.com/hooksentry/hooksentry/pkg/destination"
	"github.com/hooksentry/hooksentry/pkg/destination/destinationtest"
)

// The reference vector of the Standard Webhooks specification.
const (
	vectorSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vectorID        = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vectorTimestamp = 1614265330
	vectorBody      = `{"test": 2432232314}`
	vectorSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func signingKey(t testing.TB, secret string) []byte {
	t.Helper()
	k, err := destination.SigningKey(secret)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSignatureReferenceVector(t *testing.T) {
	got := delivery.Signature(signingKey(t, vectorSecret), vectorID, vectorTimestamp, []byte(vectorBody))
	if got != vectorSignature {
		t.Errorf("Signature: got %q, want %q", got, vectorSignature)
	}
}

// TestSenderSigns: the header signs what the other headers and the body
// carry, with both keys during the overlap after a rotation, and is absent
// for a destination without a signing secret.
func TestSenderSigns(t *testing.T) {
	cur, prev := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	now := newClock(time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)).Now() // the fixture's clock
	for _, tc := range []struct {
		name string
		keys destination.SigningKeys
		want func(ts int64, body []byte) []string // nil: no header
	}{
		{"no signing secret", destination.SigningKeys{}, nil},
		{"current only", destination.SigningKeys{Current: cur}, func(ts int64, body []byte) []string {
			return []string{delivery.Signature(cur, "evt-1", ts, body)}
		}},
		{"during the overlap", destination.SigningKeys{Current: cur, Previous: prev, PreviousUntil: now.Add(time.Second)}, func(ts int64, body []byte) []string {
			return []string{delivery.Signature(cur, "evt-1", ts, body) + " " + delivery.Signature(prev, "evt-1", ts, body)}
		}},
		{"once the overlap ended", destination.SigningKeys{Current: cur, Previous: prev, PreviousUntil: now}, func(ts int64, body []byte) []string {
			return []string{delivery.Signature(cur, "evt-1", ts, body)}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newSenderFixture(t)
			if res := f.sender.AttemptSigned(context.Background(), f.destination(destination.AuthNone), destination.Credentials{}, tc.keys, message()); !res.OK() {
				t.Fatalf("AttemptSigned: got %+v, want success", res)
			}
			r := onlyRequest(t, f.dest)
			got := r.Header.Values(delivery.HeaderSignature)
			var want []string
			if tc.want != nil {
				// Signed over the id, timestamp and body that arrived.
				ts, err := strconv.ParseInt(r.Header.Get("HookSentry-Timestamp"), 10, 64)
				if err != nil || r.Header.Get("HookSentry-Event-Id") != "evt-1" || ts != now.Unix() {
					t.Fatalf("headers: got %v", r.Header)
				}
				want = tc.want(ts, r.Body)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s: got %q, want %q", delivery.HeaderSignature, got, want)
			}
		})
	}
}

// BenchmarkSignature is the CPU cost of signing one 1 KiB event
// (docs/PERFORMANCE.md).
func BenchmarkSignature(b *testing.B) {
	key := signingKey(b, vectorSecret)
	body := bytes.Repeat([]byte("x"), 1024)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		delivery.Signature(key, vectorID, vectorTimestamp, body)
	}
}

// TestWorkerSignsWithOpenedKeys: the worker opens the destination's sealed
// signing keys (the previous one only during the overlap) and signs every
// attempt with them; without a sealed key nothing is signed.
func TestWorkerSignsWithOpenedKeys(t *testing.T) {
	cur, prev := bytes.Repeat([]byte{3}, 32), bytes.Repeat([]byte{4}, 32)
	for _, tc := range []struct {
		name      string
		prevUntil time.Duration // from the fixture's now; 0: no previous key
		legacy    bool          // created before signing: no key at all
		wantSigs  int
	}{
		{"current only", 0, false, 1},
		{"during the overlap", time.Hour, false, 2},
		{"once the overlap ended", -time.Second, false, 1},
		{"destination without a signing secret", 0, true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newWorkerFixture(t)
			sealer := &destinationtest.Sealer{}
			f.w.Sealer = sealer
			d := f.addDestination(destination.Active, 5, delivery.State{})
			seal := func(key []byte) *destination.Sealed {
				s, err := sealer.Seal(context.Background(), key, destination.SigningContext(d.TenantID, d.ID))
				if err != nil {
					t.Fatal(err)
				}
				return &s
			}
			if !tc.legacy {
				d.Signing = seal(cur)
			}
			if tc.prevUntil != 0 {
				d.PrevSigning, d.PrevSigningUntil = seal(prev), f.clock.Now().Add(tc.prevUntil)
			}
			f.store.AddDestination(d, delivery.State{})
			if failed := f.handle(t, batch(t, f.events(d, 2)...)); len(failed) != 0 {
				t.Fatalf("batch item failures: %v", failed)
			}
			reqs := f.recv.Requests()
			if len(reqs) != 2 {
				t.Fatalf("deliveries: got %d, want 2", len(reqs))
			}
			for _, r := range reqs {
				ts, _ := strconv.ParseInt(r.Header.Get("HookSentry-Timestamp"), 10, 64)
				id := r.Header.Get("HookSentry-Event-Id")
				want := []string{delivery.Signature(cur, id, ts, r.Body), delivery.Signature(prev, id, ts, r.Body)}[:tc.wantSigs]
				got := strings.Fields(r.Header.Get(delivery.HeaderSignature))
				if len(got) == 0 {
					got = nil
				}
				if len(want) == 0 {
					want = nil
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("event %s: signatures got %q, want %q", id, got, want)
				}
			}
		})
	}
}

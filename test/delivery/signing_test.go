package delivery_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/hooksentry/hooksentry/pkg/testkit"
)

var signingSecretShape = regexp.MustCompile(`^whsec_[A-Za-z0-9+/]{43}=$`)

// verifyWith checks a received delivery as a destination would, with the
// Standard Webhooks library: HookSentry's three headers read as webhook-*.
func verifyWith(secret string, r testkit.Request) error {
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		return err
	}
	h := http.Header{}
	h.Set(standardwebhooks.HeaderWebhookID, r.Header.Get("HookSentry-Event-Id"))
	h.Set(standardwebhooks.HeaderWebhookTimestamp, r.Header.Get("HookSentry-Timestamp"))
	h.Set(standardwebhooks.HeaderWebhookSignature, r.Header.Get("HookSentry-Signature"))
	return wh.Verify(r.Body, h)
}

// TestDeliveriesVerifyWithTheSigningSecret: a destination verifies every
// delivery with the secret of the 201, and after a rotation with either
// the new secret or the previous one (both sign during the overlap).
func TestDeliveriesVerifyWithTheSigningSecret(t *testing.T) {
	c := newTenant(t)
	rcv := testkit.NewReceiver(t, ca)
	d := createDestination(t, c, map[string]any{"url": rcv.URL + "/signed"})
	if !signingSecretShape.MatchString(d.SigningSecret) {
		t.Fatalf("signingSecret of the 201: got %q, want %s", d.SigningSecret, signingSecretShape)
	}
	receive := func(body string) testkit.Request {
		t.Helper()
		id := ingest(t, d.IngestToken, []byte(body), http.Header{"Content-Type": {"application/json"}})
		var got []testkit.Request
		testkit.WaitFor(t, 20*time.Second, "delivery of "+id, func() bool {
			got = byEventID(rcv.Requests())[id]
			return len(got) > 0
		})
		return got[0]
	}

	before := receive(`{"n":1}`)
	if sigs := strings.Fields(before.Header.Get("HookSentry-Signature")); len(sigs) != 1 {
		t.Errorf("before a rotation: got signatures %q, want one", sigs)
	}
	if err := verifyWith(d.SigningSecret, before); err != nil {
		t.Errorf("before a rotation, with the secret of the 201: %v", err)
	}

	resp := c.Do(t, http.MethodPost, "/api/v1/destinations/"+d.ID+"/signing-secret", nil, nil)
	var rotated struct {
		SigningSecret string `json:"signingSecret"`
	}
	resp.JSON(t, &rotated)
	if resp.Status != http.StatusOK || !signingSecretShape.MatchString(rotated.SigningSecret) || rotated.SigningSecret == d.SigningSecret {
		t.Fatalf("rotate: got %d %s, want 200 and a new secret", resp.Status, resp.Body)
	}

	after := receive(`{"n":2}`)
	if sigs := strings.Fields(after.Header.Get("HookSentry-Signature")); len(sigs) != 2 {
		t.Errorf("during the overlap: got signatures %q, want two", sigs)
	}
	for _, tc := range []struct {
		name, secret string
		wantOK       bool
	}{
		{"the new secret", rotated.SigningSecret, true},
		{"the previous secret", d.SigningSecret, true},
		{"another secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", false},
	} {
		if err := verifyWith(tc.secret, after); (err == nil) != tc.wantOK {
			t.Errorf("after the rotation, with %s: got error %v, want success %v", tc.name, err, tc.wantOK)
		}
	}
	// A body changed on the way fails with either secret.
	tampered := after
	tampered.Body = []byte(`{"n":3}`)
	if err := verifyWith(rotated.SigningSecret, tampered); err == nil {
		t.Errorf("tampered body verified")
	}

	// Reads never show a signing secret.
	for _, path := range []string{"/api/v1/destinations/" + d.ID, "/api/v1/destinations"} {
		r := c.Do(t, http.MethodGet, path, nil, nil)
		if strings.Contains(string(r.Body), "whsec_") || strings.Contains(string(r.Body), "signingSecret") {
			t.Errorf("GET %s shows a signing secret: %s", path, r.Body)
		}
	}
}

// TestRotateSigningSecretAccess: like the other routes that take an id.
func TestRotateSigningSecretAccess(t *testing.T) {
	owner, other := newTenant(t), newTenant(t)
	d := createDestination(t, owner, map[string]any{"url": "https://example.com/hook"})
	for _, tc := range []struct {
		name   string
		client *testkit.Client
		id     string
		want   int
	}{
		{"another tenant's destination", other, d.ID, http.StatusForbidden},
		{"unknown destination", owner, "7d8e9f0a-1b2c-4d3e-8f5a-6b7c8d9e0fff", http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if r := tc.client.Do(t, http.MethodPost, "/api/v1/destinations/"+tc.id+"/signing-secret", nil, nil); r.Status != tc.want {
				t.Errorf("got %d %s, want %d", r.Status, r.Body, tc.want)
			}
		})
	}
}

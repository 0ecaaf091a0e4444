package verify

import (
	"net/http"
	"testing"
	"time"
)

// FuzzVerify feeds arbitrary header values and bodies to every scheme; it
// must never panic and must only ever return nil or a *Failure.
func FuzzVerify(f *testing.F) {
	f.Add("t=1700000000,v1=abc", "1700000000", "msg_1", []byte(`{}`))
	f.Add("sha256=00", "", "", []byte(nil))
	f.Add("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= v1a,xx", "1614265330", "msg_p5jXN8AQM9LWM0D4loKWxJek", []byte(`{"test": 2432232314}`))
	f.Add("v0=zz", "-1", ",,,", []byte("x"))
	f.Add("t=,t=,v1=,=,,", "99999999999999999999", " ", []byte{0xff})
	key := []byte("fuzz-key")
	cfgs := []Config{
		{Scheme: Stripe}, {Scheme: GitHub}, {Scheme: Shopify}, {Scheme: Slack}, {Scheme: StandardWebhooks},
		{Scheme: Hmac, Header: "X-Sig", Encoding: "base64", Prefix: "sha256="},
		{Scheme: Hmac, Header: "X-Sig", Algorithm: "sha512"},
	}
	names := []string{
		"Stripe-Signature", "X-Hub-Signature-256", "X-Shopify-Hmac-Sha256", "X-Slack-Signature",
		"X-Slack-Request-Timestamp", "Webhook-Id", "Webhook-Timestamp", "Webhook-Signature",
		"Svix-Id", "Svix-Timestamp", "Svix-Signature", "X-Sig",
	}
	now := time.Unix(1700000000, 0)
	f.Fuzz(func(t *testing.T, sig, ts, id string, body []byte) {
		h := http.Header{}
		for _, n := range names {
			h[n] = []string{sig, ts, id}
		}
		h["Webhook-Timestamp"] = []string{ts}
		h["Webhook-Id"] = []string{id}
		h["X-Slack-Request-Timestamp"] = []string{ts}
		for _, cfg := range cfgs {
			err := Verify(cfg, key, h, body, now, 0)
			if err == nil {
				continue
			}
			if _, ok := err.(*Failure); !ok {
				t.Fatalf("%s: got %T, want *Failure", cfg.Scheme, err)
			}
		}
	})
}

package verify

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// Cross-check against the reference Go library in both directions. Its
// Verify uses the wall clock, so these tests sign at time.Now().
func TestStandardWebhooksLibrary(t *testing.T) {
	const msgID = "msg_2bXq9cJ1"
	payload := []byte(`{"type":"invoice.paid","data":{"n":1}}`)
	now := time.Now()
	for _, s := range []string{secret, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"} {
		wh, err := standardwebhooks.NewWebhook(s)
		if err != nil {
			t.Fatal(err)
		}
		key := mustKey(t, StandardWebhooks, s)

		t.Run("library signs, we verify", func(t *testing.T) {
			sig, err := wh.Sign(msgID, now, payload)
			if err != nil {
				t.Fatal(err)
			}
			h := http.Header{}
			h.Set(standardwebhooks.HeaderWebhookID, msgID)
			h.Set(standardwebhooks.HeaderWebhookTimestamp, strconv.FormatInt(now.Unix(), 10))
			h.Set(standardwebhooks.HeaderWebhookSignature, sig)
			checkResult(t, Verify(Config{Scheme: StandardWebhooks}, key, h, payload, now, 0), true)
			checkResult(t, Verify(Config{Scheme: StandardWebhooks}, key, h, append(payload, ' '), now, 0), false)
		})

		t.Run("we sign, library verifies", func(t *testing.T) {
			h := http.Header{}
			h.Set("webhook-id", msgID)
			h.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
			h.Set("webhook-signature", "v1,"+b64(mac256(key, msgID+"."+strconv.FormatInt(now.Unix(), 10)+"."+string(payload))))
			if err := wh.Verify(payload, h); err != nil {
				t.Fatalf("library: got %v, want nil", err)
			}
			checkResult(t, Verify(Config{Scheme: StandardWebhooks}, key, h, payload, now, 0), true)
		})
	}
}

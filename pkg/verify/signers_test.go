package verify

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"net/http"
	"strconv"
	"testing"
	"time"
)

// The signers below are written from each provider's documentation, not
// from the package code, so the tests check the package against the docs.

func hmacSHA256(key, msg string) []byte {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// Stripe "Verify webhook signatures manually": signed_payload = t + "." + body,
// HMAC-SHA256 with the endpoint secret, lowercase hex.
func stripeSign(secret string, t int64, body string) string {
	return hex.EncodeToString(hmacSHA256(secret, strconv.FormatInt(t, 10)+"."+body))
}

func stripeHeaders(secret string, t int64, body string) http.Header {
	h := http.Header{}
	h.Set("Stripe-Signature", "t="+strconv.FormatInt(t, 10)+",v1="+stripeSign(secret, t, body)+",v0=6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39")
	return h
}

// GitHub "Validating webhook deliveries": X-Hub-Signature-256: sha256=<hex>.
func githubHeaders(secret, body string) http.Header {
	h := http.Header{}
	h.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(hmacSHA256(secret, body)))
	return h
}

// Shopify "Verify a webhook": base64 of HMAC-SHA256 of the body with the
// app's client secret.
func shopifyHeaders(secret, body string) http.Header {
	h := http.Header{}
	h.Set("X-Shopify-Hmac-Sha256", base64.StdEncoding.EncodeToString(hmacSHA256(secret, body)))
	return h
}

// Slack "Verifying requests from Slack": basestring v0:{ts}:{body}, signature
// "v0=" + hex HMAC-SHA256 with the signing secret.
func slackHeaders(secret string, t int64, body string) http.Header {
	ts := strconv.FormatInt(t, 10)
	h := http.Header{}
	h.Set("X-Slack-Request-Timestamp", ts)
	h.Set("X-Slack-Signature", "v0="+hex.EncodeToString(hmacSHA256(secret, "v0:"+ts+":"+body)))
	return h
}

// Standard Webhooks spec: key = base64 decode of the part after "whsec_",
// content = id.timestamp.body, signature "v1," + base64 HMAC-SHA256.
func standardSign(t *testing.T, secret, id string, ts int64, body string) string {
	t.Helper()
	key, err := base64.StdEncoding.DecodeString(secret[len("whsec_"):])
	if err != nil {
		t.Fatal(err)
	}
	return "v1," + base64.StdEncoding.EncodeToString(hmacSHA256(string(key), id+"."+strconv.FormatInt(ts, 10)+"."+body))
}

func standardHeaders(t *testing.T, prefix, secret, id string, ts int64, body string) http.Header {
	t.Helper()
	h := http.Header{}
	h.Set(prefix+"-id", id)
	h.Set(prefix+"-timestamp", strconv.FormatInt(ts, 10))
	h.Set(prefix+"-signature", standardSign(t, secret, id, ts, body))
	return h
}

var testHashes = map[string]func() hash.Hash{"sha256": sha256.New, "sha1": sha1.New, "sha512": sha512.New}

func genericSign(alg, enc, prefix, secret, body string) string {
	m := hmac.New(testHashes[alg], []byte(secret))
	m.Write([]byte(body))
	d := m.Sum(nil)
	if enc == "base64" {
		return prefix + base64.StdEncoding.EncodeToString(d)
	}
	return prefix + hex.EncodeToString(d)
}

var testNow = time.Unix(1700000000, 0)

func mustKey(t *testing.T, s Scheme, secret string) []byte {
	t.Helper()
	k, err := Key(s, secret)
	if err != nil {
		t.Fatalf("Key(%s): %v", s, err)
	}
	return k
}

// checkResult asserts nil when wantOK, else a *Failure.
func checkResult(t *testing.T, err error, wantOK bool) {
	t.Helper()
	if wantOK {
		if err != nil {
			t.Fatalf("got %v, want nil", err)
		}
		return
	}
	if err == nil {
		t.Fatal("got nil, want *Failure")
	}
	if _, ok := err.(*Failure); !ok {
		t.Fatalf("got %T (%v), want *Failure", err, err)
	}
}

func mac256(key []byte, msg string) []byte { return hmacSHA256(string(key), msg) }

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

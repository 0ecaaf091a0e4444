package verify

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	secret      = "whsec_c2VjcmV0LWtleS1mb3ItdGVzdHMtb25seQ=="
	otherSecret = "whsec_b3RoZXItc2VjcmV0LWtleS1mb3ItdGVzdHM="
	body        = `{"id":"evt_1","type":"thing.created"}`
)

// signer builds headers for a request signed with secret at unix time ts.
type signer func(t *testing.T, secret string, ts int64, body string) http.Header

var signers = map[Scheme]signer{
	Stripe: func(t *testing.T, s string, ts int64, b string) http.Header { return stripeHeaders(s, ts, b) },
	GitHub: func(t *testing.T, s string, ts int64, b string) http.Header { return githubHeaders(s, b) },
	Shopify: func(t *testing.T, s string, ts int64, b string) http.Header {
		return shopifyHeaders(s, b)
	},
	Slack: func(t *testing.T, s string, ts int64, b string) http.Header { return slackHeaders(s, ts, b) },
	StandardWebhooks: func(t *testing.T, s string, ts int64, b string) http.Header {
		return standardHeaders(t, "webhook", s, "msg_1", ts, b)
	},
}

func TestVerifyBasics(t *testing.T) {
	for _, sc := range []Scheme{Stripe, GitHub, Shopify, Slack, StandardWebhooks} {
		sign := signers[sc]
		key := mustKey(t, sc, secret)
		cfg := Config{Scheme: sc}
		ts := testNow.Unix()
		tests := []struct {
			name string
			h    http.Header
			body string
			ok   bool
		}{
			{"signed", sign(t, secret, ts, body), body, true},
			{"wrong secret", sign(t, otherSecret, ts, body), body, false},
			{"tampered body", sign(t, secret, ts, body), body + " ", false},
			{"empty body signed", sign(t, secret, ts, ""), "", true},
			{"no headers", http.Header{}, body, false},
			{"nil headers", nil, body, false},
		}
		for _, tt := range tests {
			t.Run(string(sc)+"/"+tt.name, func(t *testing.T) {
				err := Verify(cfg, key, tt.h, []byte(tt.body), testNow, 0)
				checkResult(t, err, tt.ok)
			})
		}
	}
}

func TestVerifyMissingEachHeader(t *testing.T) {
	ts := testNow.Unix()
	for _, sc := range []Scheme{Stripe, GitHub, Shopify, Slack, StandardWebhooks} {
		key := mustKey(t, sc, secret)
		full := signers[sc](t, secret, ts, body)
		for name := range full {
			t.Run(string(sc)+"/"+name, func(t *testing.T) {
				h := full.Clone()
				h.Del(name)
				err := Verify(Config{Scheme: sc}, key, h, []byte(body), testNow, 0)
				checkResult(t, err, false)
				if got := err.Error(); !strings.Contains(strings.ToLower(got), strings.ToLower(name)) {
					t.Errorf("got %q, want it to name %s", got, name)
				}
			})
		}
	}
}

func TestVerifyTimestamps(t *testing.T) {
	type family struct {
		name string
		sc   Scheme
		sign signer
	}
	families := []family{
		{"Stripe", Stripe, signers[Stripe]},
		{"Slack", Slack, signers[Slack]},
		{"webhook", StandardWebhooks, signers[StandardWebhooks]},
		{"svix", StandardWebhooks, func(t *testing.T, s string, ts int64, b string) http.Header {
			return standardHeaders(t, "svix", s, "msg_1", ts, b)
		}},
	}
	now := testNow
	tests := []struct {
		name      string
		offset    time.Duration // signing time relative to now
		tolerance time.Duration
		ok        bool
	}{
		{"now", 0, 0, true},
		{"stale", -6 * time.Minute, 5 * time.Minute, false},
		{"future", 6 * time.Minute, 5 * time.Minute, false},
		{"just inside past", -4*time.Minute - 59*time.Second, 0, true},
		{"just inside future", 4*time.Minute + 59*time.Second, 0, true},
		{"exactly at tolerance", -5 * time.Minute, 0, true},
		{"custom tolerance accepts", -9 * time.Minute, 10 * time.Minute, true},
		{"custom tolerance refuses", -61 * time.Second, time.Minute, false},
		{"negative tolerance means default", -4 * time.Minute, -1, true},
		{"far past", -30 * 24 * time.Hour, 0, false},
	}
	for _, f := range families {
		key := mustKey(t, f.sc, secret)
		for _, tt := range tests {
			t.Run(f.name+"/"+tt.name, func(t *testing.T) {
				h := f.sign(t, secret, now.Add(tt.offset).Unix(), body)
				err := Verify(Config{Scheme: f.sc}, key, h, []byte(body), now, tt.tolerance)
				checkResult(t, err, tt.ok)
				if !tt.ok && !strings.Contains(err.Error(), "tolerance") {
					t.Errorf("got %q, want a tolerance message", err)
				}
			})
		}
	}
}

func TestVerifyStripeDetails(t *testing.T) {
	key := mustKey(t, Stripe, secret)
	ts := testNow.Unix()
	tsStr := strconv.FormatInt(ts, 10)
	good := stripeSign(secret, ts, body)
	bad := stripeSign(otherSecret, ts, body)
	tests := []struct {
		name   string
		values []string
		ok     bool
	}{
		{"second v1 matches", []string{"t=" + tsStr + ",v1=" + bad + ",v1=" + good}, true},
		{"first v1 matches", []string{"t=" + tsStr + ",v1=" + good + ",v1=" + bad}, true},
		{"uppercase hex", []string{"t=" + tsStr + ",v1=" + strings.ToUpper(good)}, true},
		{"spaces after commas", []string{"t=" + tsStr + ", v1=" + good}, true},
		{"unknown keys ignored", []string{"x=1,t=" + tsStr + ",v1=" + good + ",foo"}, true},
		{"only v0", []string{"t=" + tsStr + ",v0=" + good}, false},
		{"no t", []string{"v1=" + good}, false},
		{"two t", []string{"t=" + tsStr + ",t=" + tsStr + ",v1=" + good}, false},
		{"t not an integer", []string{"t=abc,v1=" + good}, false},
		{"negative t", []string{"t=-" + tsStr + ",v1=" + good}, false},
		{"huge t", []string{"t=99999999999999999999999,v1=" + good}, false},
		{"truncated v1", []string{"t=" + tsStr + ",v1=" + good[:10]}, false},
		{"second header value matches", []string{"t=" + tsStr + ",v1=" + bad, "t=" + tsStr + ",v1=" + good}, true},
		{"too long", []string{"t=" + tsStr + ",v1=" + good + "," + strings.Repeat("x", maxHeaderValue)}, false},
		{"empty", []string{""}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{"Stripe-Signature": tt.values}
			checkResult(t, Verify(Config{Scheme: Stripe}, key, h, []byte(body), testNow, 0), tt.ok)
		})
	}
}

func TestVerifyHeaderNamesCaseInsensitive(t *testing.T) {
	key := mustKey(t, GitHub, secret)
	v := githubHeaders(secret, body).Get("X-Hub-Signature-256")
	h := http.Header{}
	h.Add("x-hub-signature-256", v) // Add canonicalises, as net/http does for requests
	checkResult(t, Verify(Config{Scheme: GitHub}, key, h, []byte(body), testNow, 0), true)
}

func TestVerifyStandardWebhooksDetails(t *testing.T) {
	key := mustKey(t, StandardWebhooks, secret)
	ts := testNow.Unix()
	good := standardSign(t, secret, "msg_1", ts, body)
	bad := standardSign(t, otherSecret, "msg_1", ts, body)
	tests := []struct {
		name string
		sig  string
		ok   bool
	}{
		{"single", good, true},
		{"second of list", bad + " " + good, true},
		{"other version skipped", "v1a," + good[3:] + " " + good, true},
		{"only other version", "v1a," + good[3:], false},
		{"v2 only", "v2," + good[3:], false},
		{"unpadded", strings.TrimRight(good, "="), true},
		{"garbage", "v1,!!!!", false},
		{"no comma", "v1" + good[3:], false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			h.Set("webhook-id", "msg_1")
			h.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
			h.Set("webhook-signature", tt.sig)
			checkResult(t, Verify(Config{Scheme: StandardWebhooks}, key, h, []byte(body), testNow, 0), tt.ok)
		})
	}

	t.Run("families are not mixed", func(t *testing.T) {
		h := standardHeaders(t, "webhook", secret, "msg_1", ts, body)
		h.Del("webhook-signature")
		h.Set("svix-signature", good)
		checkResult(t, Verify(Config{Scheme: StandardWebhooks}, key, h, []byte(body), testNow, 0), false)
	})
	t.Run("id is signed", func(t *testing.T) {
		h := standardHeaders(t, "webhook", secret, "msg_1", ts, body)
		h.Set("webhook-id", "msg_2")
		checkResult(t, Verify(Config{Scheme: StandardWebhooks}, key, h, []byte(body), testNow, 0), false)
	})
}

// The known-answer vector from the Standard Webhooks specification.
func TestVerifyStandardWebhooksSpecVector(t *testing.T) {
	key := mustKey(t, StandardWebhooks, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	for _, prefix := range []string{"webhook", "svix"} {
		t.Run(prefix, func(t *testing.T) {
			h := http.Header{}
			h.Set(prefix+"-id", "msg_p5jXN8AQM9LWM0D4loKWxJek")
			h.Set(prefix+"-timestamp", "1614265330")
			h.Set(prefix+"-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
			err := Verify(Config{Scheme: StandardWebhooks}, key, h, []byte(`{"test": 2432232314}`), time.Unix(1614265330, 0), 0)
			checkResult(t, err, true)
		})
	}
}

func TestVerifySlackDetails(t *testing.T) {
	key := mustKey(t, Slack, secret)
	ts := testNow.Unix()
	h := slackHeaders(secret, ts, body)
	sig := h.Get("X-Slack-Signature")
	tests := []struct {
		name string
		sig  string
		ts   string
		ok   bool
	}{
		{"signed", sig, strconv.FormatInt(ts, 10), true},
		{"no v0 prefix", sig[3:], strconv.FormatInt(ts, 10), false},
		{"v1 prefix", "v1=" + sig[3:], strconv.FormatInt(ts, 10), false},
		{"other timestamp", sig, strconv.FormatInt(ts+1, 10), false},
		{"bad timestamp", sig, "12ab", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			h.Set("X-Slack-Signature", tt.sig)
			h.Set("X-Slack-Request-Timestamp", tt.ts)
			checkResult(t, Verify(Config{Scheme: Slack}, key, h, []byte(body), testNow, 0), tt.ok)
		})
	}
}

func TestVerifyHmac(t *testing.T) {
	const hdr = "X-Signature"
	key := mustKey(t, Hmac, secret)
	for _, alg := range []string{"sha256", "sha1", "sha512", ""} {
		for _, enc := range []string{"hex", "base64", ""} {
			for _, prefix := range []string{"", "sha256="} {
				signAlg, signEnc := alg, enc
				if signAlg == "" {
					signAlg = "sha256"
				}
				if signEnc == "" {
					signEnc = "hex"
				}
				cfg := Config{Scheme: Hmac, Header: hdr, Algorithm: strings.ToUpper(alg), Encoding: enc, Prefix: prefix}
				name := signAlg + "/" + signEnc + "/prefix=" + prefix
				if alg == "" || enc == "" {
					name += "/defaults"
				}
				good := genericSign(signAlg, signEnc, prefix, secret, body)
				bare := good[len(prefix):]
				tests := []struct {
					name  string
					value string
					body  string
					ok    bool
				}{
					{"signed", good, body, true},
					{"wrong secret", genericSign(signAlg, signEnc, prefix, otherSecret, body), body, false},
					{"tampered body", good, body + "x", false},
					{"missing header", "", body, false},
				}
				if prefix != "" {
					tests = append(tests, struct {
						name  string
						value string
						body  string
						ok    bool
					}{"missing prefix", bare, body, false}, struct {
						name  string
						value string
						body  string
						ok    bool
					}{"prefix case differs", strings.ToUpper(prefix) + bare, body, false})
				}
				if signEnc == "hex" {
					tests = append(tests, struct {
						name  string
						value string
						body  string
						ok    bool
					}{"uppercase hex", prefix + strings.ToUpper(bare), body, true})
				} else {
					tests = append(tests, struct {
						name  string
						value string
						body  string
						ok    bool
					}{"unpadded base64", prefix + strings.TrimRight(bare, "="), body, true})
				}
				for _, tt := range tests {
					t.Run(name+"/"+tt.name, func(t *testing.T) {
						h := http.Header{}
						if tt.value != "" {
							h.Set(hdr, tt.value)
						}
						checkResult(t, Verify(cfg, key, h, []byte(tt.body), testNow, 0), tt.ok)
					})
				}
			}
		}
	}
}

func TestVerifyHmacWrongEncodingOrAlgorithm(t *testing.T) {
	key := mustKey(t, Hmac, secret)
	cfg := Config{Scheme: Hmac, Header: "X-Signature", Algorithm: "sha256", Encoding: "hex"}
	tests := []struct{ name, value string }{
		{"base64 when hex configured", genericSign("sha256", "base64", "", secret, body)},
		{"sha1 when sha256 configured", genericSign("sha1", "hex", "", secret, body)},
		{"sha512 when sha256 configured", genericSign("sha512", "hex", "", secret, body)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{"X-Signature": {tt.value}}
			checkResult(t, Verify(cfg, key, h, []byte(body), testNow, 0), false)
		})
	}
}

func TestVerifyMultipleValues(t *testing.T) {
	key := mustKey(t, GitHub, secret)
	good := githubHeaders(secret, body).Get("X-Hub-Signature-256")
	bad := githubHeaders(otherSecret, body).Get("X-Hub-Signature-256")
	tests := []struct {
		name   string
		values []string
		ok     bool
	}{
		{"second matches", []string{bad, good}, true},
		{"empty then good", []string{"", good}, true},
		{"none match", []string{bad, bad}, false},
		{"too long then good", []string{strings.Repeat("a", maxHeaderValue+1), good}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{"X-Hub-Signature-256": tt.values}
			checkResult(t, Verify(Config{Scheme: GitHub}, key, h, []byte(body), testNow, 0), tt.ok)
		})
	}
}

func TestVerifyFailsClosed(t *testing.T) {
	h := githubHeaders(secret, body)
	tests := []struct {
		name string
		cfg  Config
		key  []byte
	}{
		{"unknown scheme", Config{Scheme: "Nope"}, []byte(secret)},
		{"empty key", Config{Scheme: GitHub}, nil},
		{"hmac without header", Config{Scheme: Hmac}, []byte(secret)},
		{"hmac bad algorithm", Config{Scheme: Hmac, Header: "X-Hub-Signature-256", Algorithm: "md5"}, []byte(secret)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkResult(t, Verify(tt.cfg, tt.key, h, []byte(body), testNow, 0), false)
		})
	}
}

func TestVerifySchemeCaseInsensitive(t *testing.T) {
	key := mustKey(t, GitHub, secret)
	checkResult(t, Verify(Config{Scheme: "github"}, key, githubHeaders(secret, body), []byte(body), testNow, 0), true)
}

func TestFailureMessages(t *testing.T) {
	ts := testNow.Unix()
	tests := []struct {
		name string
		sc   Scheme
		h    http.Header
		want string
	}{
		{"stripe missing", Stripe, http.Header{}, "The Stripe-Signature header is missing."},
		{"github mismatch", GitHub, githubHeaders(otherSecret, body), "The X-Hub-Signature-256 signature does not match the body."},
		{"stripe stale", Stripe, stripeHeaders(secret, ts-600, body), "The Stripe-Signature timestamp is outside the allowed 5m0s tolerance."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(Config{Scheme: tt.sc}, mustKey(t, tt.sc, secret), tt.h, []byte(body), testNow, 0)
			if err == nil {
				t.Fatal("got nil, want failure")
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// Failure messages go back to the sender, so they must never reveal the
// secret or the signature we expected.
func TestFailureNeverLeaks(t *testing.T) {
	ts := testNow.Unix()
	type leakCase struct {
		name     string
		cfg      Config
		h        http.Header
		body     string
		expected []string // what a correct signature would have been
	}
	var cases []leakCase
	for _, sc := range []Scheme{Stripe, GitHub, Shopify, Slack, StandardWebhooks} {
		good := signers[sc](t, secret, ts, body)
		var exp []string
		for _, vs := range good {
			for _, v := range vs {
				exp = append(exp, v)
				// Also the bare digest, wherever it sits in the value.
				for _, part := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == '=' || r == ' ' }) {
					if len(part) >= 20 {
						exp = append(exp, part)
					}
				}
			}
		}
		for _, other := range []http.Header{
			signers[sc](t, otherSecret, ts, body),
			signers[sc](t, otherSecret, ts-3600, body),
			{},
		} {
			cases = append(cases, leakCase{string(sc), Config{Scheme: sc}, other, body, exp})
		}
	}
	hmacExp := genericSign("sha256", "hex", "", secret, body)
	cases = append(cases, leakCase{"Hmac", Config{Scheme: Hmac, Header: "X-Sig"}, http.Header{"X-Sig": {genericSign("sha256", "hex", "", otherSecret, body)}}, body, []string{hmacExp}})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			key := mustKey(t, tc.cfg.Scheme, secret)
			err := Verify(tc.cfg, key, tc.h, []byte(tc.body), testNow, 0)
			if err == nil {
				t.Fatal("got nil, want failure")
			}
			msg := err.Error()
			for _, bad := range append([]string{secret, strings.TrimPrefix(secret, "whsec_"), string(key)}, tc.expected...) {
				if strings.Contains(msg, bad) {
					t.Errorf("message %q contains a secret or the expected signature", msg)
				}
			}
		})
	}
}

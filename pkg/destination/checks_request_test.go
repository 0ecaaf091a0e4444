package destination_test

import (
	"errors"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hooksentry/hooksentry/pkg/alert"
	"github.com/hooksentry/hooksentry/pkg/apperror"
	"github.com/hooksentry/hooksentry/pkg/dedup"
	"github.com/hooksentry/hooksentry/pkg/destination"
	"github.com/hooksentry/hooksentry/pkg/verify"
)

const swSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

func mustDedupKey(t *testing.T, spec string) dedup.Key {
	t.Helper()
	k, err := dedup.ParseKey(spec)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestParseCreateChecks(t *testing.T) {
	tests := []struct {
		name      string
		body      string
		wantVer   *destination.VerificationInput
		wantDedup *destination.Deduplication
	}{
		{
			name:    "stripe, type matched case-insensitively",
			body:    `{"url":"https://example.com","verification":{"type":"stripe","secret":"whsec_abc"}}`,
			wantVer: &destination.VerificationInput{Config: verify.Config{Scheme: verify.Stripe}, Secret: "whsec_abc"},
		},
		{
			name:    "standard webhooks",
			body:    `{"url":"https://example.com","Verification":{"Type":"StandardWebhooks","Secret":"` + swSecret + `"}}`,
			wantVer: &destination.VerificationInput{Config: verify.Config{Scheme: verify.StandardWebhooks}, Secret: swSecret},
		},
		{
			name:    "hmac with defaults",
			body:    `{"url":"https://example.com","verification":{"type":"Hmac","secret":"s3","header":"X-Signature"}}`,
			wantVer: &destination.VerificationInput{Config: verify.Config{Scheme: verify.Hmac, Header: "X-Signature", Algorithm: "sha256", Encoding: "hex"}, Secret: "s3"},
		},
		{
			name:    "hmac with every setting",
			body:    `{"url":"https://example.com","verification":{"type":"HMAC","secret":"s3","header":"X-Sig","algorithm":"SHA512","encoding":"Base64","prefix":"sha512="}}`,
			wantVer: &destination.VerificationInput{Config: verify.Config{Scheme: verify.Hmac, Header: "X-Sig", Algorithm: "sha512", Encoding: "base64", Prefix: "sha512="}, Secret: "s3"},
		},
		{
			name:      "deduplication with the default window",
			body:      `{"url":"https://example.com","deduplication":{"key":"header:Idempotency-Key"}}`,
			wantDedup: &destination.Deduplication{Key: mustDedupKey(t, "header:Idempotency-Key"), Window: time.Hour},
		},
		{
			name:      "deduplication with a window",
			body:      `{"url":"https://example.com","deduplication":{"Key":"body:data.id","Window":"15m"}}`,
			wantDedup: &destination.Deduplication{Key: mustDedupKey(t, "body:data.id"), Window: 15 * time.Minute},
		},
		{
			name: "null means none",
			body: `{"url":"https://example.com","verification":null,"deduplication":null}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := destination.ParseCreate([]byte(tt.body), nil)
			if err != nil {
				t.Fatalf("ParseCreate: %v", err)
			}
			if !reflect.DeepEqual(got.Verification, tt.wantVer) {
				t.Errorf("Verification = %+v, want %+v", got.Verification, tt.wantVer)
			}
			if !reflect.DeepEqual(got.Deduplication, tt.wantDedup) {
				t.Errorf("Deduplication = %+v, want %+v", got.Deduplication, tt.wantDedup)
			}
		})
	}
}

func TestParseChecksInvalid(t *testing.T) {
	tests := []struct {
		name   string
		checks string // members added to a valid create body
		fields []string
	}{
		{"verification not an object", `"verification":"Stripe"`, []string{"verification"}},
		{"unknown type", `"verification":{"type":"Paddle","secret":"s"}`, []string{"verification.type"}},
		{"missing type", `"verification":{"secret":"s"}`, []string{"verification.type"}},
		{"missing secret", `"verification":{"type":"GitHub"}`, []string{"verification.secret"}},
		{"empty secret", `"verification":{"type":"GitHub","secret":""}`, []string{"verification.secret"}},
		{"secret not a string", `"verification":{"type":"GitHub","secret":7}`, []string{"verification.secret"}},
		{"secret with a control character", `"verification":{"type":"GitHub","secret":"a\u0000b"}`, []string{"verification.secret"}},
		{"secret too long", `"verification":{"type":"GitHub","secret":"` + strings.Repeat("s", 4097) + `"}`, []string{"verification.secret"}},
		{"standard webhooks secret not base64", `"verification":{"type":"StandardWebhooks","secret":"whsec_%%%"}`, []string{"verification.secret"}},
		{"unknown member", `"verification":{"type":"Slack","secret":"s","tolerance":"1m"}`, []string{"verification.tolerance"}},
		{"hmac member on another type", `"verification":{"type":"Slack","secret":"s","header":"X-Sig"}`, []string{"verification.header"}},
		{"hmac without header", `"verification":{"type":"Hmac","secret":"s"}`, []string{"verification.header"}},
		{"hmac with an unknown algorithm", `"verification":{"type":"Hmac","secret":"s","header":"X-Sig","algorithm":"md5"}`, []string{"verification.algorithm"}},
		{"hmac with an unknown encoding", `"verification":{"type":"Hmac","secret":"s","header":"X-Sig","encoding":"base32"}`, []string{"verification.encoding"}},
		{"hmac with a bad header name", `"verification":{"type":"Hmac","secret":"s","header":"X Sig"}`, []string{"verification.header"}},
		{"deduplication not an object", `"deduplication":true`, []string{"deduplication"}},
		{"deduplication without key", `"deduplication":{"window":"1h"}`, []string{"deduplication.key"}},
		{"deduplication key of no source", `"deduplication":{"key":"query:id"}`, []string{"deduplication.key"}},
		{"deduplication window too short", `"deduplication":{"key":"body:id","window":"500ms"}`, []string{"deduplication.window"}},
		{"deduplication window too long", `"deduplication":{"key":"body:id","window":"25h"}`, []string{"deduplication.window"}},
		{"deduplication window not Go syntax", `"deduplication":{"key":"body:id","window":"1 hour"}`, []string{"deduplication.window"}},
		{"deduplication window a number", `"deduplication":{"key":"body:id","window":3600}`, []string{"deduplication.window"}},
		{"deduplication unknown member", `"deduplication":{"key":"body:id","scope":"tenant"}`, []string{"deduplication.scope"}},
		{"alerts not an array", `"alerts":"event.failed"`, []string{"alerts"}},
		{"unknown alert", `"alerts":["event.failed","event.delivered"]`, []string{"alerts[1]"}},
		{"alert not a string", `"alerts":[1]`, []string{"alerts[0]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, parse := range []struct {
				what string
				run  func(string) error
			}{
				{"create", func(body string) error { _, err := destination.ParseCreate([]byte(body), nil); return err }},
				{"patch", func(body string) error {
					_, err := destination.ParsePatch([]byte(body), destination.AuthNone, nil)
					return err
				}},
			} {
				body := `{"url":"https://example.com",` + tt.checks + `}`
				err := parse.run(body)
				var ae *apperror.Error
				if !errors.As(err, &ae) || ae.Code != apperror.Invalid {
					t.Fatalf("%s: error = %v, want a validation error", parse.what, err)
				}
				var got []string
				for _, fe := range ae.Fields {
					got = append(got, fe.Field)
					if strings.Contains(fe.Message, "s3cr3t") || strings.Contains(fe.Message, "%%%") {
						t.Errorf("%s: message %q quotes the secret", parse.what, fe.Message)
					}
				}
				sort.Strings(got)
				if !reflect.DeepEqual(got, tt.fields) {
					t.Errorf("%s: fields = %v, want %v", parse.what, got, tt.fields)
				}
			}
		})
	}
}

func TestParsePatchChecks(t *testing.T) {
	tests := []struct {
		name                string
		body                string
		wantVer             bool
		removeVer, removeDd bool
		wantDedup           bool
	}{
		{name: "absent leaves both", body: `{}`},
		{name: "null removes verification", body: `{"verification":null}`, removeVer: true},
		{name: "null removes deduplication", body: `{"deduplication":null}`, removeDd: true},
		{name: "set both", body: `{"verification":{"type":"GitHub","secret":"s"},"deduplication":{"key":"body:id"}}`, wantVer: true, wantDedup: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := destination.ParsePatch([]byte(tt.body), destination.AuthNone, nil)
			if err != nil {
				t.Fatalf("ParsePatch: %v", err)
			}
			if got := p.Verification != nil; got != tt.wantVer {
				t.Errorf("Verification set = %v, want %v", got, tt.wantVer)
			}
			if got := p.Deduplication != nil; got != tt.wantDedup {
				t.Errorf("Deduplication set = %v, want %v", got, tt.wantDedup)
			}
			if p.RemoveVerification != tt.removeVer || p.RemoveDeduplication != tt.removeDd {
				t.Errorf("remove = %v, %v; want %v, %v", p.RemoveVerification, p.RemoveDeduplication, tt.removeVer, tt.removeDd)
			}
		})
	}
}

func TestParseAlerts(t *testing.T) {
	tests := []struct {
		name string
		body string
		want []alert.Type
	}{
		{"all three, matched case-insensitively", `{"url":"https://example.com","alerts":["Destination.Suspended","destination.recovered","EVENT.FAILED"]}`,
			[]alert.Type{alert.DestinationSuspended, alert.DestinationRecovered, alert.EventFailed}},
		{"repeats count once", `{"url":"https://example.com","alerts":["event.failed","event.failed"]}`, []alert.Type{alert.EventFailed}},
		{"empty is none", `{"url":"https://example.com","alerts":[]}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, err := destination.ParseCreate([]byte(tt.body), nil)
			if err != nil {
				t.Fatalf("ParseCreate: %v", err)
			}
			if !reflect.DeepEqual(in.Alerts, tt.want) {
				t.Errorf("Alerts = %v, want %v", in.Alerts, tt.want)
			}
		})
	}
	for _, tc := range []struct {
		body string
		want *[]alert.Type
	}{
		{`{}`, nil},
		{`{"alerts":null}`, &[]alert.Type{}},
		{`{"alerts":["event.failed"]}`, &[]alert.Type{alert.EventFailed}},
	} {
		p, err := destination.ParsePatch([]byte(tc.body), destination.AuthNone, nil)
		if err != nil {
			t.Fatalf("ParsePatch(%s): %v", tc.body, err)
		}
		if (p.Alerts == nil) != (tc.want == nil) || (p.Alerts != nil && len(*p.Alerts) != len(*tc.want)) {
			t.Errorf("ParsePatch(%s).Alerts = %v, want %v", tc.body, p.Alerts, tc.want)
		}
	}
}

package verify

import (
	"errors"
	"strings"
	"testing"
)

func TestSchemes(t *testing.T) {
	got := Schemes()
	want := []Scheme{Stripe, GitHub, Shopify, Slack, StandardWebhooks, Hmac}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("got %v, want %v", got, want)
		}
	}
}

func TestParseScheme(t *testing.T) {
	tests := []struct {
		in   string
		want Scheme
		ok   bool
	}{
		{"Stripe", Stripe, true},
		{"github", GitHub, true},
		{"SHOPIFY", Shopify, true},
		{"slack", Slack, true},
		{"standardwebhooks", StandardWebhooks, true},
		{"HMAC", Hmac, true},
		{"", "", false},
		{"svix", "", false},
	}
	for _, tt := range tests {
		got, ok := ParseScheme(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseScheme(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestKey(t *testing.T) {
	tests := []struct {
		name    string
		sc      Scheme
		secret  string
		want    string
		wantErr bool
	}{
		{"stripe whole string", Stripe, "whsec_abc", "whsec_abc", false},
		{"github raw", GitHub, "s3cr3t", "s3cr3t", false},
		{"hmac raw", Hmac, "k", "k", false},
		{"standard decoded", StandardWebhooks, "whsec_aGVsbG8=", "hello", false},
		{"standard without prefix", StandardWebhooks, "aGVsbG8=", "hello", false},
		{"empty", Stripe, "", "", true},
		{"empty standard", StandardWebhooks, "", "", true},
		{"standard bad base64", StandardWebhooks, "whsec_not*base64!", "", true},
		{"standard zero bytes", StandardWebhooks, "whsec_", "", true},
		{"unknown scheme", "Nope", "x", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Key(tt.sc, tt.secret)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("got %q, want error", got)
				}
				if tt.secret != "" && strings.Contains(err.Error(), tt.secret) {
					t.Errorf("error %q quotes the secret", err)
				}
				return
			}
			if err != nil || string(got) != tt.want {
				t.Errorf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name      string
		cfg       Config
		wantField string // "" means valid
	}{
		{"stripe ignores hmac fields", Config{Scheme: Stripe, Header: "bad header", Algorithm: "md5"}, ""},
		{"hmac minimal", Config{Scheme: Hmac, Header: "X-Signature"}, ""},
		{"hmac full", Config{Scheme: "hmac", Header: "X-Sig", Algorithm: "SHA512", Encoding: "Base64", Prefix: "sha512="}, ""},
		{"hmac no header", Config{Scheme: Hmac}, "header"},
		{"hmac header with space", Config{Scheme: Hmac, Header: "X Sig"}, "header"},
		{"hmac header with colon", Config{Scheme: Hmac, Header: "X-Sig:"}, "header"},
		{"hmac bad algorithm", Config{Scheme: Hmac, Header: "X-Sig", Algorithm: "md5"}, "algorithm"},
		{"hmac bad encoding", Config{Scheme: Hmac, Header: "X-Sig", Encoding: "base32"}, "encoding"},
		{"hmac prefix control", Config{Scheme: Hmac, Header: "X-Sig", Prefix: "a\nb"}, "prefix"},
		{"hmac prefix too long", Config{Scheme: Hmac, Header: "X-Sig", Prefix: strings.Repeat("p", 65)}, "prefix"},
		{"hmac prefix 64", Config{Scheme: Hmac, Header: "X-Sig", Prefix: strings.Repeat("p", 64)}, ""},
		{"unknown scheme", Config{Scheme: "Nope"}, "scheme"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.wantField == "" {
				if err != nil {
					t.Fatalf("got %v, want nil", err)
				}
				return
			}
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("got %v (%T), want *FieldError", err, err)
			}
			if got, want := fe.Field, tt.wantField; got != want {
				t.Errorf("got field %q, want %q", got, want)
			}
			if fe.Message == "" {
				t.Error("empty message")
			}
		})
	}
	fe := Config{Scheme: Hmac}.Validate().(*FieldError)
	if got, want := fe.Message, "is required for Hmac"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	fe = Config{Scheme: Hmac, Header: "X", Algorithm: "md5"}.Validate().(*FieldError)
	if got, want := fe.Message, "must be one of sha256, sha1, sha512"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestConfigNormalized(t *testing.T) {
	tests := []struct {
		name string
		in   Config
		want Config
	}{
		{"hmac defaults", Config{Scheme: Hmac, Header: "X-Sig"}, Config{Scheme: Hmac, Header: "X-Sig", Algorithm: "sha256", Encoding: "hex"}},
		{"hmac lower-cases", Config{Scheme: "HMAC", Header: "X-Sig", Algorithm: "SHA1", Encoding: "BASE64", Prefix: "Sig="}, Config{Scheme: Hmac, Header: "X-Sig", Algorithm: "sha1", Encoding: "base64", Prefix: "Sig="}},
		{"stripe clears hmac fields", Config{Scheme: Stripe, Header: "X", Algorithm: "sha1", Encoding: "hex", Prefix: "p"}, Config{Scheme: Stripe}},
		{"scheme canonical", Config{Scheme: "standardwebhooks"}, Config{Scheme: StandardWebhooks}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.in.Normalized(); got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

package destination_test

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/hooksentry/hooksentry/pkg/apperror"
	"github.com/hooksentry/hooksentry/pkg/dedup"
	"github.com/hooksentry/hooksentry/pkg/destination"
	"github.com/hooksentry/hooksentry/pkg/verify"
)

// Run each target with, for example:
//
//	go test ./pkg/destination -run='^$' -fuzz='^FuzzParseCreate$' -fuzztime=10s

var fuzzBodies = []string{
	`{"url":"https://example.com","verification":{"type":"Hmac","secret":"s","header":"X-Sig","algorithm":"sha1","encoding":"base64","prefix":"p="}}`,
	`{"url":"https://example.com","verification":{"type":"StandardWebhooks","secret":"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},"deduplication":{"key":"body:a.b","window":"2m"}}`,
	`{"verification":null,"deduplication":null}`,
	``,
	`{}`,
	`null`,
	`[]`,
	`{"url":"https://example.com"}`,
	`{"url":"https://my-server.com/webhook","serverRateLimit":5,"authType":"BearerToken","credentials":{"token":"my-secret-token"}}`,
	`{"URL":"https://example.com","SERVERRATELIMIT":1000,"authtype":"apikey","Credentials":{"HEADERNAME":"X-Api-Key","value":"v"}}`,
	`{"url":"https://example.com","authType":"JwtBearer","credentials":{"tokenEndpoint":"https://idp.example/t","clientId":"c","clientSecret":"s","scope":"a"}}`,
	`{"url":"https://example.com","authType":"BasicAuth","credentials":{"username":"u","password":"p"}}`,
	`{"url":"http://u:p@[::1]:0/x","serverRateLimit":1.5,"authType":7,"credentials":[]}`,
	`{"url":"https://example.com","serverRateLimit":"5"}`,
	`{"url":"https://example.com"} {"url":"https://example.com"}`,
	`{"status":"suspended","removeAuth":true,"credentials":{"token":"x"}}`,
	`{"status":"ACTIVE","serverRateLimit":10}`,
	`{"credentials":{"token":"a","TOKEN":"b","x":null}}`,
	`{"url":"https://example.com","url":"https://other.example"}`,
	"{\"url\":\"https://example.com/\u0000\"}",
	`{"a":{"b":{"c":[1,2,{"d":null}]}}}`,
	`{"url":"https://example.com","serverRateLimit":1e400}`,
	`{"url":"https://example.com","serverRateLimit":-0}`,
	"\xff\xfe{\"url\":1}",
}

func checkInvalid(t *testing.T, err error) {
	t.Helper()
	if apperror.CodeOf(err) != apperror.Invalid {
		t.Fatalf("got error %v (code %d), want an Invalid error", err, apperror.CodeOf(err))
	}
	if e, ok := err.(*apperror.Error); !ok || len(e.Fields) == 0 {
		t.Fatalf("got %v, want an *apperror.Error listing at least one field", err)
	}
}

func checkURL(t *testing.T, raw string) {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil || !strings.EqualFold(u.Scheme, "https") || u.Hostname() == "" || u.User != nil || len(raw) > destination.MaxURLLength {
		t.Fatalf("accepted url %q breaks the URL rules", raw)
	}
}

func checkCredentials(t *testing.T, at destination.AuthType, c *destination.Credentials) {
	t.Helper()
	if (at == destination.AuthNone) != (c == nil) {
		t.Fatalf("authType %q with credentials %v", at, c)
	}
	if c == nil {
		return
	}
	var required []string
	switch at {
	case destination.AuthAPIKey:
		required = []string{c.HeaderName, c.Value}
	case destination.AuthBearerToken:
		required = []string{c.Token}
	case destination.AuthJwtBearer:
		required = []string{c.TokenEndpoint, c.ClientID, c.ClientSecret}
		checkURL(t, c.TokenEndpoint)
	case destination.AuthBasic:
		required = []string{c.Username}
	default:
		t.Fatalf("unknown authType %q accepted", at)
	}
	if slices.Contains(required, "") {
		t.Fatalf("%s credentials with an empty required field: %+v", at, c)
	}
}

func FuzzParseCreate(f *testing.F) {
	for _, b := range fuzzBodies {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		in, err := destination.ParseCreate(body, nil)
		if err != nil {
			checkInvalid(t, err)
			return
		}
		checkURL(t, in.URL)
		if in.ServerRateLimit < destination.MinRateLimit || in.ServerRateLimit > destination.MaxRateLimit {
			t.Fatalf("accepted serverRateLimit %d", in.ServerRateLimit)
		}
		checkCredentials(t, in.AuthType, in.Credentials)
		checkChecks(t, in.Verification, in.Deduplication)
	})
}

// checkChecks: accepted verification and deduplication settings are usable
// as they are.
func checkChecks(t *testing.T, v *destination.VerificationInput, d *destination.Deduplication) {
	t.Helper()
	if v != nil {
		if _, err := verify.Key(v.Config.Scheme, v.Secret); err != nil {
			t.Fatalf("accepted a %s secret its scheme cannot use: %v", v.Config.Scheme, err)
		}
		if err := v.Config.Validate(); err != nil {
			t.Fatalf("accepted verification settings %+v: %v", v.Config, err)
		}
	}
	if d != nil && (d.Window < dedup.MinWindow || d.Window > dedup.MaxWindow || d.Key.String() == "") {
		t.Fatalf("accepted deduplication %+v", d)
	}
}

func FuzzParsePatch(f *testing.F) {
	types := []destination.AuthType{destination.AuthNone, destination.AuthAPIKey, destination.AuthBearerToken, destination.AuthJwtBearer, destination.AuthBasic}
	for i, b := range fuzzBodies {
		f.Add([]byte(b), uint8(i))
	}
	f.Fuzz(func(t *testing.T, body []byte, current uint8) {
		p, err := destination.ParsePatch(body, types[int(current)%len(types)], nil)
		if err != nil {
			checkInvalid(t, err)
			return
		}
		if p.URL != nil {
			checkURL(t, *p.URL)
		}
		if p.ServerRateLimit != nil && (*p.ServerRateLimit < destination.MinRateLimit || *p.ServerRateLimit > destination.MaxRateLimit) {
			t.Fatalf("accepted serverRateLimit %d", *p.ServerRateLimit)
		}
		if p.Status != nil && *p.Status != destination.Active && *p.Status != destination.Inactive {
			t.Fatalf("accepted status %q", *p.Status)
		}
		if (p.AuthType == nil) != (p.Credentials == nil) {
			t.Fatalf("authType %v without credentials or the reverse", p.AuthType)
		}
		checkChecks(t, p.Verification, p.Deduplication)
		if (p.Verification != nil && p.RemoveVerification) || (p.Deduplication != nil && p.RemoveDeduplication) {
			t.Fatalf("a setting both replaced and removed: %+v", p)
		}
		if p.AuthType != nil {
			checkCredentials(t, *p.AuthType, p.Credentials)
			if p.RemoveAuth {
				t.Fatalf("removeAuth together with new credentials")
			}
		}
	})
}

func FuzzParseListQuery(f *testing.F) {
	for _, q := range []string{
		"",
		"Qt=10&Pg=1&CpOrd=id&TpOrd=Desc",
		"qt=100&pg=99999999999999999999&cpord=SERVERRATELIMIT&tpord=asc",
		"status=active&authType=bearertoken&url=HOOK",
		"Qt=0&Pg=-1&CpOrd=x&TpOrd=y&status=z&authType=w",
		"Qt=%205&QT=6&qt=7",
		"url=%ff%00&Pg=9223372036854775807&Qt=100",
		"a=1;b=2&&=&Qt",
	} {
		f.Add(q)
	}
	fixture := listFixture()
	f.Fuzz(func(t *testing.T, rawQuery string) {
		values, _ := url.ParseQuery(rawQuery) // keeps what parses
		q, err := destination.ParseListQuery(values)
		if err != nil {
			checkInvalid(t, err)
			return
		}
		if q.PageSize < 1 || q.PageSize > destination.MaxPageSize || q.Page < 1 {
			t.Fatalf("accepted page size %d page %d", q.PageSize, q.Page)
		}
		page := q.Apply(fixture)
		if page.Total > len(fixture) || len(page.Items) > q.PageSize || len(page.Items) > page.Total || page.Items == nil {
			t.Fatalf("Apply: total %d, %d items for page size %d", page.Total, len(page.Items), q.PageSize)
		}
	})
}

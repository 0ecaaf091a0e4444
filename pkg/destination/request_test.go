package destination_test

import (
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/hooksentry/hooksentry/pkg/destination"
)

func ptr[T any](v T) *T { return &v }

func TestParseCreateValid(t *testing.T) {
	for _, tc := range []struct {
		name string
		body string
		want destination.CreateInput
	}{
		{
			name: "url only gets the default rate limit",
			body: `{"url":"https://example.com/hook"}`,
			want: destination.CreateInput{URL: "https://example.com/hook", ServerRateLimit: 5},
		},
		{
			name: "documented example",
			body: `{"url":"https://my-server.com/webhook","serverRateLimit":5,"authType":"BearerToken","credentials":{"token":"my-secret-token"}}`,
			want: destination.CreateInput{URL: "https://my-server.com/webhook", ServerRateLimit: 5, AuthType: destination.AuthBearerToken,
				Credentials: &destination.Credentials{Token: "my-secret-token"}},
		},
		{
			name: "property names and enum values are case-insensitive",
			body: `{"URL":"https://example.com","SERVERRATELIMIT":7,"AuthType":"bearertoken","CREDENTIALS":{"TOKEN":"t"}}`,
			want: destination.CreateInput{URL: "https://example.com", ServerRateLimit: 7, AuthType: destination.AuthBearerToken,
				Credentials: &destination.Credentials{Token: "t"}},
		},
		{
			name: "ApiKey",
			body: `{"url":"https://example.com","authType":"APIKEY","credentials":{"headerName":"X-Api-Key","value":"v"}}`,
			want: destination.CreateInput{URL: "https://example.com", ServerRateLimit: 5, AuthType: destination.AuthAPIKey,
				Credentials: &destination.Credentials{HeaderName: "X-Api-Key", Value: "v"}},
		},
		{
			name: "JwtBearer without the optional scope",
			body: `{"url":"https://example.com","authType":"jwtBearer","credentials":{"tokenEndpoint":"https://idp.example/token","clientId":"c","clientSecret":"s"}}`,
			want: destination.CreateInput{URL: "https://example.com", ServerRateLimit: 5, AuthType: destination.AuthJwtBearer,
				Credentials: &destination.Credentials{TokenEndpoint: "https://idp.example/token", ClientID: "c", ClientSecret: "s"}},
		},
		{
			name: "JwtBearer with scope",
			body: `{"url":"https://example.com","authType":"JwtBearer","credentials":{"tokenEndpoint":"https://idp.example/token","clientId":"c","clientSecret":"s","scope":"a b"}}`,
			want: destination.CreateInput{URL: "https://example.com", ServerRateLimit: 5, AuthType: destination.AuthJwtBearer,
				Credentials: &destination.Credentials{TokenEndpoint: "https://idp.example/token", ClientID: "c", ClientSecret: "s", Scope: "a b"}},
		},
		{
			name: "BasicAuth with an empty password",
			body: `{"url":"https://example.com","authType":"basicauth","credentials":{"username":"u","password":""}}`,
			want: destination.CreateInput{URL: "https://example.com", ServerRateLimit: 5, AuthType: destination.AuthBasic,
				Credentials: &destination.Credentials{Username: "u"}},
		},
		{
			name: "null optional fields mean absent",
			body: `{"url":"https://example.com","serverRateLimit":null,"authType":null,"credentials":null}`,
			want: destination.CreateInput{URL: "https://example.com", ServerRateLimit: 5},
		},
		{
			name: "rate limit lower bound",
			body: `{"url":"https://example.com","serverRateLimit":1}`,
			want: destination.CreateInput{URL: "https://example.com", ServerRateLimit: 1},
		},
		{
			name: "rate limit upper bound",
			body: `{"url":"https://example.com","serverRateLimit":1000}`,
			want: destination.CreateInput{URL: "https://example.com", ServerRateLimit: 1000},
		},
		{
			name: "scheme is case-insensitive, port and query allowed",
			body: `{"url":"HTTPS://Example.com:8443/p?q=1"}`,
			want: destination.CreateInput{URL: "HTTPS://Example.com:8443/p?q=1", ServerRateLimit: 5},
		},
		{
			name: "url of exactly 2048 characters",
			body: `{"url":"` + longURL(2048) + `"}`,
			want: destination.CreateInput{URL: longURL(2048), ServerRateLimit: 5},
		},
		{
			name: "read-only properties of the destination JSON are ignored",
			body: `{"url":"https://example.com","id":"x","TenantId":"y","status":"Active","createdAt":"z","updatedAt":1}`,
			want: destination.CreateInput{URL: "https://example.com", ServerRateLimit: 5},
		},
		{
			name: "the last spelling of a property wins",
			body: `{"url":"http://refused.example","URL":"https://kept.example"}`,
			want: destination.CreateInput{URL: "https://kept.example", ServerRateLimit: 5},
		},
		{
			name: "surrounding whitespace",
			body: " \n\t{\"url\":\"https://example.com\"}\n ",
			want: destination.CreateInput{URL: "https://example.com", ServerRateLimit: 5},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := destination.ParseCreate([]byte(tc.body), nil)
			if err != nil {
				t.Fatalf("ParseCreate: got error %v, want nil", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParseCreate:\n got %+v (credentials %+v)\nwant %+v (credentials %+v)", got, got.Credentials, tc.want, tc.want.Credentials)
			}
		})
	}
}

// invalidBodies are refused by both ParseCreate and ParsePatch.
var invalidBodies = []struct {
	name string
	body string
}{
	{"empty", ""},
	{"whitespace only", "  \n"},
	{"array", `[{"url":"https://example.com"}]`},
	{"string", `"https://example.com"`},
	{"number", `5`},
	{"null", `null`},
	{"true", `true`},
	{"truncated", `{"url":"https://example.com"`},
	{"syntax error", `{"url" "https://example.com"}`},
	{"trailing garbage", `{"url":"https://example.com"} x`},
	{"trailing object", `{"url":"https://example.com"}{}`},
	{"trailing brace", `{"url":"https://example.com"}}`},
	{"invalid value", `{"url":https://example.com}`},
}

func TestParseCreateInvalid(t *testing.T) {
	type tcase struct {
		name   string
		body   string
		fields []string
	}
	cases := []tcase{
		{"url missing", `{}`, []string{"url"}},
		{"url null", `{"url":null}`, []string{"url"}},
		{"url not a string", `{"url":5}`, []string{"url"}},
		{"url empty", `{"url":""}`, []string{"url"}},
		{"url relative", `{"url":"/hook"}`, []string{"url"}},
		{"url http", `{"url":"http://example.com"}`, []string{"url"}},
		{"url ftp", `{"url":"ftp://example.com"}`, []string{"url"}},
		{"url without host", `{"url":"https://"}`, []string{"url"}},
		{"url with empty host and a path", `{"url":"https:///hook"}`, []string{"url"}},
		{"url opaque", `{"url":"https:example.com"}`, []string{"url"}},
		{"url only a port", `{"url":"https://:443/"}`, []string{"url"}},
		{"url user info", `{"url":"https://user:pw@example.com"}`, []string{"url"}},
		{"url user only", `{"url":"https://user@example.com"}`, []string{"url"}},
		{"url empty user info", `{"url":"https://@example.com"}`, []string{"url"}},
		{"url too long", `{"url":"` + longURL(2049) + `"}`, []string{"url"}},
		{"url with space", `{"url":"https://exa mple.com"}`, []string{"url"}},
		{"url with control character", `{"url":"https://example.com/\u0000"}`, []string{"url"}},
		{"url port zero", `{"url":"https://example.com:0"}`, []string{"url"}},
		{"url port too big", `{"url":"https://example.com:65536"}`, []string{"url"}},
		{"url not parsable", `{"url":"https://[::1"}`, []string{"url"}},
		{"rate limit 0", `{"url":"https://example.com","serverRateLimit":0}`, []string{"serverRateLimit"}},
		{"rate limit 1001", `{"url":"https://example.com","serverRateLimit":1001}`, []string{"serverRateLimit"}},
		{"rate limit negative", `{"url":"https://example.com","serverRateLimit":-1}`, []string{"serverRateLimit"}},
		{"rate limit fractional", `{"url":"https://example.com","serverRateLimit":1.5}`, []string{"serverRateLimit"}},
		{"rate limit string", `{"url":"https://example.com","serverRateLimit":"5"}`, []string{"serverRateLimit"}},
		{"rate limit boolean", `{"url":"https://example.com","serverRateLimit":true}`, []string{"serverRateLimit"}},
		{"rate limit huge", `{"url":"https://example.com","serverRateLimit":1e400}`, []string{"serverRateLimit"}},
		{"unknown authType", `{"url":"https://example.com","authType":"OAuth","credentials":{"token":"t"}}`, []string{"authType"}},
		{"unknown property", `{"url":"https://example.com","comment":{"x":[1,2]}}`, []string{"comment"}},
		{"removeAuth is not a create property", `{"url":"https://example.com","removeAuth":true}`, []string{"removeAuth"}},
		{"empty authType", `{"url":"https://example.com","authType":"","credentials":{"token":"t"}}`, []string{"authType"}},
		{"authType not a string", `{"url":"https://example.com","authType":1,"credentials":{"token":"t"}}`, []string{"authType"}},
		{"authType without credentials", `{"url":"https://example.com","authType":"BearerToken"}`, []string{"credentials"}},
		{"authType with null credentials", `{"url":"https://example.com","authType":"BearerToken","credentials":null}`, []string{"credentials"}},
		{"credentials without authType", `{"url":"https://example.com","credentials":{"token":"t"}}`, []string{"authType"}},
		{"credentials not an object", `{"url":"https://example.com","authType":"BearerToken","credentials":"t"}`, []string{"credentials"}},
		{"credentials an array", `{"url":"https://example.com","authType":"BearerToken","credentials":[{"token":"t"}]}`, []string{"credentials"}},
		{"BearerToken with ApiKey shape", `{"url":"https://example.com","authType":"BearerToken","credentials":{"headerName":"X-Key","value":"v"}}`,
			[]string{"credentials.headerName", "credentials.value", "credentials.token"}},
		{"BearerToken empty object", `{"url":"https://example.com","authType":"BearerToken","credentials":{}}`, []string{"credentials.token"}},
		{"BearerToken empty token", `{"url":"https://example.com","authType":"BearerToken","credentials":{"token":""}}`, []string{"credentials.token"}},
		{"BearerToken null token", `{"url":"https://example.com","authType":"BearerToken","credentials":{"token":null}}`, []string{"credentials.token"}},
		{"BearerToken token not a string", `{"url":"https://example.com","authType":"BearerToken","credentials":{"token":42}}`, []string{"credentials.token"}},
		{"BearerToken token with newline", `{"url":"https://example.com","authType":"BearerToken","credentials":{"token":"a\nb"}}`, []string{"credentials.token"}},
		{"BearerToken token too long", `{"url":"https://example.com","authType":"BearerToken","credentials":{"token":"` + strings.Repeat("t", 4097) + `"}}`, []string{"credentials.token"}},
		{"ApiKey without value", `{"url":"https://example.com","authType":"ApiKey","credentials":{"headerName":"X-Key"}}`, []string{"credentials.value"}},
		{"ApiKey without headerName", `{"url":"https://example.com","authType":"ApiKey","credentials":{"value":"v"}}`, []string{"credentials.headerName"}},
		{"ApiKey reserved header", `{"url":"https://example.com","authType":"ApiKey","credentials":{"headerName":"Content-Type","value":"v"}}`, []string{"credentials.headerName"}},
		{"ApiKey HookSentry header", `{"url":"https://example.com","authType":"ApiKey","credentials":{"headerName":"HookSentry-Event-Id","value":"v"}}`, []string{"credentials.headerName"}},
		{"ApiKey invalid header name", `{"url":"https://example.com","authType":"ApiKey","credentials":{"headerName":"X Key","value":"v"}}`, []string{"credentials.headerName"}},
		{"JwtBearer missing fields", `{"url":"https://example.com","authType":"JwtBearer","credentials":{"tokenEndpoint":"https://idp.example/token"}}`,
			[]string{"credentials.clientId", "credentials.clientSecret"}},
		{"JwtBearer http token endpoint", `{"url":"https://example.com","authType":"JwtBearer","credentials":{"tokenEndpoint":"http://idp.example/token","clientId":"c","clientSecret":"s"}}`,
			[]string{"credentials.tokenEndpoint"}},
		{"JwtBearer token endpoint with user info", `{"url":"https://example.com","authType":"JwtBearer","credentials":{"tokenEndpoint":"https://u:p@idp.example/token","clientId":"c","clientSecret":"s"}}`,
			[]string{"credentials.tokenEndpoint"}},
		{"BasicAuth without username", `{"url":"https://example.com","authType":"BasicAuth","credentials":{"password":"p"}}`, []string{"credentials.username"}},
		{"BasicAuth username with colon", `{"url":"https://example.com","authType":"BasicAuth","credentials":{"username":"a:b","password":"p"}}`, []string{"credentials.username"}},
		{"BasicAuth with BearerToken shape", `{"url":"https://example.com","authType":"BasicAuth","credentials":{"token":"t"}}`,
			[]string{"credentials.token", "credentials.username"}},
		{"every problem at once", `{"url":"http://example.com","serverRateLimit":0,"authType":"nope","credentials":{}}`,
			[]string{"url", "serverRateLimit", "authType"}},
	}
	for _, b := range invalidBodies {
		cases = append(cases, tcase{"body " + b.name, b.body, []string{"body"}})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := destination.ParseCreate([]byte(tc.body), nil)
			wantFields(t, err, tc.fields...)
		})
	}
}

// TestParseAPIKeyHeaderName: an ApiKey may use no header that HTTP,
// proxies or HookSentry set, by the rule that decides what is forwarded
// (event.APIKeyHeaderAllowed), on create as on update. A sender's header
// name is allowed (the key replaces the sender's header at delivery), and
// so are the credential headers, which are never forwarded.
func TestParseAPIKeyHeaderName(t *testing.T) {
	for _, tc := range []struct {
		header string
		ok     bool
	}{
		{"X-Api-Key", true},
		{"x-partner-token", true},
		{"webhook-id", true},
		{"Webhook-Signature", true},
		{"svix-id", true},
		{"X-Amz-Api-Key", true},
		{"Authorization", true},
		{"cookie", true},
		{"Content-Type", false},
		{"host", false},
		{"Content-Length", false},
		{"Expect", false},
		{"Connection", false},
		{"Transfer-Encoding", false},
		{"Proxy-Authorization", false},
		{"X-Forwarded-For", false},
		{"X-Amzn-Apigateway-Api-Id", false},
		{"HookSentry-Event-Id", false},
		{"hooksentry-verified", false},
		{"HOOKSENTRY-SIGNATURE", false},
		{"HookSentry-Anything", false},
	} {
		t.Run(tc.header, func(t *testing.T) {
			creds := `{"headerName":"` + tc.header + `","value":"k"}`
			_, createErr := destination.ParseCreate([]byte(`{"url":"https://example.com","authType":"ApiKey","credentials":`+creds+`}`), nil)
			_, patchErr := destination.ParsePatch([]byte(`{"credentials":`+creds+`}`), destination.AuthAPIKey, nil)
			for op, err := range map[string]error{"create": createErr, "patch": patchErr} {
				switch {
				case tc.ok && err != nil:
					t.Errorf("%s: got error %v, want none", op, err)
				case !tc.ok:
					wantFields(t, err, "credentials.headerName")
				}
			}
		})
	}
}

func TestParseCreatePolicy(t *testing.T) {
	refuse := func(u *url.URL) error {
		if u.Hostname() == "10.0.0.1" {
			return errors.New("private address")
		}
		return nil
	}
	for _, tc := range []struct {
		name   string
		body   string
		fields []string
	}{
		{"allowed", `{"url":"https://example.com"}`, nil},
		{"url refused", `{"url":"https://10.0.0.1/hook"}`, []string{"url"}},
		{"token endpoint refused", `{"url":"https://example.com","authType":"JwtBearer","credentials":{"tokenEndpoint":"https://10.0.0.1/t","clientId":"c","clientSecret":"s"}}`,
			[]string{"credentials.tokenEndpoint"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := destination.ParseCreate([]byte(tc.body), refuse)
			if tc.fields == nil {
				if err != nil {
					t.Fatalf("ParseCreate: got %v, want nil", err)
				}
				return
			}
			wantFields(t, err, tc.fields...)
		})
	}
}

// TestParseCreateErrorsDoNotEchoSecrets guards the rule that credentials are
// never logged: validation messages end up in responses and logs.
func TestParseCreateErrorsDoNotEchoSecrets(t *testing.T) {
	const secret = "s3cr3t-VALUE-never-echoed"
	for _, body := range []string{
		`{"url":"https://example.com","authType":"BearerToken","credentials":{"token":"` + secret + `\n"}}`,
		`{"url":"https://example.com","authType":"ApiKey","credentials":{"headerName":"` + secret + ` x","value":"v"}}`,
		`{"url":"https://example.com","authType":"BasicAuth","credentials":{"username":"` + secret + `:","password":"p"}}`,
		`{"url":"https://example.com","authType":"BearerToken","credentials":{"token":"` + secret + `"`,
		`{"url":"https://example.com","authType":"BearerToken","credentials":{"token":"` + secret + `"}} trailing`,
	} {
		_, err := destination.ParseCreate([]byte(body), nil)
		if err == nil {
			t.Fatalf("ParseCreate(%s): got nil error, want one", body)
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("ParseCreate error echoes the secret: %v", err)
		}
	}
}

func TestParsePatchValid(t *testing.T) {
	for _, tc := range []struct {
		name    string
		body    string
		current destination.AuthType
		want    destination.Patch
	}{
		{"empty object changes nothing", `{}`, destination.AuthNone, destination.Patch{}},
		{"documented example", `{"serverRateLimit":10,"status":"active"}`, destination.AuthBearerToken,
			destination.Patch{ServerRateLimit: ptr(10), Status: ptr(destination.Active)}},
		{"status ACTIVE", `{"status":"ACTIVE"}`, destination.AuthNone, destination.Patch{Status: ptr(destination.Active)}},
		{"status inactive with odd-cased name", `{"STATUS":"InActive"}`, destination.AuthNone, destination.Patch{Status: ptr(destination.Inactive)}},
		{"url", `{"Url":"https://new.example/x"}`, destination.AuthNone, destination.Patch{URL: ptr("https://new.example/x")}},
		{"removeAuth", `{"removeAuth":true}`, destination.AuthAPIKey, destination.Patch{RemoveAuth: true}},
		{"removeAuth false", `{"REMOVEAUTH":false}`, destination.AuthAPIKey, destination.Patch{}},
		{"credentials alone use the current type", `{"credentials":{"token":"new"}}`, destination.AuthBearerToken,
			destination.Patch{AuthType: ptr(destination.AuthBearerToken), Credentials: &destination.Credentials{Token: "new"}}},
		{"credentials alone for ApiKey", `{"Credentials":{"HeaderName":"X-K","Value":"v2"}}`, destination.AuthAPIKey,
			destination.Patch{AuthType: ptr(destination.AuthAPIKey), Credentials: &destination.Credentials{HeaderName: "X-K", Value: "v2"}}},
		{"new auth type on a destination without auth", `{"authType":"basicauth","credentials":{"username":"u","password":"p"}}`, destination.AuthNone,
			destination.Patch{AuthType: ptr(destination.AuthBasic), Credentials: &destination.Credentials{Username: "u", Password: "p"}}},
		{"switching auth type", `{"authType":"ApiKey","credentials":{"headerName":"X-K","value":"v"}}`, destination.AuthBearerToken,
			destination.Patch{AuthType: ptr(destination.AuthAPIKey), Credentials: &destination.Credentials{HeaderName: "X-K", Value: "v"}}},
		{"nulls mean absent", `{"url":null,"serverRateLimit":null,"status":null,"authType":null,"credentials":null,"removeAuth":null}`,
			destination.AuthNone, destination.Patch{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := destination.ParsePatch([]byte(tc.body), tc.current, nil)
			if err != nil {
				t.Fatalf("ParsePatch: got error %v, want nil", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParsePatch:\n got %s\nwant %s", describePatch(got), describePatch(tc.want))
			}
		})
	}
}

func describePatch(p destination.Patch) string {
	var parts []string
	if p.URL != nil {
		parts = append(parts, "url="+*p.URL)
	}
	if p.ServerRateLimit != nil {
		parts = append(parts, fmt.Sprintf("serverRateLimit=%d", *p.ServerRateLimit))
	}
	if p.Status != nil {
		parts = append(parts, "status="+string(*p.Status))
	}
	if p.AuthType != nil {
		parts = append(parts, "authType="+string(*p.AuthType))
	}
	if p.Credentials != nil {
		parts = append(parts, fmt.Sprintf("credentials=%+v", *p.Credentials))
	}
	if p.RemoveAuth {
		parts = append(parts, "removeAuth")
	}
	return "{" + strings.Join(parts, " ") + "}"
}

func TestParsePatchInvalid(t *testing.T) {
	type tcase struct {
		name    string
		body    string
		current destination.AuthType
		fields  []string
	}
	cases := []tcase{
		{"status suspended", `{"status":"suspended"}`, destination.AuthNone, []string{"status"}},
		{"status Suspended", `{"status":"Suspended"}`, destination.AuthNone, []string{"status"}},
		{"status unknown", `{"status":"paused"}`, destination.AuthNone, []string{"status"}},
		{"status not a string", `{"status":1}`, destination.AuthNone, []string{"status"}},
		{"unknown property", `{"verificaton":{"type":"Stripe","secret":"s"}}`, destination.AuthNone, []string{"verificaton"}},
		{"url http", `{"url":"http://example.com"}`, destination.AuthNone, []string{"url"}},
		{"url empty", `{"url":""}`, destination.AuthNone, []string{"url"}},
		{"url too long", `{"url":"` + longURL(2049) + `"}`, destination.AuthNone, []string{"url"}},
		{"rate limit 0", `{"serverRateLimit":0}`, destination.AuthNone, []string{"serverRateLimit"}},
		{"rate limit 1001", `{"serverRateLimit":1001}`, destination.AuthNone, []string{"serverRateLimit"}},
		{"rate limit 1.5", `{"serverRateLimit":1.5}`, destination.AuthNone, []string{"serverRateLimit"}},
		{"rate limit string", `{"serverRateLimit":"5"}`, destination.AuthNone, []string{"serverRateLimit"}},
		{"removeAuth with authType", `{"removeAuth":true,"authType":"BearerToken"}`, destination.AuthBearerToken, []string{"removeAuth"}},
		{"removeAuth with credentials", `{"removeAuth":true,"credentials":{"token":"t"}}`, destination.AuthBearerToken, []string{"removeAuth"}},
		{"removeAuth with both", `{"removeAuth":true,"authType":"BearerToken","credentials":{"token":"t"}}`, destination.AuthBearerToken, []string{"removeAuth"}},
		{"removeAuth not a boolean", `{"removeAuth":"yes"}`, destination.AuthBearerToken, []string{"removeAuth"}},
		{"credentials alone without a current authType", `{"credentials":{"token":"t"}}`, destination.AuthNone, []string{"credentials"}},
		{"authType alone", `{"authType":"BearerToken"}`, destination.AuthBearerToken, []string{"credentials"}},
		{"unknown authType", `{"authType":"Digest","credentials":{"token":"t"}}`, destination.AuthNone, []string{"authType"}},
		{"credentials of the wrong shape for the current type", `{"credentials":{"token":"t"}}`, destination.AuthAPIKey,
			[]string{"credentials.token", "credentials.headerName", "credentials.value"}},
		{"credentials of the wrong shape for the new type", `{"authType":"JwtBearer","credentials":{"username":"u"}}`, destination.AuthBearerToken,
			[]string{"credentials.username", "credentials.tokenEndpoint", "credentials.clientId", "credentials.clientSecret"}},
		{"credentials not an object", `{"credentials":"t"}`, destination.AuthBearerToken, []string{"credentials"}},
		{"several problems", `{"url":"ftp://x","serverRateLimit":0,"status":"suspended"}`, destination.AuthNone,
			[]string{"url", "serverRateLimit", "status"}},
	}
	for _, b := range invalidBodies {
		cases = append(cases, tcase{"body " + b.name, b.body, destination.AuthBearerToken, []string{"body"}})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := destination.ParsePatch([]byte(tc.body), tc.current, nil)
			wantFields(t, err, tc.fields...)
		})
	}
}

// TestParseDeterministic guards against results that depend on map
// iteration order: the same input must always give the same outcome.
func TestParseDeterministic(t *testing.T) {
	for _, body := range []string{
		`{"url":"http://a.example","Url":"https://b.example","URL":"https://c.example"}`,
		`{"url":"https://example.com","authType":"BearerToken","credentials":{"token":"a","TOKEN":"","Token":"c"}}`,
		`{"url":"https://example.com","authType":"ApiKey","credentials":{"z":1,"a":2,"m":3,"headerName":"X"}}`,
	} {
		first, firstErr := destination.ParseCreate([]byte(body), nil)
		for range 50 {
			got, err := destination.ParseCreate([]byte(body), nil)
			if !reflect.DeepEqual(got, first) || fmt.Sprint(err) != fmt.Sprint(firstErr) {
				t.Fatalf("ParseCreate(%s) is not deterministic:\n %+v, %v\n %+v, %v", body, first, firstErr, got, err)
			}
		}
	}
}

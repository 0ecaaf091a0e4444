package openapitest

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/hooksentry/hooksentry/pkg/openapi"
)

func newValidator(t *testing.T) *Validator {
	t.Helper()
	v, err := NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

const destinationJSON = `{"id":"7d8e9f0a-1b2c-4d3e-8f5a-6b7c8d9e0f1a","tenantId":"3fa85f64-5717-4562-b3fc-2c963f66afa6",` +
	`"url":"https://my-server.com/webhook","status":"Active","serverRateLimit":5,"authType":"BearerToken",` +
	`"verification":null,"deduplication":{"key":"header:Idempotency-Key","window":"1h"},"alerts":["event.failed"],` +
	`"createdAt":"2026-07-03T14:32:00.000Z","updatedAt":"2026-07-03T14:32:00.000Z"}`

var jsonHeader = http.Header{"Content-Type": {"application/json"}}

// TestCheck: the validator accepts what the API answers and catches each
// kind of drift the e2e suites rely on it to catch.
func TestCheck(t *testing.T) {
	v := newValidator(t)
	const dst = "/api/v1/destinations/7d8e9f0a-1b2c-4d3e-8f5a-6b7c8d9e0f1a"
	problem := http.Header{"Content-Type": {"application/problem+json"}}
	for _, tc := range []struct {
		name         string
		method, path string
		reqBody      string
		status       int
		header       http.Header
		respBody     string
		wantErr      string // "" for valid
	}{
		{"destination", "GET", dst, "", 200, jsonHeader, destinationJSON, ""},
		{"extra key", "GET", dst, "", 200, jsonHeader, strings.Replace(destinationJSON, `"status"`, `"secret":"x","status"`, 1), "secret"},
		{"missing key", "GET", dst, "", 200, jsonHeader, strings.Replace(destinationJSON, `"alerts":["event.failed"],`, "", 1), "alerts"},
		{"non-canonical authType", "GET", dst, "", 200, jsonHeader, strings.Replace(destinationJSON, `"BearerToken"`, `"bearertoken"`, 1), "authType"},
		{"unknown alert", "GET", dst, "", 200, jsonHeader, strings.Replace(destinationJSON, `"event.failed"`, `"event.lost"`, 1), "alerts"},
		{"timestamp without millis", "GET", dst, "", 200, jsonHeader, strings.Replace(destinationJSON, `14:32:00.000Z","updatedAt`, `14:32:00Z","updatedAt`, 1), "createdAt"},
		{"gateway 401", "GET", dst, "", 401, jsonHeader, `{"message":"Unauthorized"}`, ""},
		{"function 401", "GET", dst, "", 401, problem, `{"type":"about:blank","title":"Unauthorized","status":401,"detail":"no claim"}`, ""},
		{"401 as text", "GET", dst, "", 401, http.Header{"Content-Type": {"text/plain"}}, `Unauthorized`, "Content-Type"},
		{"problem without detail", "GET", dst, "", 404, problem, `{"type":"about:blank","title":"Not Found","status":404}`, "detail"},
		{"undocumented status", "GET", dst, "", 409, problem, `{"type":"about:blank","title":"Conflict","status":409,"detail":"x"}`, "status is not supported"},
		{"unknown route 404", "GET", "/nowhere", "", 404, jsonHeader, `{"message":"Not Found"}`, ""},
		{"unknown route 200", "GET", "/nowhere", "", 200, jsonHeader, `{}`, "no operation"},
		{"accepted request with unknown member", "PATCH", dst, `{"colour":"red"}`, 200, jsonHeader, destinationJSON, "colour"},
		{"refused request with unknown member", "PATCH", dst, `{"colour":"red"}`, 400, problem,
			`{"type":"https://hooksentry.dev/problems/validation","title":"Bad Request","status":400,"detail":"x","errors":[{"field":"colour","message":"is not a property"}]}`, ""},
		{"accepted patch", "PATCH", dst, `{"serverRateLimit":10,"status":"active","verification":null,"alerts":["destination.suspended"]}`, 200, jsonHeader, destinationJSON, ""},
		{"ingest", "POST", "/ingest/dst_5f8a3b2c1d9e4f6a7b8c9d0e1f2a3b4c", "a=b", 202, jsonHeader, `{"eventId":"0190f1a2-b3c4-8d5e-9f01-23456789abcd","duplicate":true}`, ""},
		{"ingest duplicate false", "POST", "/ingest/dst_5f8a3b2c1d9e4f6a7b8c9d0e1f2a3b4c", "a=b", 202, jsonHeader, `{"eventId":"0190f1a2-b3c4-8d5e-9f01-23456789abcd","duplicate":false}`, "duplicate"},
		{"ingest accepted with a malformed token", "POST", "/ingest/dst_XYZ", "", 202, jsonHeader, `{"eventId":"0190f1a2-b3c4-8d5e-9f01-23456789abcd"}`, "token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, "http://127.0.0.1:1"+tc.path, nil)
			if tc.method == "POST" && strings.HasPrefix(tc.path, "/ingest/") {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			err := v.Check(req, []byte(tc.reqBody), tc.status, tc.header, []byte(tc.respBody))
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("got %v, want valid", err)
			case tc.wantErr != "" && err == nil:
				t.Errorf("valid, want an error about %q", tc.wantErr)
			case tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr):
				t.Errorf("got %v, want an error about %q", err, tc.wantErr)
			}
		})
	}
}

// TestRoutesMatchTemplate: the document describes exactly the HttpApi routes
// of template.yaml, plus the routes it marks local-only.
func TestRoutesMatchTemplate(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var tmpl struct {
		Resources map[string]struct {
			Type       string `yaml:"Type"`
			Properties struct {
				Events map[string]struct {
					Type       string `yaml:"Type"`
					Properties struct {
						Method string `yaml:"Method"`
						Path   string `yaml:"Path"`
					} `yaml:"Properties"`
				} `yaml:"Events"`
			} `yaml:"Properties"`
		} `yaml:"Resources"`
	}
	// template.yaml uses CloudFormation tags (!Ref, !GetAtt); decoding
	// into this struct ignores what they tag.
	if err := yaml.Unmarshal(raw, &tmpl); err != nil {
		t.Fatalf("parse template.yaml: %v", err)
	}
	var want []string
	for _, r := range tmpl.Resources {
		if r.Type != "AWS::Serverless::Function" {
			continue
		}
		for _, ev := range r.Properties.Events {
			if ev.Type == "HttpApi" {
				want = append(want, strings.ToUpper(ev.Properties.Method)+" "+ev.Properties.Path)
			}
		}
	}
	v := newValidator(t)
	var got, local []string
	for path, item := range v.Doc.Paths.Map() {
		for method := range item.Operations() {
			if item.Extensions[openapi.LocalOnly] == true {
				local = append(local, method+" "+path)
				continue
			}
			got = append(got, method+" "+path)
		}
	}
	slices.Sort(want)
	slices.Sort(got)
	slices.Sort(local)
	if !slices.Equal(got, want) {
		t.Errorf("document routes:\n%s\ntemplate.yaml routes:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(want) != 15 {
		t.Errorf("template.yaml has %d HTTP routes, want 15", len(want))
	}
	wantLocal := []string{"GET " + openapi.JSONPath, "GET /healthz", "GET /oauth/authorize", "POST /oauth/authorize", "POST /oauth/token"}
	if !slices.Equal(local, wantLocal) {
		t.Errorf("local-only routes: got %v, want %v", local, wantLocal)
	}
}

// TestSecurity: every /api/v1 route of template.yaml needs the bearer JWT;
// ingest, the console and the local-only routes need none.
func TestSecurity(t *testing.T) {
	v := newValidator(t)
	for path, item := range v.Doc.Paths.Map() {
		for method, op := range item.Operations() {
			public := op.Security != nil && len(*op.Security) == 0
			wantPublic := strings.HasPrefix(path, "/ingest/") || strings.HasPrefix(path, "/console") || item.Extensions[openapi.LocalOnly] == true
			if public != wantPublic {
				t.Errorf("%s %s: public %v, want %v", method, path, public, wantPublic)
			}
		}
	}
	if len(v.Doc.Security) != 1 || v.Doc.Security[0]["bearerJwt"] == nil {
		t.Errorf("top-level security: %v, want bearerJwt", v.Doc.Security)
	}
}

// TestJSONIsTheDocument: what the local gateway serves loads as the same
// valid document.
func TestJSONIsTheDocument(t *testing.T) {
	fromJSON, err := NewValidatorFrom(openapi.JSON())
	if err != nil {
		t.Fatal(err)
	}
	fromYAML := newValidator(t)
	a, err := fromJSON.Doc.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	b, err := fromYAML.Doc.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if string(a) != string(b) {
		t.Error("openapi.JSON() loads as a different document than docs/openapi.yaml")
	}
}

// TestCheckMatchesNamesCaseInsensitively, as the API does, but not values
// the document spells canonically.
func TestCheckMatchesNamesCaseInsensitively(t *testing.T) {
	v := newValidator(t)
	req := httptest.NewRequest("POST", "http://127.0.0.1:1/api/v1/destinations", nil)
	created := strings.Replace(destinationJSON, `"createdAt"`, `"ingestToken":"dst_5f8a3b2c1d9e4f6a7b8c9d0e1f2a3b4c","signingSecret":"whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","createdAt"`, 1)
	header := http.Header{"Content-Type": {"application/json"}, "Location": {"/api/v1/destinations/7d8e9f0a-1b2c-4d3e-8f5a-6b7c8d9e0f1a"}}
	body := `{"URL":"https://example.com/h","AuthType":"bearertoken","CREDENTIALS":{"Token":"t"}}`
	if err := v.Check(req, []byte(body), 201, header, []byte(created)); err != nil {
		t.Errorf("odd-case names: %v", err)
	}
	body = `{"url":"https://example.com/h","colour":"red"}`
	if err := v.Check(req, []byte(body), 201, header, []byte(created)); err == nil {
		t.Error("an unknown member passed")
	}
	header.Del("Location")
	if err := v.Check(req, []byte(`{"url":"https://example.com/h"}`), 201, header, []byte(created)); err == nil || !strings.Contains(err.Error(), "Location") {
		t.Errorf("201 without Location: got %v, want an error", err)
	}
}

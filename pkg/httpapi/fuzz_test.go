package httpapi_test

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/hooksentry/hooksentry/pkg/httpapi"
)

// FuzzManagementEvent feeds arbitrary API Gateway v2 events (method, path,
// query, body, one header, tenant claim) to every management function
// through lambdahttp.Adapt, the entry point Lambda uses, and checks that no
// input produces an invocation error or a 5xx, and that every 4xx is
// problem+json. Run with:
//
//	go test ./pkg/httpapi -run='^$' -fuzz='^FuzzManagementEvent$' -fuzztime=10s
func FuzzManagementEvent(f *testing.F) {
	type seed struct {
		fn                             uint8
		method, path, query, body      string
		bodyMode                       uint8
		headerName, headerValue, claim string
	}
	seeds := []seed{
		{0, "POST", "/api/v1/destinations", "", `{"url":"https://example.com","authType":"bearertoken","credentials":{"token":"t"}}`, 0, "content-type", "application/json", tenantA},
		{0, "POST", "/api/v1/destinations", "", `{"url":"https://example.com"}`, 1, "content-type", "application/json", "unknown-tenant"},
		{0, "POST", "/api/v1/destinations", "", `{"url":`, 2, "content-length", "5", tenantA},
		{1, "GET", "/api/v1/destinations", "Qt=2&Pg=1&CpOrd=url&TpOrd=asc&status=active", "", 0, "x", "y", tenantA},
		{1, "GET", "/api/v1/destinations", "Qt=0&CpOrd=%zz", "", 0, "cookie", "a=b", "nobody"},
		{2, "GET", "/api/v1/destinations/" + destA, "", "", 0, "accept", "*/*", tenantA},
		{2, "GET", "/api/v1/destinations/" + destB, "", "", 0, "accept", "*/*", tenantA},
		{2, "GET", "/api/v1/destinations/not-a-uuid", "", "", 0, "", "", tenantA},
		{2, "GET", "/api/v1/destinations/%2e%2e", "", "", 0, "", "", tenantA},
		{2, "GET", "//api/v1/destinations/../destinations/" + destA, "", "", 0, "", "", tenantA},
		{3, "PATCH", "/api/v1/destinations/" + destA, "", `{"credentials":{"token":"new"},"status":"ACTIVE"}`, 0, "content-type", "application/json; charset=utf-8", tenantA},
		{3, "PATCH", "/api/v1/destinations/" + destA, "", `{"removeAuth":true,"authType":"ApiKey"}`, 1, "", "", tenantA},
		{4, "DELETE", "/api/v1/destinations/" + destA, "", "", 0, "", "", tenantA},
		{4, "DELETE", "/api/v1/destinations/" + destB, "", "", 0, "", "", tenantA},
		{5, "POST", "/api/v1/destinations/" + destA + "/ingest-token", "", "", 0, "", "", tenantA},
		{5, "POST", "/api/v1/destinations/" + strings.ToUpper(destA) + "/ingest-token", "", "", 0, "", "", tenantA},
		{0, "GET\n", "http://[::1", "%", "\xff", 2, "bad header\n", "\x00", ""},
		{3, "", "", "", "", 0, "", "", tenantA},
	}
	for _, s := range seeds {
		f.Add(s.fn, s.method, s.path, s.query, []byte(s.body), s.bodyMode, s.headerName, s.headerValue, s.claim)
	}
	f.Fuzz(func(t *testing.T, fn uint8, method, path, query string, body []byte, bodyMode uint8, headerName, headerValue, claim string) {
		a := newTestAPI(t)
		route := httpapi.Routes[int(fn)%len(httpapi.Routes)]
		ev := events.APIGatewayV2HTTPRequest{
			Version: "2.0", RouteKey: route.Method + " " + route.Path, RawPath: path, RawQueryString: query,
			Headers: map[string]string{strings.ToLower(headerName): headerValue},
			RequestContext: events.APIGatewayV2HTTPRequestContext{
				DomainName: "api.hooksentry.test",
				HTTP:       events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: path},
			},
		}
		switch bodyMode % 3 {
		case 0:
			ev.Body = string(body)
		case 1:
			ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
		case 2: // claims to be base64 but may not be
			ev.Body, ev.IsBase64Encoded = string(body), true
		}
		if claim != "" {
			ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
				JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: map[string]string{"tenant_id": claim}},
			}
		}

		resp := a.invoke(t, route.Function, ev)
		if resp.StatusCode >= 500 || resp.StatusCode < 200 {
			t.Fatalf("%s %q: got status %d, want 2xx-4xx (body %s)", method, path, resp.StatusCode, resp.Body)
		}
		if resp.StatusCode >= 400 {
			if ct := resp.Headers["Content-Type"]; ct != "application/problem+json" {
				t.Fatalf("status %d with Content-Type %q, want application/problem+json", resp.StatusCode, ct)
			}
			if !json.Valid([]byte(resp.Body)) {
				t.Fatalf("status %d with a body that is not JSON: %q", resp.StatusCode, resp.Body)
			}
		}
		if resp.StatusCode < 300 && resp.StatusCode != 204 && !json.Valid([]byte(resp.Body)) {
			t.Fatalf("status %d with a body that is not JSON: %q", resp.StatusCode, resp.Body)
		}
	})
}

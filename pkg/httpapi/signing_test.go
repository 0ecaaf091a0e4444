package httpapi_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

var signingSecretShape = regexp.MustCompile(`^whsec_[A-Za-z0-9+/]{43}=$`)

func TestRotateSigningSecretRoute(t *testing.T) {
	a := newTestAPI(t)
	for _, tc := range []struct {
		name   string
		id     string
		tenant string
		want   int
	}{
		{"own destination", destA, tenantA, http.StatusOK},
		{"id in upper case", strings.ToUpper(destA), tenantA, http.StatusOK},
		{"another tenant's destination", destB, tenantA, http.StatusForbidden},
		{"unknown destination", "7d8e9f0a-1b2c-4d3e-8f5a-6b7c8d9e0fff", tenantA, http.StatusNotFound},
		{"not a UUID", "nope", tenantA, http.StatusNotFound},
		{"no tenant claim", destA, "", http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := a.invoke(t, "rotate-signing-secret", event("POST", "/api/v1/destinations/"+tc.id+"/signing-secret", "", "", tc.tenant))
			if tc.want != http.StatusOK {
				wantProblem(t, resp, tc.want)
				return
			}
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status: got %d, want 200 (body %s)", resp.StatusCode, resp.Body)
			}
			var m map[string]string
			if err := json.Unmarshal([]byte(resp.Body), &m); err != nil || len(m) != 1 || !signingSecretShape.MatchString(m["signingSecret"]) {
				t.Errorf("body: got %s, want only a signingSecret matching %s", resp.Body, signingSecretShape)
			}
		})
	}
}

// TestSigningSecretOnlyInCreate: the 201 carries the secret, reads do not.
func TestSigningSecretOnlyInCreate(t *testing.T) {
	a := newTestAPI(t)
	resp := a.invoke(t, "create-destination", event("POST", "/api/v1/destinations", "", `{"url":"https://example.com/h"}`, tenantA))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: got %d %s", resp.StatusCode, resp.Body)
	}
	var created map[string]any
	if err := json.Unmarshal([]byte(resp.Body), &created); err != nil {
		t.Fatal(err)
	}
	secret, _ := created["signingSecret"].(string)
	if !signingSecretShape.MatchString(secret) {
		t.Fatalf("signingSecret: got %q, want %s", secret, signingSecretShape)
	}
	id, _ := created["id"].(string)
	for _, tc := range []struct {
		function, method, path string
	}{
		{"get-destination", "GET", "/api/v1/destinations/" + id},
		{"list-destinations", "GET", "/api/v1/destinations"},
		{"update-destination", "PATCH", "/api/v1/destinations/" + id},
	} {
		body := ""
		if tc.method == "PATCH" {
			body = `{"serverRateLimit":7}`
		}
		resp := a.invoke(t, tc.function, event(tc.method, tc.path, "", body, tenantA))
		if resp.StatusCode != http.StatusOK || strings.Contains(resp.Body, "signingSecret") || strings.Contains(resp.Body, "whsec_") {
			t.Errorf("%s: got %d %s, want 200 without a signing secret", tc.function, resp.StatusCode, resp.Body)
		}
	}
}

package e2e_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"
)

// blockedHosts are URL hosts the API refuses outside local mode: loopback,
// private, link-local (cloud metadata), IPv6 loopback, IPv4-mapped IPv6,
// unique-local, CGNAT, the localhost name, an IETF protocol assignment
// (2001::/23), and spellings that net/http dials as loopback: fullwidth and
// circled digits (IDNA-mapped) and trailing dots.
var blockedHosts = []string{
	"127.0.0.1", "10.1.2.3", "169.254.169.254", "[::1]", "[::ffff:127.0.0.1]", "[fd00::1]", "100.64.0.1", "localhost",
	"[2001:10::1]", "１２７．０．０．１", "①②⑦.⓪.⓪.①", "127.0.0.1..",
}

func jwtBody(url, tokenEndpoint string) string {
	b, _ := json.Marshal(map[string]any{
		"url": url, "authType": "JwtBearer",
		"credentials": map[string]string{"tokenEndpoint": tokenEndpoint, "clientId": "c", "clientSecret": "s"},
	})
	return string(b)
}

// TestCreateRefusesBlockedHosts is issue 3's acceptance at the API: with
// local mode off, create-destination answers 400 naming the field for
// every blocked url or tokenEndpoint host, and stores nothing.
func TestCreateRefusesBlockedHosts(t *testing.T) {
	f := newFunctionsWith(t, false)
	tenant := newTenant(t)
	for _, host := range blockedHosts {
		for _, tc := range []struct {
			name  string
			body  string
			field string
		}{
			{"url", `{"url":"https://` + host + `/hook"}`, "url"},
			{"url with port", `{"url":"https://` + host + `:8443/hook"}`, "url"},
			{"tokenEndpoint", jwtBody("https://example.com/hook", "https://"+host+"/token"), "credentials.tokenEndpoint"},
		} {
			t.Run(host+" "+tc.name, func(t *testing.T) {
				p := wantProblem(t, f.call(t, "create-destination", tenant, "", "", tc.body), http.StatusBadRequest)
				if got := problemFields(t, p); !slices.Equal(got, []string{tc.field}) {
					t.Errorf("fields: got %v, want [%s]", got, tc.field)
				}
			})
		}
	}
	r := f.call(t, "list-destinations", tenant, "", "", "")
	if page := decodePage(t, r.Body); page.total != 0 {
		t.Errorf("list after refused creates: got %s, want no destinations", r.Body)
	}
}

func TestCreateAcceptsPublicHosts(t *testing.T) {
	f := newFunctionsWith(t, false)
	tenant := newTenant(t)
	for _, tc := range []struct {
		name, body string
	}{
		{"url", `{"url":"https://example.com/hook"}`},
		{"url with port", `{"url":"https://example.com:8443/hook"}`},
		{"public IP literal", `{"url":"https://93.184.215.14/hook"}`},
		{"tokenEndpoint", jwtBody("https://example.com/hook", "https://idp.example.com/oauth/token")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if r := f.call(t, "create-destination", tenant, "", "", tc.body); r.Status != http.StatusCreated {
				t.Errorf("got %v, want 201", r)
			}
		})
	}
}

// TestUpdateRefusesBlockedHosts: PATCH applies the same rule.
func TestUpdateRefusesBlockedHosts(t *testing.T) {
	f := newFunctionsWith(t, false)
	tenant := newTenant(t)
	id := str(f.create(t, tenant, jwtBody("https://example.com/hook", "https://idp.example.com/token"))["id"])
	for _, host := range blockedHosts {
		for _, tc := range []struct {
			name, body, field string
		}{
			{"url", `{"url":"https://` + host + `/hook"}`, "url"},
			{"tokenEndpoint", `{"credentials":{"tokenEndpoint":"https://` + host + `/token","clientId":"c","clientSecret":"s"}}`, "credentials.tokenEndpoint"},
		} {
			t.Run(host+" "+tc.name, func(t *testing.T) {
				p := wantProblem(t, f.call(t, "update-destination", tenant, id, "", tc.body), http.StatusBadRequest)
				if got := problemFields(t, p); !slices.Equal(got, []string{tc.field}) {
					t.Errorf("fields: got %v, want [%s]", got, tc.field)
				}
			})
		}
	}
	r := f.call(t, "get-destination", tenant, id, "", "")
	if d := checkDestination(t, r.Body, false); d["url"] != "https://example.com/hook" {
		t.Errorf("url after refused updates: got %v, want it unchanged", d["url"])
	}
}

// TestLocalModeAcceptsPrivateHosts is the control: the same hosts pass
// with private networks allowed, so the policy is what refused them.
func TestLocalModeAcceptsPrivateHosts(t *testing.T) {
	f := newFunctionsWith(t, true)
	tenant := newTenant(t)
	for _, host := range blockedHosts {
		t.Run(host, func(t *testing.T) {
			if r := f.call(t, "create-destination", tenant, "", "", jwtBody("https://"+host+"/hook", "https://"+host+"/token")); r.Status != http.StatusCreated {
				t.Errorf("got %v, want 201", r)
			}
		})
	}
}

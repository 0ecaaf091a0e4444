package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The destinations commands against the local stack, and the request bodies
// their flags build against the fake API.

// field returns the value of a "Name:  value" line of a key-value table.
func field(t *testing.T, out, name string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `:\s+(.*)$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no %q line in:\n%s", name, out)
	}
	return strings.TrimSpace(m[1])
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, stderr, err := runCLI(t, args...)
	if err != nil {
		t.Fatalf("hooksentry %s: %v (stderr %q)", strings.Join(args, " "), err, stderr)
	}
	return out
}

func TestDestinationsLifecycle(t *testing.T) {
	_, tenant := stackEnv(t)
	t.Setenv("HOOKSENTRY_TENANT", tenant)

	out := mustRun(t, "destinations", "create", "--url", "https://example.com/cli", "--rate-limit", "7",
		"--bearer-token", "s3cr3t", "--dedup-key", "header:Idempotency-Key", "--dedup-window", "2h")
	id := field(t, out, "ID")
	for name, want := range map[string]string{"Tenant": tenant, "URL": "https://example.com/cli", "Status": "Active",
		"Rate limit": "7", "Auth type": "BearerToken", "Verification": "-", "Deduplication": "header:Idempotency-Key within 2h0m0s"} {
		if got := field(t, out, name); got != want && !(name == "Deduplication" && got == "header:Idempotency-Key within 2h") {
			t.Errorf("create: %s %q, want %q", name, got, want)
		}
	}
	if tok := field(t, out, "Ingest token"); !regexp.MustCompile(`^dst_[0-9a-f]{32}$`).MatchString(tok) {
		t.Errorf("create: ingest token %q", tok)
	}
	if !strings.HasPrefix(field(t, out, "Signing secret"), "whsec_") || !strings.Contains(out, "shown only now") {
		t.Errorf("create: want the signing secret and the shown-once note:\n%s", out)
	}
	if strings.Contains(out, "s3cr3t") {
		t.Errorf("create printed the credentials:\n%s", out)
	}

	// get finds the owner by itself (no tenant, no token).
	t.Setenv("HOOKSENTRY_TENANT", "")
	got := mustRun(t, "destinations", "get", id)
	if field(t, got, "ID") != id || field(t, got, "Rate limit") != "7" || strings.Contains(got, "Ingest token") {
		t.Errorf("get:\n%s", got)
	}

	list := mustRun(t, "destinations", "list", "--tenant", tenant)
	lines := strings.Split(strings.TrimSpace(list), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "ID") || !strings.Contains(lines[0], "RATE LIMIT") ||
		!strings.HasPrefix(lines[1], id) || !strings.Contains(lines[1], "BearerToken") || lines[2] != "1 of 1" {
		t.Errorf("list:\n%s", list)
	}
	var page struct {
		Total int
		Items []struct{ ID string }
	}
	if err := json.Unmarshal([]byte(mustRun(t, "destinations", "list", "--tenant", tenant, "--json", "--url", "EXAMPLE.com/c", "--sort", "url", "--asc")), &page); err != nil ||
		page.Total != 1 || page.Items[0].ID != id {
		t.Errorf("list --json --url: %+v (%v)", page, err)
	}
	if err := json.Unmarshal([]byte(mustRun(t, "destinations", "list", "--tenant", tenant, "--json", "--status", "inactive")), &page); err != nil || page.Total != 0 {
		t.Errorf("list --status inactive: %+v (%v), want none", page, err)
	}

	verification := filepath.Join(t.TempDir(), "v.json")
	if err := os.WriteFile(verification, []byte(`{"type":"GitHub","secret":"gh-secret"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	upd := mustRun(t, "destinations", "update", id, "--status", "inactive", "--verification", "@"+verification, "--no-dedup", "--remove-auth")
	for name, want := range map[string]string{"Status": "Inactive", "Verification": "GitHub", "Deduplication": "-", "Auth type": "-"} {
		if got := field(t, upd, name); got != want {
			t.Errorf("update: %s %q, want %q", name, got, want)
		}
	}
	var d map[string]any
	if err := json.Unmarshal([]byte(mustRun(t, "destinations", "update", id, "--no-verification", "--url", "https://example.com/cli2", "--json")), &d); err != nil {
		t.Fatal(err)
	}
	if d["verification"] != nil || d["url"] != "https://example.com/cli2" || d["status"] != "Inactive" {
		t.Errorf("update --json: %v", d)
	}

	rot := mustRun(t, "destinations", "rotate-token", id)
	if !regexp.MustCompile(`(?m)^Ingest token: dst_[0-9a-f]{32}$`).MatchString(rot) || !strings.Contains(rot, "/ingest/dst_") {
		t.Errorf("rotate-token:\n%s", rot)
	}
	var sec struct{ SigningSecret string }
	if err := json.Unmarshal([]byte(mustRun(t, "destinations", "rotate-secret", id, "--json")), &sec); err != nil || !strings.HasPrefix(sec.SigningSecret, "whsec_") {
		t.Errorf("rotate-secret --json: %+v (%v)", sec, err)
	}
	if out := mustRun(t, "destinations", "rotate-secret", id); !strings.Contains(out, "Signing secret: whsec_") || !strings.Contains(out, "24 hours") {
		t.Errorf("rotate-secret:\n%s", out)
	}

	if out := mustRun(t, "destinations", "delete", id); out != "deleted destination "+id+" (its events are no longer delivered)\n" {
		t.Errorf("delete: %q", out)
	}
	_, stderr, code := runBinary(t, "destinations", "get", id, "--tenant", tenant)
	if code != 1 || !strings.HasPrefix(stderr, "hooksentry: 404 Not Found: ") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("get after delete: exit %d, stderr %q; want 1 and one 404 line", code, stderr)
	}
}

// Every command group fails with exit status 1 and one line on stderr.
func TestDestinationsErrors(t *testing.T) {
	_, tenant := stackEnv(t)
	const unknown = "0b8e3c1a-5f2d-4a7b-9c6e-1d2f3a4b5c6d"
	tests := []struct {
		name string
		args []string
		want *regexp.Regexp // the whole of stderr
	}{
		{"create with an http url", []string{"create", "--url", "http://example.com/hook", "--rate-limit", "5000", "--tenant", tenant},
			regexp.MustCompile(`^hooksentry: 400 Bad Request: .+ \((url: [^;]*https[^;]*; serverRateLimit: [^)]+|serverRateLimit: [^;]+; url: [^)]*https[^)]*)\)\n$`)},
		{"create without a tenant", []string{"create", "--url", "https://example.com/hook"},
			regexp.MustCompile(`^hooksentry: destinations create: no tenant: pass --tenant ID or set HOOKSENTRY_TENANT.*\n$`)},
		{"create without url", []string{"create", "--tenant", tenant}, regexp.MustCompile(`^hooksentry: destinations create: --url is required\n$`)},
		{"two ways of auth", []string{"create", "--url", "https://example.com/hook", "--bearer-token", "a", "--basic-user", "u", "--tenant", tenant},
			regexp.MustCompile(`^hooksentry: destinations create: give one way of authenticating, not --bearer-token and --basic-user/--basic-password\n$`)},
		{"bad JSON flag", []string{"create", "--url", "https://example.com/hook", "--verification", "{type:", "--tenant", tenant},
			regexp.MustCompile(`^hooksentry: destinations create: --verification: not valid JSON\n$`)},
		{"list with an unknown sort field", []string{"list", "--sort", "colour", "--tenant", tenant},
			regexp.MustCompile(`^hooksentry: 400 Bad Request: .*\(CpOrd: [^)]+\)\n$`)},
		{"list without a tenant", []string{"list"}, regexp.MustCompile(`^hooksentry: destinations list: no tenant: .*\n$`)},
		{"get of an unknown id", []string{"get", unknown, "--tenant", tenant}, regexp.MustCompile(`^hooksentry: 404 Not Found: .+\n$`)},
		{"get of an unknown id, owner looked up", []string{"get", unknown},
			regexp.MustCompile(`^hooksentry: cannot look up the tenant of destination ` + unknown + `: it is not in the local table; pass --tenant ID.*\n$`)},
		{"update with nothing to change", []string{"update", unknown, "--tenant", tenant},
			regexp.MustCompile(`^hooksentry: destinations update: nothing to change; .*\n$`)},
		{"update to suspended", []string{"update", unknown, "--status", "suspended", "--tenant", tenant}, regexp.MustCompile(`^hooksentry: 40[04] .+\n$`)},
		{"update contradicting flags", []string{"update", unknown, "--no-dedup", "--dedup-key", "header:X", "--tenant", tenant},
			regexp.MustCompile(`^hooksentry: destinations update: --no-dedup and --dedup-key contradict each other\n$`)},
		{"delete of an unknown id", []string{"delete", unknown, "--tenant", tenant}, regexp.MustCompile(`^hooksentry: 404 Not Found: .+\n$`)},
		{"rotate-token of an unknown id", []string{"rotate-token", unknown, "--tenant", tenant}, regexp.MustCompile(`^hooksentry: 404 Not Found: .+\n$`)},
		{"rotate-secret without an id", []string{"rotate-secret", "--tenant", tenant},
			regexp.MustCompile(`^hooksentry: destinations rotate-secret: give exactly one destination ID\n$`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := runBinary(t, append([]string{"destinations"}, tt.args...)...)
			if code != 1 || stdout != "" || !tt.want.MatchString(stderr) {
				t.Errorf("exit %d, stdout %q, stderr %q; want 1, nothing, and stderr matching %s", code, stdout, stderr, tt.want)
			}
		})
	}
}

func TestDestinationsStackNotRunning(t *testing.T) {
	cliEnv(t, "127.0.0.1:1")
	_, stderr, code := runBinary(t, "destinations", "list", "--tenant", tenantID)
	if code != 1 || stderr != "hooksentry: the local stack is not running at http://127.0.0.1:1 (connection refused): start it with make run\n" {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

// The flags become exactly these bodies (checked by the fake API).
func TestDestinationsRequestBodies(t *testing.T) {
	created := `{"id":"` + destID + `","tenantId":"` + tenantID + `","url":"https://example.com/h","status":"Active","serverRateLimit":3,` +
		`"authType":"ApiKey","verification":{"type":"Hmac"},"deduplication":{"key":"body:data.id","window":"1h"},` +
		`"alerts":["event.failed"],"createdAt":"2026-07-03T14:32:00.000Z","updatedAt":"2026-07-03T14:32:00.000Z",` +
		`"ingestToken":"dst_0123456789abcdef0123456789abcdef","signingSecret":"whsec_c2VjcmV0"}`
	tests := []struct {
		name string
		args []string
		x    exchange
	}{
		{"create with every setting", []string{"create", "--url", "https://example.com/h", "--rate-limit", "3",
			"--api-key-header", "X-Key", "--api-key", "k", "--verification", `{"type":"Hmac","secret":"s","header":"X-Sig"}`,
			"--dedup-key", "body:data.id", "--alerts", "event.failed, destination.suspended"},
			exchange{method: http.MethodPost, path: "/api/v1/destinations", status: 201, answer: created,
				body: `{"url":"https://example.com/h","serverRateLimit":3,"authType":"ApiKey","credentials":{"headerName":"X-Key","value":"k"},` +
					`"verification":{"type":"Hmac","secret":"s","header":"X-Sig"},"deduplication":{"key":"body:data.id"},` +
					`"alerts":["event.failed","destination.suspended"]}`}},
		{"create with auth-type and credentials", []string{"create", "--url", "https://example.com/h", "--auth-type", "JwtBearer",
			"--credentials", `{"tokenEndpoint":"https://idp/token","clientId":"c","clientSecret":"s"}`},
			exchange{method: http.MethodPost, path: "/api/v1/destinations", status: 201, answer: created,
				body: `{"url":"https://example.com/h","authType":"JwtBearer","credentials":{"tokenEndpoint":"https://idp/token","clientId":"c","clientSecret":"s"}}`}},
		{"create with a raw body", []string{"create", "--body", `{"url":"https://example.com/h","serverRateLimit":9}`},
			exchange{method: http.MethodPost, path: "/api/v1/destinations", status: 201, answer: created,
				body: `{"url":"https://example.com/h","serverRateLimit":9}`}},
		{"update removing things", []string{"update", destID, "--status", "active", "--remove-auth", "--no-verification", "--no-dedup", "--alerts", ""},
			exchange{method: http.MethodPatch, path: "/api/v1/destinations/" + destID, status: 200, answer: created,
				body: `{"status":"active","removeAuth":true,"verification":null,"deduplication":null,"alerts":[]}`}},
		{"update basic auth", []string{"update", destID, "--basic-user", "u"},
			exchange{method: http.MethodPatch, path: "/api/v1/destinations/" + destID, status: 200, answer: created,
				body: `{"authType":"BasicAuth","credentials":{"username":"u"}}`}},
		{"list filters and paging", []string{"list", "--status", "Suspended", "--auth-type", "ApiKey", "--url", "example", "--page", "2", "--size", "5", "--sort", "url", "--asc"},
			exchange{method: http.MethodGet, path: "/api/v1/destinations", status: 200, answer: `{"total":0,"items":[]}`,
				query: map[string][]string{"status": {"Suspended"}, "authType": {"ApiKey"}, "url": {"example"}, "Pg": {"2"}, "Qt": {"5"}, "CpOrd": {"url"}, "TpOrd": {"Asc"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, conn := apiWithToken(t, tt.x)
			out, stderr, err := runCLI(t, append(append([]string{"destinations"}, tt.args...), conn...)...)
			if err != nil || f.requests() != 1 {
				t.Fatalf("err %v, stderr %q, %d requests", err, stderr, f.requests())
			}
			if tt.x.status != 200 || tt.x.method != http.MethodGet {
				if !strings.Contains(out, "Alerts:          event.failed") {
					t.Errorf("output:\n%s", out)
				}
			}
		})
	}
}

func TestRotateTokenOutput(t *testing.T) {
	f, conn := apiWithToken(t, exchange{method: http.MethodPost, path: "/api/v1/destinations/" + destID + "/ingest-token", status: 200,
		answer: `{"ingestToken":"dst_0123456789abcdef0123456789abcdef"}`})
	out, _, err := runCLI(t, append([]string{"destinations", "rotate-token", destID}, conn...)...)
	want := "Ingest token: dst_0123456789abcdef0123456789abcdef\nIngest URL:   " + f.URL + "/ingest/dst_0123456789abcdef0123456789abcdef\n" +
		"Shown only now: store it. The previous token no longer works.\n"
	if err != nil || out != want {
		t.Errorf("err %v, output %q, want %q", err, out, want)
	}
}

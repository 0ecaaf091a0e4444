package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/hooksentry/hooksentry/pkg/destination"
)

func TestCreateDestination(t *testing.T) {
	f := newFunctions(t)
	tenant := newTenant(t)
	for _, tc := range []struct {
		name     string
		body     string
		url      string
		limit    int
		authType any
	}{
		{"documented example", `{"url":"https://my-server.com/webhook","serverRateLimit":5,"authType":"BearerToken","credentials":{"token":"my-secret-token"}}`,
			"https://my-server.com/webhook", 5, "BearerToken"},
		{"no auth and default rate limit", `{"url":"https://example.com/h"}`, "https://example.com/h", 5, nil},
		{"case-insensitive names and values", `{"URL":"https://example.com/ci","ServerRateLimit":1000,"AUTHTYPE":"apikey","Credentials":{"HeaderName":"X-Api-Key","VALUE":"k"}}`,
			"https://example.com/ci", 1000, "ApiKey"},
		{"JwtBearer", `{"url":"https://example.com/j","authType":"JWTBEARER","credentials":{"tokenEndpoint":"https://idp.example/token","clientId":"c","clientSecret":"s","scope":"x"}}`,
			"https://example.com/j", 5, "JwtBearer"},
		{"BasicAuth", `{"url":"https://example.com/b","serverRateLimit":1,"authType":"basicAuth","credentials":{"username":"u","password":"p"}}`,
			"https://example.com/b", 1, "BasicAuth"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := f.call(t, "create-destination", tenant, "", "", tc.body)
			if r.Status != http.StatusCreated {
				t.Fatalf("got %v, want 201", r)
			}
			if ct := r.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type: got %q, want application/json", ct)
			}
			d := checkDestination(t, r.Body, true)
			if loc := r.Header.Get("Location"); loc != "/api/v1/destinations/"+str(d["id"]) {
				t.Errorf("Location: got %q, want /api/v1/destinations/%s", loc, d["id"])
			}
			if d["tenantId"] != tenant || d["url"] != tc.url || num(t, d["serverRateLimit"]) != tc.limit ||
				d["status"] != "Active" || d["authType"] != tc.authType {
				t.Errorf("got %s, want tenant %s url %s limit %d status Active authType %v", r.Body, tenant, tc.url, tc.limit, tc.authType)
			}
			if d["createdAt"] != d["updatedAt"] {
				t.Errorf("createdAt %v != updatedAt %v on create", d["createdAt"], d["updatedAt"])
			}
			created, err := time.Parse(time.RFC3339, str(d["createdAt"]))
			if err != nil || time.Since(created) > time.Minute || time.Until(created) > time.Minute {
				t.Errorf("createdAt %v: want about now (%v)", d["createdAt"], err)
			}
			// The ingest token resolves to the new destination.
			destID, tenantID, found, err := stack.Env.Store().ResolveIngestToken(context.Background(), destination.HashIngestToken(str(d["ingestToken"])))
			if err != nil || !found || destID != d["id"] || tenantID != tenant {
				t.Errorf("ResolveIngestToken: got (%q, %q, %v, %v), want (%v, %s, true, nil)", destID, tenantID, found, err, d["id"], tenant)
			}
		})
	}
}

// TestRouteShapes walks one destination through every route and checks each
// success status and JSON shape.
func TestRouteShapes(t *testing.T) {
	f := newFunctions(t)
	tenant := newTenant(t)
	created := f.create(t, tenant, `{"url":"https://example.com/shape","authType":"BearerToken","credentials":{"token":"t1"}}`)
	id := str(created["id"])
	withoutToken := func(m map[string]any) map[string]any {
		c := map[string]any{}
		for k, v := range m {
			if k != "ingestToken" && k != "signingSecret" {
				c[k] = v
			}
		}
		return c
	}

	// GET /{id}: the destination as created, without the token and the
	// signing secret.
	r := f.call(t, "get-destination", tenant, id, "", "")
	if r.Status != http.StatusOK {
		t.Fatalf("get: got %v, want 200", r)
	}
	got := checkDestination(t, r.Body, false)
	if fmt.Sprint(got) != fmt.Sprint(withoutToken(created)) {
		t.Errorf("get: got %v, want %v", got, withoutToken(created))
	}

	// GET list: {"total", "items"} and nothing else.
	r = f.call(t, "list-destinations", tenant, "", "", "")
	if r.Status != http.StatusOK {
		t.Fatalf("list: got %v, want 200", r)
	}
	page := decodePage(t, r.Body)
	if page.total != 1 || len(page.items) != 1 || fmt.Sprint(page.items[0]) != fmt.Sprint(got) {
		t.Errorf("list: got %s, want total 1 and the destination", r.Body)
	}

	// PATCH: 200 with the updated destination.
	r = f.call(t, "update-destination", tenant, id, "", `{"serverRateLimit":10,"status":"inactive","url":"https://example.com/new"}`)
	if r.Status != http.StatusOK {
		t.Fatalf("patch: got %v, want 200", r)
	}
	patched := checkDestination(t, r.Body, false)
	if num(t, patched["serverRateLimit"]) != 10 || patched["status"] != "Inactive" || patched["url"] != "https://example.com/new" ||
		patched["authType"] != "BearerToken" || patched["createdAt"] != created["createdAt"] || patched["id"] != id {
		t.Errorf("patch: got %s", r.Body)
	}
	if str(patched["updatedAt"]) < str(created["updatedAt"]) {
		t.Errorf("updatedAt went backwards: %v -> %v", created["updatedAt"], patched["updatedAt"])
	}
	r = f.call(t, "get-destination", tenant, id, "", "")
	if again := checkDestination(t, r.Body, false); fmt.Sprint(again) != fmt.Sprint(patched) {
		t.Errorf("get after patch: got %v, want %v", again, patched)
	}

	// POST /{id}/ingest-token: exactly {"ingestToken"}.
	r = f.call(t, "regenerate-ingest-token", tenant, id, "", "")
	if r.Status != http.StatusOK {
		t.Fatalf("regenerate: got %v, want 200", r)
	}
	var regen map[string]any
	if err := json.Unmarshal(r.Body, &regen); err != nil {
		t.Fatal(err)
	}
	if len(regen) != 1 || !ingestTokenRE.MatchString(str(regen["ingestToken"])) || regen["ingestToken"] == created["ingestToken"] {
		t.Errorf("regenerate: got %s, want only a new ingestToken", r.Body)
	}

	// POST /{id}/signing-secret: exactly {"signingSecret"}, a new one.
	r = f.call(t, "rotate-signing-secret", tenant, id, "", "")
	if r.Status != http.StatusOK {
		t.Fatalf("rotate signing secret: got %v, want 200", r)
	}
	var rotated map[string]any
	if err := json.Unmarshal(r.Body, &rotated); err != nil {
		t.Fatal(err)
	}
	if len(rotated) != 1 || !signingSecretRE.MatchString(str(rotated["signingSecret"])) || rotated["signingSecret"] == created["signingSecret"] {
		t.Errorf("rotate signing secret: got %s, want only a new signingSecret", r.Body)
	}

	// DELETE: 204 with no body, then 404.
	r = f.call(t, "delete-destination", tenant, id, "", "")
	if r.Status != http.StatusNoContent || len(r.Body) != 0 {
		t.Errorf("delete: got %v, want 204 without a body", r)
	}
	wantProblem(t, f.call(t, "get-destination", tenant, id, "", ""), http.StatusNotFound)
	wantProblem(t, f.call(t, "delete-destination", tenant, id, "", ""), http.StatusNotFound)
}

type page struct {
	total int
	items []map[string]any
}

func decodePage(t *testing.T, body []byte) page {
	t.Helper()
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatalf("page %q: %v", body, err)
	}
	if len(raw) != 2 || raw["total"] == nil || raw["items"] == nil {
		t.Fatalf("page %s: want exactly total and items", body)
	}
	var p page
	if err := json.Unmarshal(raw["total"], &p.total); err != nil {
		t.Fatalf("total %s: %v", raw["total"], err)
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw["items"], &items); err != nil || items == nil {
		t.Fatalf("items %s: want an array (%v)", raw["items"], err)
	}
	for _, it := range items {
		p.items = append(p.items, checkDestination(t, it, false))
	}
	return p
}

func TestPatchAuth(t *testing.T) {
	f := newFunctions(t)
	tenant := newTenant(t)
	id := str(f.create(t, tenant, `{"url":"https://example.com/a","authType":"ApiKey","credentials":{"headerName":"X-K","value":"v1"}}`)["id"])
	for _, tc := range []struct {
		name     string
		body     string
		authType any
	}{
		{"credentials alone keep the type", `{"credentials":{"headerName":"X-K","value":"v2"}}`, "ApiKey"},
		{"switch type", `{"authType":"bearertoken","credentials":{"token":"t"}}`, "BearerToken"},
		{"remove", `{"removeAuth":true}`, nil},
		{"add again", `{"AuthType":"BASICAUTH","Credentials":{"Username":"u","Password":"p"}}`, "BasicAuth"},
	} {
		r := f.call(t, "update-destination", tenant, id, "", tc.body)
		if r.Status != http.StatusOK {
			t.Fatalf("%s: got %v, want 200", tc.name, r)
		}
		if got := checkDestination(t, r.Body, false)["authType"]; got != tc.authType {
			t.Errorf("%s: authType got %v, want %v", tc.name, got, tc.authType)
		}
	}
}

func TestSuspendedToActiveResetsBreaker(t *testing.T) {
	f := newFunctions(t)
	tenant := newTenant(t)
	id := str(f.create(t, tenant, `{"url":"https://example.com/s"}`)["id"])
	st := stack.Env.Store()
	ctx := context.Background()
	// As a worker does: its first read creates the delivery state, then the
	// breaker opens.
	if _, _, found, err := st.LoadTarget(ctx, id); err != nil || !found {
		t.Fatalf("LoadTarget: %v, %v", found, err)
	}
	if ok, err := st.Suspend(ctx, id, time.Now().Add(time.Hour), time.Hour); err != nil || !ok {
		t.Fatalf("Suspend: %v, %v", ok, err)
	}
	r := f.call(t, "get-destination", tenant, id, "", "")
	if got := checkDestination(t, r.Body, false)["status"]; got != "Suspended" {
		t.Fatalf("status after the breaker opened: got %v, want Suspended", got)
	}
	wantProblem(t, f.call(t, "update-destination", tenant, id, "", `{"status":"suspended"}`), http.StatusBadRequest)

	r = f.call(t, "update-destination", tenant, id, "", `{"status":"ACTIVE"}`)
	if r.Status != http.StatusOK || checkDestination(t, r.Body, false)["status"] != "Active" {
		t.Fatalf("patch status active: got %v, want 200 Active", r)
	}
	state, err := st.LoadState(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if state.Failures != 0 || !state.OpenUntil.IsZero() || state.Cooldown != 0 || !state.ProbeUntil.IsZero() {
		t.Errorf("breaker after reactivation: got %+v, want reset", state)
	}
}

func TestValidationProblems(t *testing.T) {
	f := newFunctions(t)
	tenant := newTenant(t)
	noAuth := str(f.create(t, tenant, `{"url":"https://example.com/v"}`)["id"])
	long := "https://example.com/" + strings.Repeat("x", 2049-len("https://example.com/"))
	for _, tc := range []struct {
		name     string
		function string
		id       string
		query    string
		body     string
		fields   []string
	}{
		{"create http url", "create-destination", "", "", `{"url":"http://example.com"}`, []string{"url"}},
		{"create url without host", "create-destination", "", "", `{"url":"https:///x"}`, []string{"url"}},
		{"create url with user info", "create-destination", "", "", `{"url":"https://u:p@example.com"}`, []string{"url"}},
		{"create url too long", "create-destination", "", "", `{"url":"` + long + `"}`, []string{"url"}},
		{"create missing url", "create-destination", "", "", `{}`, []string{"url"}},
		{"create rate limit 0", "create-destination", "", "", `{"url":"https://example.com","serverRateLimit":0}`, []string{"serverRateLimit"}},
		{"create rate limit 1001", "create-destination", "", "", `{"url":"https://example.com","serverRateLimit":1001}`, []string{"serverRateLimit"}},
		{"create rate limit 1.5", "create-destination", "", "", `{"url":"https://example.com","serverRateLimit":1.5}`, []string{"serverRateLimit"}},
		{"create rate limit string", "create-destination", "", "", `{"url":"https://example.com","serverRateLimit":"5"}`, []string{"serverRateLimit"}},
		{"create unknown authType", "create-destination", "", "", `{"url":"https://example.com","authType":"Hmac","credentials":{"token":"t"}}`, []string{"authType"}},
		{"create authType without credentials", "create-destination", "", "", `{"url":"https://example.com","authType":"BearerToken"}`, []string{"credentials"}},
		{"create credentials without authType", "create-destination", "", "", `{"url":"https://example.com","credentials":{"token":"t"}}`, []string{"authType"}},
		{"create wrong credential shape", "create-destination", "", "", `{"url":"https://example.com","authType":"BasicAuth","credentials":{"token":"t"}}`,
			[]string{"credentials.token", "credentials.username"}},
		{"create ApiKey in a HookSentry header", "create-destination", "", "", `{"url":"https://example.com","authType":"ApiKey","credentials":{"headerName":"HookSentry-Verified","value":"v"}}`,
			[]string{"credentials.headerName"}},
		{"create ApiKey in a proxy header", "create-destination", "", "", `{"url":"https://example.com","authType":"ApiKey","credentials":{"headerName":"x-forwarded-for","value":"v"}}`,
			[]string{"credentials.headerName"}},
		{"create body not an object", "create-destination", "", "", `["https://example.com"]`, []string{"body"}},
		{"create trailing garbage", "create-destination", "", "", `{"url":"https://example.com"}garbage`, []string{"body"}},
		{"create empty body", "create-destination", "", "", ``, []string{"body"}},
		{"patch status suspended", "update-destination", noAuth, "", `{"status":"suspended"}`, []string{"status"}},
		{"patch removeAuth with authType", "update-destination", noAuth, "", `{"removeAuth":true,"authType":"BearerToken","credentials":{"token":"t"}}`, []string{"removeAuth"}},
		{"patch credentials without a current authType", "update-destination", noAuth, "", `{"credentials":{"token":"t"}}`, []string{"credentials"}},
		{"patch bad url and limit", "update-destination", noAuth, "", `{"url":"ftp://x","serverRateLimit":-5}`, []string{"serverRateLimit", "url"}},
		{"patch ApiKey in an HTTP header", "update-destination", noAuth, "", `{"authType":"ApiKey","credentials":{"headerName":"Content-Length","value":"v"}}`, []string{"credentials.headerName"}},
		{"patch body not an object", "update-destination", noAuth, "", `"x"`, []string{"body"}},
		{"list invalid sort field", "list-destinations", "", "CpOrd=tenantId", "", []string{"CpOrd"}},
		{"list invalid paging", "list-destinations", "", "qt=0&PG=0&tpord=sideways", "", []string{"Pg", "Qt", "TpOrd"}},
		{"list page size too big", "list-destinations", "", "Qt=101", "", []string{"Qt"}},
		{"list invalid filters", "list-destinations", "", "status=gone&authType=x", "", []string{"authType", "status"}},
		{"list undecodable paging value", "list-destinations", "", "Qt=%zz&Pg=2", "", []string{"Qt"}},
		{"list undecodable parameter name", "list-destinations", "", "Q%t=5", "", []string{"query"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := wantProblem(t, f.call(t, tc.function, tenant, tc.id, tc.query, tc.body), http.StatusBadRequest)
			want := slices.Clone(tc.fields)
			slices.Sort(want)
			if got := problemFields(t, p); !slices.Equal(got, want) {
				t.Errorf("fields: got %v, want %v", got, want)
			}
		})
	}
	// Nothing invalid was stored.
	r := f.call(t, "list-destinations", tenant, "", "", "")
	if p := decodePage(t, r.Body); p.total != 1 {
		t.Errorf("destinations after invalid requests: got %d, want 1", p.total)
	}
}

func TestTenantsAndOwnership(t *testing.T) {
	f := newFunctions(t)
	owner, other := newTenant(t), newTenant(t)
	id := str(f.create(t, owner, `{"url":"https://example.com/o","authType":"BearerToken","credentials":{"token":"t"}}`)["id"])
	unknownTenant := uuid.NewString()
	bodies := map[string]string{"update-destination": `{"serverRateLimit":7}`}
	for _, tc := range []struct {
		name   string
		tenant string
		id     string
		status int
	}{
		{"another tenant's destination", other, id, http.StatusForbidden},
		{"unknown tenant", unknownTenant, id, http.StatusNotFound},
		{"unknown id", owner, uuid.NewString(), http.StatusNotFound},
		{"non-UUID id", owner, "not-a-uuid", http.StatusNotFound},
		{"UUID with trailing junk", owner, id + "x", http.StatusNotFound},
	} {
		for _, fn := range []string{"get-destination", "update-destination", "delete-destination", "regenerate-ingest-token", "rotate-signing-secret"} {
			t.Run(tc.name+"/"+fn, func(t *testing.T) {
				wantProblem(t, f.call(t, fn, tc.tenant, tc.id, "", bodies[fn]), tc.status)
			})
		}
	}
	// An invalid body does not reveal whether a destination exists elsewhere.
	wantProblem(t, f.call(t, "update-destination", other, id, "", `{"status":"suspended"}`), http.StatusForbidden)

	// The destination is untouched.
	r := f.call(t, "get-destination", owner, id, "", "")
	if d := checkDestination(t, r.Body, false); num(t, d["serverRateLimit"]) != 5 {
		t.Errorf("after refused requests: got %s", r.Body)
	}
	// An upper-case id is the same UUID.
	if r := f.call(t, "get-destination", owner, strings.ToUpper(id), "", ""); r.Status != http.StatusOK {
		t.Errorf("get with an upper-case id: got %v, want 200", r)
	}

	t.Run("create for an unknown tenant", func(t *testing.T) {
		wantProblem(t, f.call(t, "create-destination", unknownTenant, "", "", `{"url":"https://example.com"}`), http.StatusNotFound)
	})
	for _, tenant := range []string{unknownTenant, other, strings.Repeat("t", 3000)} {
		r := f.call(t, "list-destinations", tenant, "", "Qt=5", "")
		if r.Status != http.StatusOK {
			t.Fatalf("list for tenant %.20s: got %v, want 200", tenant, r)
		}
		if p := decodePage(t, r.Body); p.total != 0 || len(p.items) != 0 {
			t.Errorf("list for tenant %.20s: got %s, want total 0 and no items", tenant, r.Body)
		}
	}
	for _, fn := range []string{"get-destination", "regenerate-ingest-token", "rotate-signing-secret"} {
		wantProblem(t, f.call(t, fn, strings.Repeat("t", 3000), id, "", ""), http.StatusNotFound)
	}
}

func TestListPagingSortingFiltering(t *testing.T) {
	f := newFunctions(t)
	tenant := newTenant(t)
	var created []map[string]any
	for i, body := range []string{
		`{"url":"https://a.example/hook","serverRateLimit":3}`,
		`{"url":"https://b.example/HOOK","serverRateLimit":3,"authType":"BearerToken","credentials":{"token":"t"}}`,
		`{"url":"https://c.example/other","serverRateLimit":1}`,
		`{"url":"https://d.example/hook","serverRateLimit":9,"authType":"BearerToken","credentials":{"token":"t"}}`,
		`{"url":"https://e.example/x","serverRateLimit":3}`,
	} {
		created = append(created, f.create(t, tenant, body))
		if i == 3 {
			r := f.call(t, "update-destination", tenant, str(created[i]["id"]), "", `{"status":"inactive"}`)
			if r.Status != http.StatusOK {
				t.Fatalf("patch: %v", r)
			}
		}
	}
	// The default order is createdAt descending, ties broken by id (also
	// descending); creation times may collide at millisecond precision.
	byCreated := slices.Clone(created)
	slices.SortFunc(byCreated, func(a, b map[string]any) int {
		if c := strings.Compare(str(b["createdAt"]), str(a["createdAt"])); c != 0 {
			return c
		}
		return strings.Compare(str(b["id"]), str(a["id"]))
	})
	hosts := func(ds []map[string]any, keep func(map[string]any) bool) []string {
		var out []string
		for _, d := range ds {
			if keep == nil || keep(d) {
				out = append(out, strings.TrimPrefix(str(d["url"]), "https://"))
			}
		}
		return out
	}
	newest := hosts(byCreated, nil)
	oldest := slices.Clone(newest)
	slices.Reverse(oldest)
	for _, tc := range []struct {
		query string
		total int
		urls  []string
	}{
		{"", 5, newest},
		{"Qt=2&Pg=2", 5, newest[2:4]},
		{"qt=2&pg=3", 5, newest[4:]},
		{"Qt=2&Pg=4", 5, nil},
		{"Qt=100&Pg=1000000", 5, nil},
		{"CpOrd=url&TpOrd=Asc", 5, []string{"a.example/hook", "b.example/HOOK", "c.example/other", "d.example/hook", "e.example/x"}},
		{"cpord=URL&tpord=DESC&qt=1", 5, []string{"e.example/x"}},
		{"CpOrd=createdAt&TpOrd=asc&Qt=2", 5, oldest[:2]},
		{"CpOrd=serverRateLimit&TpOrd=Desc", 5, nil}, // order checked below
		{"status=inactive", 1, []string{"d.example/hook"}},
		{"STATUS=Active&Qt=1", 4, hosts(byCreated, func(d map[string]any) bool { return d["url"] != "https://d.example/hook" })[:1]},
		{"authType=bearertoken", 2, hosts(byCreated, func(d map[string]any) bool { return d["authType"] == "BearerToken" })},
		{"url=HOOK&CpOrd=url&TpOrd=asc", 3, []string{"a.example/hook", "b.example/HOOK", "d.example/hook"}},
		{"url=hook&status=active&CpOrd=url", 2, []string{"b.example/HOOK", "a.example/hook"}},
		{"url=nothing", 0, nil},
	} {
		t.Run(tc.query, func(t *testing.T) {
			r := f.call(t, "list-destinations", tenant, "", tc.query, "")
			if r.Status != http.StatusOK {
				t.Fatalf("got %v, want 200", r)
			}
			p := decodePage(t, r.Body)
			if p.total != tc.total {
				t.Errorf("total: got %d, want %d", p.total, tc.total)
			}
			if tc.query == "CpOrd=serverRateLimit&TpOrd=Desc" {
				var limits []int
				for _, it := range p.items {
					limits = append(limits, num(t, it["serverRateLimit"]))
				}
				if !slices.Equal(limits, []int{9, 3, 3, 3, 1}) {
					t.Errorf("limits: got %v, want [9 3 3 3 1]", limits)
				}
				// Ties are broken by id, descending with the order.
				var tied []string
				for _, it := range p.items[1:4] {
					tied = append(tied, str(it["id"]))
				}
				if !slices.IsSortedFunc(tied, func(a, b string) int { return strings.Compare(b, a) }) {
					t.Errorf("ties: got ids %v, want descending", tied)
				}
				return
			}
			if got := hosts(p.items, nil); !slices.Equal(got, tc.urls) {
				t.Errorf("urls: got %v, want %v", got, tc.urls)
			}
		})
	}
}

func TestMalformedEvent(t *testing.T) {
	f := newFunctions(t)
	tenant := newTenant(t)
	ev := apiEvent(routeOf(t, "create-destination"), "", "", "not base64!", tenant)
	ev.IsBase64Encoded = true
	wantProblem(t, f.invoke(t, "create-destination", ev), http.StatusBadRequest)

	ev = apiEvent(routeOf(t, "create-destination"), "", "", "", "")
	wantProblem(t, f.invoke(t, "create-destination", ev), http.StatusUnauthorized)
}

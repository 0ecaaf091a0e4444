package main

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/hooksentry/hooksentry/pkg/local/devauth"
)

// API errors reach the user as one line, "status title: detail (fields)", on stderr, with a non-zero
// exit, and never with the token.
func TestEventsAPIErrors(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		x      exchange
		stderr string // the exact stderr
	}{
		{
			name: "not found",
			args: []string{"list", "--destination", destID},
			x: exchange{method: http.MethodGet, path: listPath, status: 404,
				answer: `{"type":"about:blank","title":"Not Found","status":404,"detail":"Destination \"` + destID + `\" was not found."}`},
			stderr: `hooksentry: 404 Not Found: Destination "` + destID + `" was not found.` + "\n",
		},
		{
			name: "validation errors",
			args: []string{"list", "--destination", destID, "--page", "200", "--size", "100"},
			x: exchange{method: http.MethodGet, path: listPath, query: map[string][]string{"Pg": {"200"}, "Qt": {"100"}}, status: 400,
				answer: `{"type":"about:blank","title":"Bad Request","status":400,"detail":"The request is invalid.",` +
					`"errors":[{"field":"Pg","message":"Pg × Qt may not exceed 10000; narrow with from and to."}]}`},
			stderr: "hooksentry: 400 Bad Request: The request is invalid. (Pg: Pg × Qt may not exceed 10000; narrow with from and to.)\n",
		},
		{
			name: "conflict on replay",
			args: []string{"replay", eventID1},
			x: exchange{method: http.MethodPost, path: replayPath, status: 409,
				answer: `{"type":"about:blank","title":"Conflict","status":409,"detail":"Event ` + eventID1 + ` is already pending."}`},
			stderr: "hooksentry: 409 Conflict: Event " + eventID1 + " is already pending.\n",
		},
		{
			name:   "gateway 401",
			args:   []string{"show", eventID1},
			x:      exchange{method: http.MethodGet, path: eventPath1, status: 401, answer: `{"message":"Unauthorized"}`},
			stderr: "hooksentry: 401 Unauthorized: the API refused the bearer token (missing, malformed, expired, or not issued for this API)\n",
		},
		{
			name:   "neither shape",
			args:   []string{"stats", "--destination", destID},
			x:      exchange{method: http.MethodGet, path: statsPath, status: 502, answer: "<html>\n<h1>Bad gateway</h1>"},
			stderr: "hooksentry: 502 Bad Gateway: <html> <h1>Bad gateway</h1>\n",
		},
		{
			name: "server text cannot drive the terminal",
			args: []string{"show", eventID1},
			x: exchange{method: http.MethodGet, path: eventPath1, status: 404,
				answer: `{"type":"about:blank","title":"Not Found","status":404,"detail":"gone\u001b[2J\nreally"}`},
			stderr: "hooksentry: 404 Not Found: gone\uFFFD[2J really\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, conn := apiWithToken(t, tt.x)
			stdout, stderr, code := runBinary(t, append(append([]string{"events"}, tt.args...), conn...)...)
			if code == 0 {
				t.Errorf("exit code 0, want non-zero")
			}
			if stderr != tt.stderr || stdout != "" {
				t.Errorf("stdout %q, stderr %q; want no output and stderr %q", stdout, stderr, tt.stderr)
			}
			if strings.Contains(stdout+stderr, testTok) {
				t.Errorf("the token was printed")
			}
		})
	}
}

// The token: --token > HOOKSENTRY_TOKEN > a token minted for --tenant >
// HOOKSENTRY_TENANT > the owner looked up in the local table; against
// --api only the first two.
func TestEventsTokenResolution(t *testing.T) {
	const (
		lookedUp = "c0ffee00-0000-4000-8000-00000000000a"
		other    = "c0ffee00-0000-4000-8000-00000000000b"
	)
	listOK := exchange{method: http.MethodGet, path: listPath, status: 200, answer: `{"total":0,"items":[]}`}
	showOK := exchange{method: http.MethodGet, path: eventPath1, status: 200,
		answer: detailJSON(summaryJSON(eventID1, "Pending", 0, "", "", ""), `null`, `{}`, `""`, "", `[]`)}
	tests := []struct {
		name       string
		env        map[string]string
		args       []string // after "events"
		remote     bool     // --api instead of the local stack
		x          exchange
		wantBearer string // exact Authorization header
		wantTenant string // else: a minted token for this tenant
		wantErr    string // else: this error and no request
	}{
		{name: "--token first", env: map[string]string{"HOOKSENTRY_TOKEN": "env-token", "HOOKSENTRY_TENANT": other},
			args: []string{"list", "--destination", destID, "--token", "flag-token", "--tenant", other}, x: listOK, wantBearer: "Bearer flag-token"},
		{name: "HOOKSENTRY_TOKEN before --tenant", env: map[string]string{"HOOKSENTRY_TOKEN": "Bearer env-token\n"},
			args: []string{"list", "--destination", destID, "--tenant", other}, x: listOK, wantBearer: "Bearer env-token"},
		{name: "--tenant mints", env: map[string]string{"HOOKSENTRY_TENANT": other},
			args: []string{"list", "--destination", destID, "--tenant", tenantID}, x: listOK, wantTenant: tenantID},
		{name: "HOOKSENTRY_TENANT mints", env: map[string]string{"HOOKSENTRY_TENANT": other},
			args: []string{"show", eventID1}, x: showOK, wantTenant: other},
		{name: "destination owner looked up", args: []string{"list", "--destination", destID}, x: listOK, wantTenant: lookedUp},
		{name: "event owner looked up by its route", args: []string{"show", eventID1}, x: showOK, wantTenant: lookedUp},
		{name: "--api uses HOOKSENTRY_TOKEN", env: map[string]string{"HOOKSENTRY_TOKEN": "env-token"}, remote: true,
			args: []string{"show", eventID1}, x: showOK, wantBearer: "Bearer env-token"},
		{name: "--api without a token", remote: true, args: []string{"show", eventID1, "--tenant", tenantID},
			wantErr: "pass --token JWT or set HOOKSENTRY_TOKEN"},
		{name: "unknown destination", args: []string{"list", "--destination", "3f2a9c4e-0000-4000-8000-000000000000"},
			wantErr: "cannot look up the tenant of destination 3f2a9c4e-0000-4000-8000-000000000000: it is not in the local table; pass --tenant ID"},
		{name: "event of no known destination", args: []string{"show", "01a2316c-1735-8dfa-a77a-a000011a902c"},
			wantErr: "cannot look up the tenant of event 01a2316c-1735-8dfa-a77a-a000011a902c: no destination in the local table matches it"},
		{name: "not an event id", args: []string{"replay", "not-an-id"},
			wantErr: "cannot look up the tenant of event not-an-id: it is not a HookSentry event id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var xs []exchange
			if tt.wantErr == "" {
				xs = append(xs, tt.x)
			}
			f := newFakeAPI(t, xs...)
			dir := cliEnv(t, f.hostPort())
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			// A destination whose id shares the first 8 hex digits (so the
			// Scan's prefix) but not the route, then the event's own.
			useTable(t, &fakeTable{items: []map[string]types.AttributeValue{
				destItem("3f2a9c4e-7c00-4000-8000-000000000000", other), destItem(destID, lookedUp),
			}})
			args := append([]string{"events"}, tt.args...)
			if tt.remote {
				args = append(args, "--api", f.URL)
			}
			stdout, stderr, err := runCLI(t, args...)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("err %v, want %q", err, tt.wantErr)
				}
				if f.requests() != 0 {
					t.Errorf("%d requests sent, want none", f.requests())
				}
				return
			}
			if err != nil {
				t.Fatalf("err %v, stderr %q", err, stderr)
			}
			auth := f.lastAuth()
			if tt.wantBearer != "" {
				if auth != tt.wantBearer {
					t.Errorf("Authorization %q, want %q", auth, tt.wantBearer)
				}
			} else {
				iss, err := devauth.LoadOrCreateIssuer(dir)
				if err != nil {
					t.Fatal(err)
				}
				v, err := devauth.NewValidator(iss.JWKS(), iss.IssuerURL, []string{iss.Audience}, nil)
				if err != nil {
					t.Fatal(err)
				}
				claims, err := v.Validate(auth)
				if err != nil {
					t.Fatalf("minted token does not validate with the local issuer: %v", err)
				}
				if claims[devauth.DefaultTenantClaim] != tt.wantTenant {
					t.Errorf("token for tenant %q, want %q", claims[devauth.DefaultTenantClaim], tt.wantTenant)
				}
			}
			if tok := strings.TrimPrefix(auth, "Bearer "); tok != "" && strings.Contains(stdout+stderr, tok) {
				t.Error("the token was printed")
			}
		})
	}
}

func TestEventsLookupWithoutRunningStack(t *testing.T) {
	f := newFakeAPI(t)
	cliEnv(t, f.hostPort()) // an empty state directory: no stack.json
	_, _, err := runCLI(t, "events", "list", "--destination", destID)
	if err == nil || !strings.Contains(err.Error(), "no running local stack found") || !strings.Contains(err.Error(), "--tenant") {
		t.Errorf("err %v, want no running stack and a hint to pass --tenant", err)
	}
	if _, _, err := openLocalTable(context.Background()); err == nil {
		t.Error("openLocalTable found a stack in an empty state directory")
	}
}

func TestEventTenantScan(t *testing.T) {
	ambiguous := &fakeTable{items: []map[string]types.AttributeValue{
		destItem("99999999-0000-4000-8000-000000000000", "t-0"),
		destItem(destID, "t-1"),
		destItem("3f2a9c4e-7b1d-4000-8000-00000000ffff", "t-2"), // same route: 40 bits collide
	}}
	_, err := eventTenant(context.Background(), ambiguous, "hooksentry", eventID1)
	if err == nil || !strings.Contains(err.Error(), "several tenants match it (t-1, t-2)") {
		t.Errorf("err %v, want an ambiguity naming t-1 and t-2", err)
	}
	if ambiguous.scans != 3 {
		t.Errorf("%d Scan pages read, want all 3", ambiguous.scans)
	}
	// Upper-case ids are the same id.
	one := &fakeTable{items: []map[string]types.AttributeValue{destItem(destID, "t-1")}}
	if got, err := eventTenant(context.Background(), one, "hooksentry", strings.ToUpper(eventID1)); err != nil || got != "t-1" {
		t.Errorf("eventTenant(upper case) = %q, %v; want t-1", got, err)
	}
}

func TestParseInterspersed(t *testing.T) {
	tests := []struct {
		args     []string
		wantPos  []string
		wantJSON bool
		wantAPI  string
	}{
		{[]string{"E1"}, []string{"E1"}, false, ""},
		{[]string{"E1", "--json"}, []string{"E1"}, true, ""},
		{[]string{"--json", "E1"}, []string{"E1"}, true, ""},
		{[]string{"--api", "https://x", "E1", "--json", "E2"}, []string{"E1", "E2"}, true, "https://x"},
		{[]string{"E1", "--", "--json"}, []string{"E1", "--json"}, false, ""},
		{nil, nil, false, ""},
	}
	for _, tt := range tests {
		c := apiCommand{group: "events", stderr: &strings.Builder{}}
		fs := c.flags("test")
		pos, err := parseInterspersed(fs, tt.args)
		if err != nil || !slices.Equal(pos, tt.wantPos) || c.json != tt.wantJSON || c.api != tt.wantAPI {
			t.Errorf("parse %q: pos %q, json %v, api %q, err %v; want %q, %v, %q", tt.args, pos, c.json, c.api, err, tt.wantPos, tt.wantJSON, tt.wantAPI)
		}
	}
}

func TestResolveTarget(t *testing.T) {
	tests := []struct {
		name      string
		flag, env string
		localAddr string
		want      apiTarget
		wantErr   string
	}{
		{name: "local default", want: apiTarget{baseURL: "http://127.0.0.1:8080", local: true}},
		{name: "HOOKSENTRY_LOCAL_ADDR", localAddr: "127.0.0.1:9999", want: apiTarget{baseURL: "http://127.0.0.1:9999", local: true}},
		{name: "env URL", env: "https://api.example.com/", want: apiTarget{baseURL: "https://api.example.com"}},
		{name: "--api beats env, /api/v1 dropped", flag: "https://abc.execute-api.eu-west-1.amazonaws.com/prod/api/v1/", env: "https://other.example.com",
			want: apiTarget{baseURL: "https://abc.execute-api.eu-west-1.amazonaws.com/prod"}},
		{name: "http to loopback", flag: "http://localhost:3000", want: apiTarget{baseURL: "http://localhost:3000"}},
		{name: "http elsewhere", flag: "http://api.example.com", wantErr: "plain http"},
		{name: "user info", flag: "https://u:secret@api.example.com", wantErr: "without user info"},
		{name: "not a URL", env: "api.example.com", wantErr: "HOOKSENTRY_API_URL: \"api.example.com\" is not an absolute http(s) URL"},
		{name: "port 0 and no stack", localAddr: "127.0.0.1:0", wantErr: "no running stack"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cliEnv(t, tt.localAddr)
			t.Setenv("HOOKSENTRY_API_URL", tt.env)
			got, err := resolveTarget(tt.flag)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("err %v, want %q", err, tt.wantErr)
				}
				if err != nil && strings.Contains(err.Error(), "secret") {
					t.Errorf("error shows the URL's password: %v", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("resolveTarget(%q) = %+v, %v; want %+v", tt.flag, got, err, tt.want)
			}
		})
	}
}

func TestEventsUsageErrors(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr string
	}{
		{[]string{"list"}, "--destination is required"},
		{[]string{"list", "--destination", destID, "extra"}, `unexpected argument "extra"`},
		{[]string{"list", "--destination", destID, "--from", "yesterday"}, `--from: "yesterday" is not an RFC 3339 time`},
		{[]string{"list", "--destination", destID, "--from", "2026-07-03T00:00:00Z", "--to", "2026-07-02T00:00:00Z"}, "--from is after --to"},
		{[]string{"list", "--destination", destID, "--page", "0"}, "--page starts at 1"},
		{[]string{"show"}, "give exactly one EVENT_ID"},
		{[]string{"show", eventID1, eventID2}, "give exactly one EVENT_ID"},
		{[]string{"replay"}, "give one EVENT_ID, or --destination ID"},
		{[]string{"replay", eventID1, "--all"}, "go with --destination"},
		{[]string{"replay", eventID1, "--destination", destID}, "not both"},
		{[]string{"stats"}, "--destination is required"},
		{[]string{"frobnicate"}, `unknown subcommand "frobnicate"`},
		{nil, "no subcommand"},
	}
	for _, tt := range tests {
		f := newFakeAPI(t)
		cliEnv(t, f.hostPort())
		args := append([]string{"events"}, tt.args...)
		if len(tt.args) > 0 {
			args = append(args, "--token", testTok)
		}
		_, _, err := runCLI(t, args...)
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("events %q: err %v, want %q", tt.args, err, tt.wantErr)
		}
		if f.requests() != 0 {
			t.Errorf("events %q: %d requests sent, want none", tt.args, f.requests())
		}
	}
}

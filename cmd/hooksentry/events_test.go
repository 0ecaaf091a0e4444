package main

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// The events commands against a fake events API that checks each request
// and answers in the shapes of CONTRACT §5.

const (
	destID   = "3f2a9c4e-7b1d-4e8a-9c2f-5d6e7f8a9b0c"
	tenantID = "b1c2d3e4-0000-4000-8000-000000000001"
	eventID1 = "019f2864-c300-85f5-b3f2-a9c4e7ba684a" // routes to destID
	eventID2 = "019f2867-ab24-8647-a3f2-a9c4e7b3594f"
	eventID3 = "019f287f-57b3-8455-a3f2-a9c4e7b5d074"
	testTok  = "eyJhbGciOiJSUzI1NiJ9.test-token.sig"
)

var (
	listPath   = "/api/v1/destinations/" + destID + "/events"
	bulkPath   = "/api/v1/destinations/" + destID + "/events/replay"
	statsPath  = "/api/v1/destinations/" + destID + "/events/stats"
	eventPath1 = "/api/v1/events/" + eventID1
	replayPath = "/api/v1/events/" + eventID1 + "/replay"
)

// summaryJSON is a list item / replay answer as CONTRACT §5 writes it.
func summaryJSON(id, status string, attempts int, last, next, delivered string) string {
	q := func(s string) string {
		if s == "" {
			return "null"
		}
		return `"` + s + `"`
	}
	return `{"id":"` + id + `","destinationId":"` + destID + `","tenantId":"` + tenantID + `","status":"` + status +
		`","attemptCount":` + strconv.Itoa(attempts) + `,"receivedAt":"2026-07-03T14:32:00.000Z","lastAttemptAt":` + q(last) +
		`,"nextAttemptAt":` + q(next) + `,"deliveredAt":` + q(delivered) + `}`
}

var (
	itemFailed    = summaryJSON(eventID1, "Failed", 9, "2026-07-03T15:02:11.250Z", "", "")
	itemDelivered = summaryJSON(eventID2, "Delivered", 1, "2026-07-03T14:35:10.612Z", "", "2026-07-03T14:35:10.612Z")
	itemPending   = summaryJSON(eventID3, "Pending", 0, "", "2026-07-03T15:01:07.003Z", "")
)

// apiWithToken is the fake API reached through --api with --token.
func apiWithToken(t *testing.T, x ...exchange) (*fakeAPI, []string) {
	t.Helper()
	cliEnv(t, "127.0.0.1:1")
	for i := range x {
		x[i].auth = "Bearer " + testTok
	}
	f := newFakeAPI(t, x...)
	return f, []string{"--api", f.URL, "--token", testTok}
}

func TestEventsList(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		query  url.Values
		answer string
		want   string
	}{
		{
			name:   "defaults send no paging",
			args:   []string{"--destination", destID},
			answer: `{"total":3,"items":[` + itemFailed + `,` + itemDelivered + `,` + itemPending + `]}`,
			want: "" +
				"ID                                    STATUS     ATTEMPTS  RECEIVED                  LAST ATTEMPT              DELIVERED\n" +
				"019f2864-c300-85f5-b3f2-a9c4e7ba684a  Failed     9         2026-07-03T14:32:00.000Z  2026-07-03T15:02:11.250Z  -\n" +
				"019f2867-ab24-8647-a3f2-a9c4e7b3594f  Delivered  1         2026-07-03T14:32:00.000Z  2026-07-03T14:35:10.612Z  2026-07-03T14:35:10.612Z\n" +
				"019f287f-57b3-8455-a3f2-a9c4e7b5d074  Pending    0         2026-07-03T14:32:00.000Z  -                         -\n" +
				"3 of 3\n",
		},
		{
			name: "filters, paging and order, flags in any order",
			args: []string{"--asc", "--size", "2", "--destination", destID, "--status", "Failed",
				"--from", "2026-07-03T00:00:00Z", "--to", "2026-07-03T23:59:59.999Z", "--page", "3"},
			query: url.Values{"status": {"Failed"}, "from": {"2026-07-03T00:00:00Z"}, "to": {"2026-07-03T23:59:59.999Z"},
				"Pg": {"3"}, "Qt": {"2"}, "TpOrd": {"Asc"}},
			answer: `{"total":5,"items":[` + itemFailed + `]}`,
			want: "" +
				"ID                                    STATUS  ATTEMPTS  RECEIVED                  LAST ATTEMPT              DELIVERED\n" +
				"019f2864-c300-85f5-b3f2-a9c4e7ba684a  Failed  9         2026-07-03T14:32:00.000Z  2026-07-03T15:02:11.250Z  -\n" +
				"1 of 5\n",
		},
		{
			name:   "capped total",
			args:   []string{"--destination", destID, "--size", "2"},
			query:  url.Values{"Qt": {"2"}},
			answer: `{"total":10000,"totalCapped":true,"items":[` + itemDelivered + `,` + itemFailed + `]}`,
			want: "" +
				"ID                                    STATUS     ATTEMPTS  RECEIVED                  LAST ATTEMPT              DELIVERED\n" +
				"019f2867-ab24-8647-a3f2-a9c4e7b3594f  Delivered  1         2026-07-03T14:32:00.000Z  2026-07-03T14:35:10.612Z  2026-07-03T14:35:10.612Z\n" +
				"019f2864-c300-85f5-b3f2-a9c4e7ba684a  Failed     9         2026-07-03T14:32:00.000Z  2026-07-03T15:02:11.250Z  -\n" +
				"2 of 10000+\n",
		},
		{
			name:   "page past the end",
			args:   []string{"--destination", destID, "--page", "9"},
			query:  url.Values{"Pg": {"9"}},
			answer: `{"total":3,"items":[]}`,
			want:   "ID  STATUS  ATTEMPTS  RECEIVED  LAST ATTEMPT  DELIVERED\n0 of 3\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, conn := apiWithToken(t, exchange{method: http.MethodGet, path: listPath, query: tt.query, status: 200, answer: tt.answer})
			got, stderr, err := runCLI(t, append(append([]string{"events", "list"}, tt.args...), conn...)...)
			if err != nil {
				t.Fatalf("err %v, stderr %q", err, stderr)
			}
			if got != tt.want {
				t.Errorf("output:\n%s\nwant:\n%s", got, tt.want)
			}
			if f.requests() != 1 {
				t.Errorf("%d requests, want 1", f.requests())
			}
		})
	}
}

// detailJSON is GET /api/v1/events/{id}: the summary and the detail keys.
func detailJSON(summary, contentType, headers, body, bodyEncoding, attempts string) string {
	s := strings.TrimSuffix(summary, "}") + `,"contentType":` + contentType + `,"headers":` + headers + `,"body":` + body
	if bodyEncoding != "" {
		s += `,"bodyEncoding":"` + bodyEncoding + `"`
	}
	return s + `,"attempts":` + attempts + `}`
}

func TestEventsShow(t *testing.T) {
	failedAttempts := `[` +
		`{"number":1,"startedAt":"2026-07-03T14:32:00.020Z","durationMs":812,"trigger":"Automatic","outcome":"Failed","statusCode":503,"error":"status",` +
		`"responseBody":"<html>\n<body>Service Unavailable: the upstream is down for maintenance, try again later</body></html>"},` +
		`{"number":2,"startedAt":"2026-07-03T14:32:05.120Z","durationMs":15000,"trigger":"Manual","outcome":"Failed","statusCode":null,"error":"timeout","responseBody":null}]`
	long := strings.Repeat("x", 5000)
	tests := []struct {
		name   string
		args   []string // around the event id
		answer string
		want   string
	}{
		{
			name: "text body, headers, failed attempts",
			args: []string{eventID1},
			answer: detailJSON(summaryJSON(eventID1, "Failed", 2, "2026-07-03T14:32:05.120Z", "", ""), `"application/json"`,
				`{"Stripe-Signature":["t=1751553120,v1=5257a869e7"],"X-Multi":["a","b, c"]}`, `"{\"type\":\"invoice.paid\"}"`, "", failedAttempts),
			want: "" +
				"ID:            019f2864-c300-85f5-b3f2-a9c4e7ba684a\n" +
				"Destination:   3f2a9c4e-7b1d-4e8a-9c2f-5d6e7f8a9b0c\n" +
				"Tenant:        b1c2d3e4-0000-4000-8000-000000000001\n" +
				"Status:        Failed\n" +
				"Attempts:      2\n" +
				"Received:      2026-07-03T14:32:00.000Z\n" +
				"Last attempt:  2026-07-03T14:32:05.120Z\n" +
				"Next attempt:  -\n" +
				"Delivered:     -\n" +
				"Content-Type:  application/json\n" +
				"\nHeaders:\n" +
				"  Stripe-Signature: t=1751553120,v1=5257a869e7\n" +
				"  X-Multi: a\n" +
				"  X-Multi: b, c\n" +
				"\nBody (23 bytes):\n" +
				"{\"type\":\"invoice.paid\"}\n" +
				"\nAttempts:\n" +
				"#  STARTED                   MS     TRIGGER    OUTCOME  STATUS  ERROR    RESPONSE\n" +
				"1  2026-07-03T14:32:00.020Z  812    Automatic  Failed   503     status   <html> <body>Service Unavailable: the upstream is down for …\n" +
				"2  2026-07-03T14:32:05.120Z  15000  Manual     Failed   -       timeout  -\n",
		},
		{
			name: "base64 body, delivered, flags before the id",
			args: []string{"--json=false", eventID1},
			answer: detailJSON(summaryJSON(eventID1, "Delivered", 1, "2026-07-03T14:32:00.300Z", "", "2026-07-03T14:32:00.300Z"),
				`"application/octet-stream"`, `{}`, `"AAEC/w=="`, "base64",
				`[{"number":1,"startedAt":"2026-07-03T14:32:00.020Z","durationMs":280,"trigger":"Automatic","outcome":"Delivered","statusCode":200,"error":null,"responseBody":null}]`),
			want: "" +
				"ID:            019f2864-c300-85f5-b3f2-a9c4e7ba684a\n" +
				"Destination:   3f2a9c4e-7b1d-4e8a-9c2f-5d6e7f8a9b0c\n" +
				"Tenant:        b1c2d3e4-0000-4000-8000-000000000001\n" +
				"Status:        Delivered\n" +
				"Attempts:      1\n" +
				"Received:      2026-07-03T14:32:00.000Z\n" +
				"Last attempt:  2026-07-03T14:32:00.300Z\n" +
				"Next attempt:  -\n" +
				"Delivered:     2026-07-03T14:32:00.300Z\n" +
				"Content-Type:  application/octet-stream\n" +
				"\nHeaders:\n  (none)\n" +
				"\nBody (base64 of 4 bytes, not valid UTF-8):\n" +
				"AAEC/w==\n" +
				"\nAttempts:\n" +
				"#  STARTED                   MS   TRIGGER    OUTCOME    STATUS  ERROR  RESPONSE\n" +
				"1  2026-07-03T14:32:00.020Z  280  Automatic  Delivered  200     -      -\n",
		},
		{
			name: "null fields, empty body, no attempts",
			args: []string{eventID1},
			answer: detailJSON(summaryJSON(eventID1, "Pending", 0, "", "2026-07-03T14:32:00.000Z", ""),
				`null`, `{}`, `""`, "", `[]`),
			want: "" +
				"ID:            019f2864-c300-85f5-b3f2-a9c4e7ba684a\n" +
				"Destination:   3f2a9c4e-7b1d-4e8a-9c2f-5d6e7f8a9b0c\n" +
				"Tenant:        b1c2d3e4-0000-4000-8000-000000000001\n" +
				"Status:        Pending\n" +
				"Attempts:      0\n" +
				"Received:      2026-07-03T14:32:00.000Z\n" +
				"Last attempt:  -\n" +
				"Next attempt:  2026-07-03T14:32:00.000Z\n" +
				"Delivered:     -\n" +
				"Content-Type:  -\n" +
				"\nHeaders:\n  (none)\n" +
				"\nBody (0 bytes):\n  (empty)\n" +
				"\nAttempts:\n  (none)\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, conn := apiWithToken(t, exchange{method: http.MethodGet, path: eventPath1, status: 200, answer: tt.answer})
			got, stderr, err := runCLI(t, append(append([]string{"events", "show"}, tt.args...), conn...)...)
			if err != nil {
				t.Fatalf("err %v, stderr %q", err, stderr)
			}
			if got != tt.want {
				t.Errorf("output:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}

	// Bodies: what is cut in table mode, and what never reaches the terminal raw.
	bodies := []struct {
		name    string
		body    string // JSON string
		want    []string
		wantNot []string
	}{
		{
			name: "long body truncated, and says so",
			body: `"` + long + `"`,
			want: []string{"Body (5000 bytes):\n" + strings.Repeat("x", bodyLimit) + "\n… body truncated: showed the first 4096 of 5000 bytes (--json prints all of it)\n"},
		},
		{
			name:    "control characters escaped, CRLF kept as line breaks",
			body:    `"\u001b[2J\u001b]0;pwned\u0007line1\r\nline2\ttab"`,
			want:    []string{"\\x1b[2J\\x1b]0;pwned\\x07line1\nline2\ttab\n"},
			wantNot: []string{"\x1b", "\x07", "\r"},
		},
	}
	for _, tt := range bodies {
		t.Run(tt.name, func(t *testing.T) {
			answer := detailJSON(summaryJSON(eventID1, "Delivered", 1, "", "", ""), `"text/plain"`,
				`{"X-Evil":["\u001b[31mred"]}`, tt.body, "", `[]`)
			_, conn := apiWithToken(t, exchange{method: http.MethodGet, path: eventPath1, status: 200, answer: answer})
			got, _, err := runCLI(t, append([]string{"events", "show", eventID1}, conn...)...)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("output lacks %q:\n%s", w, got)
				}
			}
			for _, w := range append(tt.wantNot, "\x1b[31m") {
				if strings.Contains(got, w) {
					t.Errorf("output contains %q raw:\n%q", w, got)
				}
			}
		})
	}
}

func TestEventsReplayOne(t *testing.T) {
	answer := summaryJSON(eventID1, "Pending", 2, "2026-07-03T14:32:05.120Z", "2026-07-03T16:00:00.000Z", "")
	for _, args := range [][]string{{eventID1}, {"--json=false", eventID1}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			f, conn := apiWithToken(t, exchange{method: http.MethodPost, path: replayPath, status: 202, answer: answer})
			got, stderr, err := runCLI(t, append(append([]string{"events", "replay"}, conn...), args...)...)
			if err != nil {
				t.Fatalf("err %v, stderr %q", err, stderr)
			}
			want := "" +
				"ID:            019f2864-c300-85f5-b3f2-a9c4e7ba684a\n" +
				"Destination:   3f2a9c4e-7b1d-4e8a-9c2f-5d6e7f8a9b0c\n" +
				"Tenant:        b1c2d3e4-0000-4000-8000-000000000001\n" +
				"Status:        Pending\n" +
				"Attempts:      2\n" +
				"Received:      2026-07-03T14:32:00.000Z\n" +
				"Last attempt:  2026-07-03T14:32:05.120Z\n" +
				"Next attempt:  2026-07-03T16:00:00.000Z\n" +
				"Delivered:     -\n"
			if got != want {
				t.Errorf("output:\n%s\nwant:\n%s", got, want)
			}
			if f.requests() != 1 {
				t.Errorf("%d requests, want 1", f.requests())
			}
		})
	}
}

func TestEventsReplayBulk(t *testing.T) {
	bulk := func(replayed, remaining int) string {
		return `{"replayed":` + strconv.Itoa(replayed) + `,"remaining":` + strconv.Itoa(remaining) + `}`
	}
	call := func(body string, replayed, remaining int) exchange {
		return exchange{method: http.MethodPost, path: bulkPath, body: body, status: 202, answer: bulk(replayed, remaining)}
	}
	tests := []struct {
		name       string
		args       []string
		calls      []exchange
		want       string
		wantStderr string
	}{
		{
			name:  "one call, status Failed by default",
			args:  []string{"--destination", destID},
			calls: []exchange{call(`{"status":"Failed"}`, 1000, 234)},
			want:  "replayed 1000, remaining 234\n",
		},
		{
			name:  "status and range",
			args:  []string{"--destination", destID, "--status", "delivered", "--from", "2026-07-01T00:00:00Z", "--to", "2026-07-02T00:00:00Z"},
			calls: []exchange{call(`{"status":"Delivered","from":"2026-07-01T00:00:00Z","to":"2026-07-02T00:00:00Z"}`, 12, 0)},
			want:  "replayed 12, remaining 0\n",
		},
		{
			name: "--all calls until remaining is 0",
			args: []string{"--all", "--destination", destID},
			calls: []exchange{
				call(`{"status":"Failed"}`, 1000, 2500),
				call(`{"status":"Failed"}`, 1000, 1500),
				call(`{"status":"Failed"}`, 1000, 500),
				call(`{"status":"Failed"}`, 500, 0),
			},
			want:       "replayed 3500, remaining 0\n",
			wantStderr: "replayed 1000 so far, 2500 remaining…\nreplayed 2000 so far, 1500 remaining…\nreplayed 3000 so far, 500 remaining…\n",
		},
		{
			name:  "--all with nothing to replay",
			args:  []string{"--destination", destID, "--all"},
			calls: []exchange{call(`{"status":"Failed"}`, 0, 0)},
			want:  "replayed 0, remaining 0\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, conn := apiWithToken(t, tt.calls...)
			got, stderr, err := runCLI(t, append(append([]string{"events", "replay"}, tt.args...), conn...)...)
			if err != nil {
				t.Fatalf("err %v, stderr %q", err, stderr)
			}
			if got != tt.want || stderr != tt.wantStderr {
				t.Errorf("stdout %q, stderr %q; want %q, %q", got, stderr, tt.want, tt.wantStderr)
			}
			if f.requests() != len(tt.calls) {
				t.Errorf("%d calls, want %d", f.requests(), len(tt.calls))
			}
		})
	}

	t.Run("--all stops after 1000 calls", func(t *testing.T) {
		f, conn := apiWithToken(t, call(`{"status":"Failed"}`, 1, 5))
		f.repeat = true
		got, _, err := runCLI(t, append([]string{"events", "replay", "--destination", destID, "--all"}, conn...)...)
		if err == nil || !strings.Contains(err.Error(), "stopped after 1000 calls with 5 events remaining") {
			t.Errorf("err %v, want a stop after 1000 calls", err)
		}
		if f.requests() != maxBulkCalls || got != "replayed 1000, remaining 5\n" {
			t.Errorf("%d calls, output %q; want %d calls and the total so far", f.requests(), got, maxBulkCalls)
		}
	})
	t.Run("--all stops when nothing moves", func(t *testing.T) {
		f, conn := apiWithToken(t, call(`{"status":"Failed"}`, 1000, 7), call(`{"status":"Failed"}`, 0, 7))
		_, _, err := runCLI(t, append([]string{"events", "replay", "--destination", destID, "--all"}, conn...)...)
		if err == nil || !strings.Contains(err.Error(), "replayed nothing while 7 events remain") || f.requests() != 2 {
			t.Errorf("err %v after %d calls; want a stop after 2", err, f.requests())
		}
	})
}

func TestEventsStats(t *testing.T) {
	answer := `{"from":"2026-07-03T12:00:00.000Z","to":"2026-07-03T14:10:00.000Z","buckets":[` +
		`{"start":"2026-07-03T12:00:00.000Z","counts":{"Pending":0,"Held":0,"Delivered":120,"Failed":3}},` +
		`{"start":"2026-07-03T13:00:00.000Z","counts":{"Pending":0,"Held":0,"Delivered":0,"Failed":0}},` +
		`{"start":"2026-07-03T14:00:00.000Z","counts":{"Pending":4,"Held":2,"Delivered":15,"Failed":0}}]}`
	_, conn := apiWithToken(t, exchange{method: http.MethodGet, path: statsPath,
		query:  url.Values{"from": {"2026-07-03T12:00:00Z"}, "to": {"2026-07-03T14:10:00Z"}},
		status: 200, answer: answer})
	got, stderr, err := runCLI(t, append([]string{"events", "stats", "--destination", destID, "--from", "2026-07-03T12:00:00Z", "--to", "2026-07-03T14:10:00Z"}, conn...)...)
	if err != nil {
		t.Fatalf("err %v, stderr %q", err, stderr)
	}
	want := "" +
		"from 2026-07-03T12:00:00.000Z to 2026-07-03T14:10:00.000Z\n" +
		"HOUR                      PENDING  HELD  DELIVERED  FAILED  TOTAL\n" +
		"2026-07-03T12:00:00.000Z  0        0     120        3       123\n" +
		"2026-07-03T13:00:00.000Z  0        0     0          0       0\n" +
		"2026-07-03T14:00:00.000Z  4        2     15         0       21\n" +
		"TOTAL                     4        2     135        3       144\n"
	if got != want {
		t.Errorf("output:\n%s\nwant:\n%s", got, want)
	}
}

// --json prints the API's answer unchanged (indented), for every command.
func TestEventsJSONPassthrough(t *testing.T) {
	detail := detailJSON(summaryJSON(eventID1, "Failed", 1, "2026-07-03T14:32:05.120Z", "", ""), `"application/octet-stream"`,
		`{"X-A":["1"]}`, `"AAEC/w=="`, "base64",
		`[{"number":1,"startedAt":"2026-07-03T14:32:00.020Z","durationMs":15000,"trigger":"Automatic","outcome":"Failed","statusCode":null,"error":"timeout","responseBody":null}]`)
	list := `{"total":10000,"items":[` + itemFailed + `],"totalCapped":true}`
	stats := `{"from":"2026-07-03T14:00:00.000Z","to":"2026-07-03T14:10:00.000Z","buckets":[{"start":"2026-07-03T14:00:00.000Z","counts":{"Pending":1,"Held":0,"Delivered":2,"Failed":0}}]}`
	tests := []struct {
		name string
		args []string
		x    []exchange
		want []string // one answer per line of output for --all, else one
	}{
		{"list", []string{"list", "--destination", destID, "--json"},
			[]exchange{{method: http.MethodGet, path: listPath, status: 200, answer: list}}, []string{list}},
		{"show, flag after the id", []string{"show", eventID1, "--json"},
			[]exchange{{method: http.MethodGet, path: eventPath1, status: 200, answer: detail}}, []string{detail}},
		{"replay", []string{"replay", "--json", eventID1},
			[]exchange{{method: http.MethodPost, path: replayPath, status: 202, answer: itemPending}}, []string{itemPending}},
		{"stats", []string{"stats", "--json", "--destination", destID},
			[]exchange{{method: http.MethodGet, path: statsPath, status: 200, answer: stats}}, []string{stats}},
		{"bulk replay", []string{"replay", "--destination", destID, "--json"},
			[]exchange{{method: http.MethodPost, path: bulkPath, body: `{"status":"Failed"}`, status: 202, answer: `{"replayed":3,"remaining":0}`}},
			[]string{`{"replayed":3,"remaining":0}`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, conn := apiWithToken(t, tt.x...)
			got, stderr, err := runCLI(t, append(append([]string{"events"}, tt.args...), conn...)...)
			if err != nil {
				t.Fatalf("err %v, stderr %q", err, stderr)
			}
			if c := compactJSON(t, got); c != compactJSON(t, tt.want[0]) {
				t.Errorf("output %s, want the answer unchanged: %s", c, tt.want[0])
			}
		})
	}

	t.Run("bulk replay --all: one line per call", func(t *testing.T) {
		a1, a2 := `{"replayed":1000,"remaining":1}`, `{"replayed":1,"remaining":0}`
		_, conn := apiWithToken(t,
			exchange{method: http.MethodPost, path: bulkPath, body: `{"status":"Failed"}`, status: 202, answer: a1},
			exchange{method: http.MethodPost, path: bulkPath, body: `{"status":"Failed"}`, status: 202, answer: a2})
		got, _, err := runCLI(t, append([]string{"events", "replay", "--destination", destID, "--all", "--json"}, conn...)...)
		if err != nil {
			t.Fatal(err)
		}
		if want := a1 + "\n" + a2 + "\n"; got != want {
			t.Errorf("output %q, want %q", got, want)
		}
	})
}

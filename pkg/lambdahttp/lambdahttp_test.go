package lambdahttp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/hooksentry/hooksentry/pkg/lambdahttp"
)

// echo reports what the handler saw.
var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"method": r.Method, "path": r.URL.Path, "query": r.URL.RawQuery,
		"header": r.Header, "body": body,
	})
})

type seen struct {
	Method string              `json:"method"`
	Path   string              `json:"path"`
	Query  string              `json:"query"`
	Header map[string][]string `json:"header"`
	Body   []byte              `json:"body"`
}

func call(t *testing.T, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, seen) {
	t.Helper()
	resp, err := lambdahttp.Adapt(echo, nil)(context.Background(), ev)
	if err != nil {
		t.Fatalf("handler error: %v", err)
	}
	var s seen
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal([]byte(resp.Body), &s); err != nil {
			t.Fatalf("body %q: %v", resp.Body, err)
		}
	}
	return resp, s
}

func baseEvent() events.APIGatewayV2HTTPRequest {
	return events.APIGatewayV2HTTPRequest{
		Version: "2.0", RawPath: "/ingest/x", RawQueryString: "a=1&b=2",
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			DomainName: "api.example",
			HTTP:       events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST", Path: "/ingest/x"},
		},
	}
}

func TestHeadersArriveUnsplit(t *testing.T) {
	ev := baseEvent()
	ev.Headers = map[string]string{
		"stripe-signature": "t=1,v1=abc,v0=def",
		"accept":           "text/html, application/json",
		"x-multi":          "a,b",
		"content-type":     "application/json",
	}
	ev.Cookies = []string{"a=1", "b=2"}
	ev.Body = `{"x":1}`
	_, s := call(t, ev)
	for name, want := range map[string]string{
		"Stripe-Signature": "t=1,v1=abc,v0=def",
		"Accept":           "text/html, application/json",
		"X-Multi":          "a,b",
		"Cookie":           "a=1; b=2",
	} {
		if got := s.Header[name]; len(got) != 1 || got[0] != want {
			t.Errorf("header %s: got %q, want exactly [%q]", name, got, want)
		}
	}
	if s.Method != "POST" || s.Path != "/ingest/x" || s.Query != "a=1&b=2" || string(s.Body) != `{"x":1}` {
		t.Errorf("request: got %+v", s)
	}
}

func TestBase64Body(t *testing.T) {
	ev := baseEvent()
	ev.Body, ev.IsBase64Encoded = "AAEC/w==", true
	_, s := call(t, ev)
	if string(s.Body) != "\x00\x01\x02\xff" {
		t.Errorf("body: got %q, want the decoded bytes", s.Body)
	}
}

func TestMalformedEventsAreBadRequests(t *testing.T) {
	for name, change := range map[string]func(*events.APIGatewayV2HTTPRequest){
		"invalid base64":   func(ev *events.APIGatewayV2HTTPRequest) { ev.Body, ev.IsBase64Encoded = "not base64!", true },
		"invalid method":   func(ev *events.APIGatewayV2HTTPRequest) { ev.RequestContext.HTTP.Method = "GET POST" },
		"unparsable path":  func(ev *events.APIGatewayV2HTTPRequest) { ev.RawPath = "/%zz" },
		"unparsable host":  func(ev *events.APIGatewayV2HTTPRequest) { ev.RequestContext.DomainName = "a b" },
		"control in query": func(ev *events.APIGatewayV2HTTPRequest) { ev.RawQueryString = "a=\x7f" },
	} {
		t.Run(name, func(t *testing.T) {
			ev := baseEvent()
			change(&ev)
			resp, _ := call(t, ev)
			if resp.StatusCode != http.StatusBadRequest || resp.Headers["Content-Type"] != "application/problem+json" {
				t.Errorf("got %d %q, want a problem+json 400", resp.StatusCode, resp.Headers["Content-Type"])
			}
			var p map[string]any
			if err := json.Unmarshal([]byte(resp.Body), &p); err != nil || p["status"] != float64(400) || p["title"] != "Bad Request" {
				t.Errorf("body: got %s, want a problem with status 400", resp.Body)
			}
		})
	}
}

// captureOutput runs f with os.Stdout and the standard logger's output
// captured, and returns what each received.
func captureOutput(t *testing.T, f func()) (stdout, stdlog string) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan string)
	go func() {
		b, _ := io.ReadAll(r)
		done <- string(b)
	}()
	var logBuf bytes.Buffer
	oldStdout, oldWriter, oldFlags := os.Stdout, log.Writer(), log.Flags()
	os.Stdout = w
	log.SetOutput(&logBuf)
	defer func() {
		os.Stdout = oldStdout
		log.SetOutput(oldWriter)
		log.SetFlags(oldFlags)
	}()
	f()
	_ = w.Close()
	return <-done, logBuf.String()
}

// TestMalformedEventsDoNotLogTheToken: an ingest request whose event
// cannot become an http.Request is answered 400, and nothing written on
// the way (HookSentry's log, the standard logger, stdout, where the proxy
// library prints) carries its ingest token.
func TestMalformedEventsDoNotLogTheToken(t *testing.T) {
	const secret = "0123456789abcdef0123456789abcdef"
	token := "dst_" + secret
	for name, change := range map[string]func(*events.APIGatewayV2HTTPRequest){
		"unparsable path":  func(ev *events.APIGatewayV2HTTPRequest) { ev.RawPath += "/%zz" },
		"unparsable host":  func(ev *events.APIGatewayV2HTTPRequest) { ev.RequestContext.DomainName = "a b" },
		"invalid method":   func(ev *events.APIGatewayV2HTTPRequest) { ev.RequestContext.HTTP.Method = "GET POST" },
		"invalid base64":   func(ev *events.APIGatewayV2HTTPRequest) { ev.Body, ev.IsBase64Encoded = "not base64!", true },
		"control in query": func(ev *events.APIGatewayV2HTTPRequest) { ev.RawQueryString = "a=\x7f" },
		"path only in the request context": func(ev *events.APIGatewayV2HTTPRequest) {
			ev.RawPath = ""
			ev.RequestContext.HTTP.Path += "/%zz"
		},
	} {
		t.Run(name, func(t *testing.T) {
			ev := baseEvent()
			ev.RawPath = "/ingest/" + token
			ev.RequestContext.HTTP.Path = "/ingest/" + token
			change(&ev)
			var slogBuf bytes.Buffer
			logger := slog.New(slog.NewJSONHandler(&slogBuf, nil))
			var resp events.APIGatewayV2HTTPResponse
			stdout, stdlog := captureOutput(t, func() {
				var err error
				resp, err = lambdahttp.Adapt(echo, logger)(context.Background(), ev)
				if err != nil {
					t.Errorf("handler error: %v", err)
				}
			})
			if got, want := resp.StatusCode, http.StatusBadRequest; got != want {
				t.Errorf("status: got %d, want %d", got, want)
			}
			if !strings.Contains(slogBuf.String(), "malformed API Gateway event") {
				t.Errorf("log: got %q, want the malformed event warning", slogBuf.String())
			}
			for where, out := range map[string]string{"slog": slogBuf.String(), "standard logger": stdlog, "stdout": stdout} {
				if strings.Contains(out, secret) {
					t.Errorf("%s carries the ingest token: %q", where, out)
				}
			}
		})
	}
}

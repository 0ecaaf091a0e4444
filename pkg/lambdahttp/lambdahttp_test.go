package lambdahttp_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
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

package e2e_test

import (
	"bytes"
	"context"
	"io"
	"log"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	localstack "github.com/hooksentry/hooksentry/pkg/local/stack"
)

// TestMalformedIngestEventsLogNoToken: the stack's own ingest function
// (its logger is the one the functions get in Lambda) answers 400 to
// events that cannot become a request, and neither the stack's logs, nor
// the standard logger, nor stdout carries the live ingest token.
func TestMalformedIngestEventsLogNoToken(t *testing.T) {
	f := newFunctions(t)
	tenant := newTenant(t)
	token := str(f.create(t, tenant, `{"url":"https://example.com/hook"}`)["ingestToken"])
	ingest := localstack.Functions{Env: stack.Env}.Ingest()

	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan string)
	go func() {
		b, _ := io.ReadAll(r)
		done <- string(b)
	}()
	var stdlog bytes.Buffer
	oldStdout, oldLog := os.Stdout, log.Writer()
	os.Stdout = w
	log.SetOutput(&stdlog)
	for name, change := range map[string]func(*events.APIGatewayV2HTTPRequest){
		"unparsable path": func(ev *events.APIGatewayV2HTTPRequest) { ev.RawPath += "/%zz" },
		"invalid method":  func(ev *events.APIGatewayV2HTTPRequest) { ev.RequestContext.HTTP.Method = "POST /" },
		"unparsable host": func(ev *events.APIGatewayV2HTTPRequest) { ev.RequestContext.DomainName = "a b" },
	} {
		path := "/ingest/" + token
		ev := events.APIGatewayV2HTTPRequest{
			Version: "2.0", RouteKey: "POST /ingest/{token}", RawPath: path, Body: `{"a":1}`,
			Headers:        map[string]string{"content-type": "application/json"},
			PathParameters: map[string]string{"token": token},
			RequestContext: events.APIGatewayV2HTTPRequestContext{
				DomainName: "api.hooksentry.test",
				HTTP:       events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST", Path: path},
			},
		}
		change(&ev)
		resp, err := ingest(context.Background(), ev)
		if err != nil || resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: got %d, %v; want 400", name, resp.StatusCode, err)
		}
	}
	os.Stdout = oldStdout
	log.SetOutput(oldLog)
	_ = w.Close()
	stdout := <-done

	secret := strings.TrimPrefix(token, "dst_")
	for where, out := range map[string]string{"stack logs": stackLogs.String(), "standard logger": stdlog.String(), "stdout": stdout} {
		if strings.Contains(out, secret) {
			t.Errorf("%s: contain the ingest token:\n%s", where, out)
		}
	}
	if got, want := strings.Count(stackLogs.String(), "malformed API Gateway event"), 3; got < want {
		t.Errorf("stack logs: %d malformed event warnings, want at least %d (the scan saw the wrong logs?)", got, want)
	}
}

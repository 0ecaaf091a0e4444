package gateway_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/hooksentry/hooksentry/pkg/destination"
	"github.com/hooksentry/hooksentry/pkg/event"
	"github.com/hooksentry/hooksentry/pkg/httpapi"
	"github.com/hooksentry/hooksentry/pkg/ingest"
	"github.com/hooksentry/hooksentry/pkg/lambdahttp"
	"github.com/hooksentry/hooksentry/pkg/local/gateway"
)

type tokens struct{}

func (tokens) LookupIngestToken(context.Context, string) (destination.TokenOwner, bool, error) {
	return destination.TokenOwner{DestinationID: "0f0e2c1a-7a53-4a43-9d0e-6b8a2f0f9f11", TenantID: "3a1c0d2e-1111-2222-3333-444455556666"}, true, nil
}

// sink is an event.Sender that keeps nothing.
type sink struct{ n int }

func (s *sink) Send(_ context.Context, m event.Message) error {
	body, err := m.Encode()
	s.n += len(body)
	return err
}

func (s *sink) SendEncoded(_ context.Context, _ event.Message, body string) error {
	s.n += len(body)
	return nil
}

func (s *sink) SendBatch(context.Context, []event.Message, []string) []error { return nil }

// BenchmarkIngestRoute is the CPU the local gateway, the Lambda adapter and
// the ingest handler spend on one 1 KiB webhook, with the AWS calls
// replaced by fakes (bench.BenchmarkIngestCPU measures the whole path). The
// route table is the local stack's: every management route, then ingest.
func BenchmarkIngestRoute(b *testing.B) {
	mux := http.NewServeMux()
	mux.Handle("POST "+ingest.Path, &ingest.Handler{Tokens: tokens{}, Queue: &event.Publisher{Queue: &sink{}}})
	mux.HandleFunc("/", httpapi.NotFound)
	unused := func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		return events.APIGatewayV2HTTPResponse{StatusCode: http.StatusNotImplemented}, nil
	}
	var routes []gateway.Route
	for _, r := range httpapi.Routes {
		routes = append(routes, gateway.Route{Method: r.Method, Path: r.Path, Function: r.Function, JWT: true, Handler: unused})
	}
	routes = append(routes, gateway.Route{Method: http.MethodPost, Path: ingest.Path, Function: "ingest", Handler: lambdahttp.Adapt(mux, nil)})
	gw := &gateway.Gateway{Routes: routes}

	body := []byte(`{"id":"evt_1","type":"order.paid","data":{"object":{"description":"` + strings.Repeat("x", 960) + `"}}}`)
	target := "/ingest/" + destination.TokenPrefix + strings.Repeat("0123456789abcdef", 2)
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest(http.MethodPost, target, bytes.NewReader(body))
		r.RemoteAddr = "127.0.0.1:54321"
		r.Header = http.Header{
			"Content-Type":     {"application/json"},
			"User-Agent":       {"Acme-Webhooks/2.3"},
			"X-Acme-Signature": {"t=1767225600,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd"},
			"Accept-Encoding":  {"gzip"},
		}
		w := httptest.NewRecorder()
		gw.ServeHTTP(w, r)
		if w.Code != http.StatusAccepted {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}

// Package lambdahttp owns the bridge between API Gateway HTTP API (payload
// v2) events and plain http.Handlers. It wraps aws-lambda-go-api-proxy's
// httpadapter.NewV2 and corrects two of its behaviours that a webhook
// gateway cannot accept: it splits comma-containing header values (breaking
// signature headers such as Stripe-Signature), and it answers malformed
// events with a 5xx. The local gateway calls the same Handler that Lambda
// runs, so both paths behave alike.
package lambdahttp

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/textproto"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"
)

// Handler is what lambda.Start receives for an HTTP function.
type Handler func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

type eventKey struct{}

// Adapt turns h into a Lambda handler for API Gateway v2 events.
func Adapt(h http.Handler, log *slog.Logger) Handler {
	adapter := httpadapter.NewV2(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ev, ok := r.Context().Value(eventKey{}).(*events.APIGatewayV2HTTPRequest); ok {
			r.Header = OriginalHeaders(ev)
		}
		h.ServeHTTP(w, r)
	}))
	return func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		ctx = context.WithValue(ctx, eventKey{}, &ev)
		// The handler gets OriginalHeaders(&ev), so the adapter is given no
		// headers or cookies: it would only split them into a header map
		// that is thrown away.
		bare := ev
		bare.Headers, bare.Cookies = nil, nil
		resp, err := adapter.ProxyWithContext(ctx, bare)
		if err != nil {
			// The adapter fails only on events it cannot turn into a request
			// (bad base64 body, unparsable path): the client's fault.
			if log != nil {
				log.WarnContext(ctx, "malformed API Gateway event", "error", err)
			}
			return badRequest(), nil
		}
		return resp, nil
	}
}

// OriginalHeaders rebuilds request headers exactly as API Gateway delivered
// them: one value per name, commas untouched (API Gateway already joined
// repeated headers with commas), cookies from the separate cookies field.
func OriginalHeaders(ev *events.APIGatewayV2HTTPRequest) http.Header {
	h := make(http.Header, len(ev.Headers)+1)
	for k, v := range ev.Headers {
		h[textproto.CanonicalMIMEHeaderKey(k)] = []string{v}
	}
	if len(ev.Cookies) > 0 {
		h["Cookie"] = []string{strings.Join(ev.Cookies, "; ")}
	}
	return h
}

func badRequest() events.APIGatewayV2HTTPResponse {
	body, _ := json.Marshal(map[string]any{
		"type": "about:blank", "title": "Bad Request", "status": http.StatusBadRequest,
		"detail": "The request could not be decoded.",
	})
	return events.APIGatewayV2HTTPResponse{
		StatusCode: http.StatusBadRequest,
		Headers:    map[string]string{"Content-Type": "application/problem+json"},
		Body:       string(body),
	}
}

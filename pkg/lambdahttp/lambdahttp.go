// Package lambdahttp owns the bridge between API Gateway HTTP API (payload
// v2) events and plain http.Handlers. It builds the http.Request itself, as
// aws-lambda-go-api-proxy's httpadapter.NewV2 would, and uses only that
// library's response writer, because its request conversion does three
// things a webhook gateway cannot accept: it splits comma-containing header
// values (breaking signature headers such as Stripe-Signature), it answers
// malformed events with a 5xx, and it prints a malformed event's path and
// URL to stdout and the standard logger, where an ingest path carries its
// token. The local gateway calls the same Handler that Lambda runs, so both
// paths behave alike.
package lambdahttp

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/core"

	"github.com/hooksentry/hooksentry/pkg/redact"
)

// Handler is what lambda.Start receives for an HTTP function.
type Handler func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

type eventKey struct{}

// Adapt turns h into a Lambda handler for API Gateway v2 events.
func Adapt(h http.Handler, log *slog.Logger) Handler {
	return func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		r, err := NewRequest(ctx, &ev)
		if err != nil {
			// Only the client's event is at fault (bad base64 body,
			// unparsable path, host or method). The error quotes the URL,
			// which for ingest carries the token: redacted.
			if log != nil {
				log.WarnContext(ctx, "malformed API Gateway event", "error", redact.String(err.Error()))
			}
			return badRequest(), nil
		}
		w := core.NewProxyResponseWriterV2()
		h.ServeHTTP(w, r)
		resp, err := w.GetProxyResponse()
		if err != nil {
			// A handler that wrote nothing, as the library reports it.
			return core.GatewayTimeoutV2(), fmt.Errorf("lambdahttp: %w", err)
		}
		return resp, nil
	}
}

// NewRequest builds the request API Gateway's event describes, the way the
// proxy library does (https://<domain><raw path>?<raw query>, method in
// upper case, source IP as RemoteAddr), with OriginalHeaders and the body
// read without a copy. The event is in the request's context (Event).
func NewRequest(ctx context.Context, ev *events.APIGatewayV2HTTPRequest) (*http.Request, error) {
	var body io.Reader = strings.NewReader(ev.Body)
	if ev.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(ev.Body)
		if err != nil {
			return nil, fmt.Errorf("decode base64 body: %w", err)
		}
		body = bytes.NewReader(b)
	}
	path := ev.RawPath
	if path == "" {
		path = ev.RequestContext.HTTP.Path
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	target := "https://" + ev.RequestContext.DomainName + path
	if ev.RawQueryString != "" {
		target += "?" + ev.RawQueryString
	} else if len(ev.QueryStringParameters) > 0 {
		values := url.Values{}
		for k, v := range ev.QueryStringParameters {
			values.Add(k, v)
		}
		target += "?" + values.Encode()
	}
	ctx = context.WithValue(ctx, eventKey{}, ev)
	r, err := http.NewRequestWithContext(ctx, strings.ToUpper(ev.RequestContext.HTTP.Method), target, body)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", withoutURL(err))
	}
	r.RemoteAddr = ev.RequestContext.HTTP.SourceIP
	r.Header = OriginalHeaders(ev)
	r.RequestURI = r.URL.RequestURI()
	return r, nil
}

// withoutURL drops the URL that url.Parse quotes in its errors: logs need
// what was wrong with it, not the URL (a path may carry a token).
func withoutURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s URL: %w", ue.Op, ue.Err)
	}
	return err
}

// Event returns the API Gateway event of a request built by NewRequest.
func Event(ctx context.Context) (*events.APIGatewayV2HTTPRequest, bool) {
	ev, ok := ctx.Value(eventKey{}).(*events.APIGatewayV2HTTPRequest)
	return ev, ok
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

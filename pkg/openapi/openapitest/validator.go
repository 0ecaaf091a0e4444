// Package openapitest checks HTTP exchanges against docs/openapi.yaml with
// kin-openapi. Only tests import it, so no binary links kin-openapi.
package openapitest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/hooksentry/hooksentry/docs"
)

// Validator checks requests and responses against the document.
type Validator struct {
	Doc    *openapi3.T
	router routers.Router
	// names maps each lower-cased property name of the document's schemas
	// to its spelling there.
	names map[string]string
}

// NewValidator loads and validates docs/openapi.yaml.
func NewValidator() (*Validator, error) {
	return NewValidatorFrom(docs.OpenAPI)
}

// NewValidatorFrom is NewValidator for another document (tests of the
// validator itself).
func NewValidatorFrom(document []byte) (*Validator, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(document)
	if err != nil {
		return nil, fmt.Errorf("load OpenAPI document: %w", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("invalid OpenAPI document: %w", err)
	}
	// The servers name the default local address; tests run gateways on
	// free ports, so match paths on any host.
	doc.Servers = nil
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("route OpenAPI document: %w", err)
	}
	v := &Validator{Doc: doc, router: router, names: map[string]string{}}
	seen := map[*openapi3.Schema]bool{}
	for _, ref := range doc.Components.Schemas {
		v.collectNames(ref, seen)
	}
	return v, nil
}

func (v *Validator) collectNames(ref *openapi3.SchemaRef, seen map[*openapi3.Schema]bool) {
	if ref == nil || ref.Value == nil || seen[ref.Value] {
		return
	}
	s := ref.Value
	seen[s] = true
	for name, p := range s.Properties {
		v.names[strings.ToLower(name)] = name
		v.collectNames(p, seen)
	}
	v.collectNames(s.Items, seen)
	for _, list := range []openapi3.SchemaRefs{s.AnyOf, s.OneOf, s.AllOf} {
		for _, r := range list {
			v.collectNames(r, seen)
		}
	}
}

// canonicalNames rewrites the member names of a JSON body to the
// document's spelling, as the API matches them case-insensitively
// (CONTRACT §1). A body that is not JSON is returned as it is.
func (v *Validator) canonicalNames(body []byte) []byte {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var value any
	if err := dec.Decode(&value); err != nil {
		return body
	}
	out, err := json.Marshal(v.rename(value))
	if err != nil {
		return body
	}
	return out
}

func (v *Validator) rename(value any) any {
	switch t := value.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			if c, ok := v.names[strings.ToLower(k)]; ok {
				k = c
			}
			out[k] = v.rename(e)
		}
		return out
	case []any:
		for i, e := range t {
			t[i] = v.rename(e)
		}
		return t
	default:
		return value
	}
}

var options = &openapi3filter.Options{
	// Tests check authentication themselves; the document only says which
	// routes need a bearer JWT.
	AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
	// A status the document does not list is drift too.
	IncludeResponseStatus: true,
	MultiError:            true,
}

// Check validates one exchange. The response is always validated. The
// request is validated only when the API accepted it (2xx): tests send
// invalid requests on purpose, and the API matches property names
// case-insensitively, which a schema cannot express; a request the API
// accepted must match the document. A request that matches no operation
// must have been answered 404 (API Gateway's, or a function's, Not Found).
//
// The management functions ignore Content-Type, so a body sent without one
// is validated as application/json; and they match member names
// case-insensitively, so the names of an accepted body are spelt as in the
// document before it is validated (values are not: the document states
// which are case-insensitive).
func (v *Validator) Check(req *http.Request, reqBody []byte, status int, respHeader http.Header, respBody []byte) error {
	ctx := context.Background()
	r := req.Clone(ctx)
	r.Body = io.NopCloser(bytes.NewReader(reqBody))
	r.ContentLength = int64(len(reqBody))
	if len(reqBody) > 0 && r.Header.Get("Content-Type") == "" && strings.HasPrefix(r.URL.Path, "/api/") {
		r.Header.Set("Content-Type", "application/json")
	}
	route, params, err := v.router.FindRoute(r)
	if err != nil {
		if errors.Is(err, routers.ErrPathNotFound) || errors.Is(err, routers.ErrMethodNotAllowed) {
			if status == http.StatusNotFound {
				return nil
			}
			return fmt.Errorf("%s %s: no operation of the API document matches, yet the answer is %d", req.Method, req.URL.Path, status)
		}
		return fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, err)
	}
	in := &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route, Options: options}
	if status >= 200 && status < 300 {
		if strings.HasPrefix(r.URL.Path, "/api/") && len(reqBody) > 0 {
			canonical := v.canonicalNames(reqBody)
			r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(canonical)), int64(len(canonical))
		}
		if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
			return fmt.Errorf("%s %s accepted with %d, but the request does not match the API document: %w", req.Method, req.URL.Path, status, err)
		}
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: status, Header: respHeader,
		Body: io.NopCloser(bytes.NewReader(respBody)), Options: options,
	}
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		return fmt.Errorf("%s %s: the %d response does not match the API document: %w\nbody: %s", req.Method, req.URL.Path, status, err, truncate(respBody))
	}
	return nil
}

func truncate(b []byte) string {
	if len(b) > 2048 {
		return string(b[:2048]) + "…"
	}
	return string(b)
}

// CheckLambda validates one invocation of an HTTP function: the event API
// Gateway sent (payload format 2.0) and the function's response, as the
// HTTP exchange they stand for.
func (v *Validator) CheckLambda(ev events.APIGatewayV2HTTPRequest, resp events.APIGatewayV2HTTPResponse) error {
	reqBody := []byte(ev.Body)
	if ev.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(ev.Body)
		if err != nil {
			// A malformed event (tests send some): the function must
			// refuse it; its answer is still checked below.
			if resp.StatusCode >= 200 && resp.StatusCode < 300 {
				return fmt.Errorf("event body is not base64, yet the function answered %d", resp.StatusCode)
			}
			b = nil
		}
		reqBody = b
	}
	method, path := ev.RequestContext.HTTP.Method, ev.RawPath
	if method == "" { // a hand-built event may name the route only
		method, path, _ = strings.Cut(ev.RouteKey, " ")
	}
	target := "http://lambda.invalid" + path
	if ev.RawQueryString != "" {
		target += "?" + ev.RawQueryString
	}
	req, err := http.NewRequest(method, target, nil)
	if err != nil {
		return fmt.Errorf("event as a request: %w", err)
	}
	for k, val := range ev.Headers {
		req.Header.Set(k, val)
	}
	respBody := []byte(resp.Body)
	if resp.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(resp.Body)
		if err != nil {
			return fmt.Errorf("response body is not base64: %w", err)
		}
		respBody = b
	}
	h := http.Header{}
	for k, val := range resp.Headers {
		h.Set(k, val)
	}
	for k, vals := range resp.MultiValueHeaders {
		for _, val := range vals {
			h.Add(k, val)
		}
	}
	status := resp.StatusCode
	if status == 0 {
		status = http.StatusOK // as API Gateway reads it
	}
	return v.Check(req, reqBody, status, h, respBody)
}

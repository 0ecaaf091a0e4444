// Package gateway owns the local stand-in for API Gateway (HTTP API, payload
// format 2.0): it matches routes, validates bearer JWTs the way the JWT
// authorizer does, builds the same events.APIGatewayV2HTTPRequest that AWS
// would, and invokes the very Lambda handlers that functions/*/main.go start.
package gateway

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/uuid"

	"github.com/hooksentry/hooksentry/pkg/lambdahttp"
	"github.com/hooksentry/hooksentry/pkg/local/devauth"
)

// MaxPayload is API Gateway's request payload limit for HTTP APIs.
const MaxPayload = 10 << 20

// Route binds an API Gateway route key to a function's handler.
type Route struct {
	Method   string
	Path     string // e.g. /api/v1/destinations/{id}
	Function string
	JWT      bool // protected by the JWT authorizer
	Handler  lambdahttp.Handler
}

// Authorizer validates the Authorization header and returns the claims.
type Authorizer interface {
	Validate(authorizationHeader string) (map[string]string, error)
}

// Gateway is an http.Handler that behaves like the deployed HTTP API.
type Gateway struct {
	Routes     []Route
	Authorizer Authorizer
	Log        *slog.Logger
	Now        func() time.Time
	// Health reports readiness for GET /healthz; nil means ready.
	Health func(ctx context.Context) error
}

func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/healthz" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		g.healthz(w, r)
		return
	}
	route, params := g.match(r.Method, r.URL.EscapedPath())
	if route == nil {
		writeMessage(w, http.StatusNotFound, "Not Found", nil)
		return
	}
	var claims map[string]string
	if route.JWT {
		c, err := g.Authorizer.Validate(r.Header.Get("Authorization"))
		if err != nil {
			writeMessage(w, http.StatusUnauthorized, "Unauthorized", map[string]string{"www-authenticate": devauth.WWWAuthenticate(err)})
			return
		}
		claims = c
	}
	body, err := lambdahttp.ReadBody(http.MaxBytesReader(w, r.Body, MaxPayload), r.ContentLength, MaxPayload)
	if err != nil {
		writeMessage(w, http.StatusRequestEntityTooLarge, "Request Entity Too Large", nil)
		return
	}
	ev := g.event(r, route, params, claims, body)
	resp, err := invoke(r.Context(), route.Handler, ev)
	if err != nil {
		if g.Log != nil {
			g.Log.Error("function failed", "function", route.Function, "error", err)
		}
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error", nil)
		return
	}
	writeResponse(w, resp)
}

// invoke runs the handler like the Lambda runtime would: a panic becomes an
// invocation error, which API Gateway reports as a 500.
func invoke(ctx context.Context, h lambdahttp.Handler, ev events.APIGatewayV2HTTPRequest) (resp events.APIGatewayV2HTTPResponse, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("handler panicked: %v", p)
		}
	}()
	return h(ctx, ev)
}

func (g *Gateway) healthz(w http.ResponseWriter, r *http.Request) {
	if g.Health != nil {
		if err := g.Health(r.Context()); err != nil {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			_ = json.NewEncoder(w).Encode(map[string]string{"status": "starting", "error": err.Error()})
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"status":"ok"}`+"\n")
}

// match finds the route for method and path; path parameters match one
// non-empty segment, and a greedy {name+} the rest after its slash, as in
// API Gateway. Routes are tried in order: list exact routes before greedy ones. It walks both paths segment by
// segment, so a request allocates nothing but the parameters of the route
// it matches.
func (g *Gateway) match(method, path string) (*Route, map[string]string) {
	for i := range g.Routes {
		rt := &g.Routes[i]
		if rt.Method != method || !matchPath(rt.Path, path, nil) {
			continue
		}
		params := map[string]string{}
		matchPath(rt.Path, path, params)
		return rt, params
	}
	return nil, nil
}

// matchPath reports whether path matches the route path pattern, and
// records the path parameters in params unless it is nil.
func matchPath(pattern, path string, params map[string]string) bool {
	pattern, path = strings.TrimPrefix(pattern, "/"), strings.TrimPrefix(path, "/")
	for {
		wseg, wrest, wmore := strings.Cut(pattern, "/")
		seg, rest, more := strings.Cut(path, "/")
		if !wmore && strings.HasPrefix(wseg, "{") && strings.HasSuffix(wseg, "+}") {
			// A greedy variable (the last segment, as API Gateway requires)
			// takes the rest of the path, slashes included; the rest may be
			// empty after a trailing slash (/console/ of /console/{proxy+}),
			// never missing (/console).
			if params != nil {
				params[wseg[1:len(wseg)-2]] = unescape(path)
			}
			return true
		}
		if strings.HasPrefix(wseg, "{") && strings.HasSuffix(wseg, "}") {
			if seg == "" {
				return false
			}
			if params != nil {
				params[wseg[1:len(wseg)-1]] = unescape(seg)
			}
		} else if wseg != seg {
			return false
		}
		if wmore != more {
			return false
		}
		if !more {
			return true
		}
		pattern, path = wrest, rest
	}
}

func unescape(s string) string {
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	return s
}

// event builds the payload-2.0 event API Gateway would send.
func (g *Gateway) event(r *http.Request, rt *Route, params, claims map[string]string, body []byte) events.APIGatewayV2HTTPRequest {
	now := time.Now()
	if g.Now != nil {
		now = g.Now()
	}
	headers := make(map[string]string, len(r.Header)+2)
	var cookies []string
	for k, vs := range r.Header {
		lk := strings.ToLower(k)
		if lk == "cookie" {
			for _, v := range vs {
				for _, c := range strings.Split(v, ";") {
					if c = strings.TrimSpace(c); c != "" {
						cookies = append(cookies, c)
					}
				}
			}
			continue
		}
		// API Gateway joins repeated headers with commas.
		headers[lk] = strings.Join(vs, ",")
	}
	if r.Host != "" {
		headers["host"] = r.Host
	}
	headers["content-length"] = strconv.Itoa(len(body))
	var query map[string]string
	if r.URL.RawQuery != "" {
		query = map[string]string{}
		for k, vs := range r.URL.Query() {
			query[k] = strings.Join(vs, ",")
		}
	}
	routeKey := rt.Method + " " + rt.Path
	domainPrefix, _, _ := strings.Cut(r.Host, ".")
	ev := events.APIGatewayV2HTTPRequest{
		Version:        "2.0",
		RouteKey:       routeKey,
		RawPath:        r.URL.EscapedPath(),
		RawQueryString: r.URL.RawQuery,
		Cookies:        cookies,
		Headers:        headers,
		PathParameters: params,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:     routeKey,
			AccountID:    "000000000000",
			Stage:        "$default",
			RequestID:    uuid.NewString(),
			APIID:        "local",
			DomainName:   r.Host,
			DomainPrefix: domainPrefix,
			Time:         now.UTC().Format("02/Jan/2006:15:04:05 -0700"),
			TimeEpoch:    now.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method: r.Method, Path: r.URL.Path, Protocol: r.Proto,
				SourceIP: sourceIP(r.RemoteAddr), UserAgent: r.UserAgent(),
			},
		},
	}
	if len(query) > 0 {
		ev.QueryStringParameters = query
	}
	if claims != nil {
		ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{
				Claims: claims, Scopes: devauth.Scopes(claims),
			},
		}
	}
	if len(body) > 0 {
		if isText(r.Header.Get("Content-Type"), body) {
			ev.Body = string(body)
		} else {
			ev.Body = base64.StdEncoding.EncodeToString(body)
			ev.IsBase64Encoded = true
		}
	}
	return ev
}

// isText mirrors API Gateway's choice to pass text bodies as-is and
// base64-encode everything else.
func isText(contentType string, body []byte) bool {
	if !utf8.Valid(body) {
		return false
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return contentType == ""
	}
	return strings.HasPrefix(mt, "text/") || strings.HasSuffix(mt, "json") || strings.HasSuffix(mt, "xml") ||
		mt == "application/x-www-form-urlencoded" || mt == "application/javascript"
}

func sourceIP(remote string) string {
	if i := strings.LastIndex(remote, ":"); i > 0 {
		return strings.Trim(remote[:i], "[]")
	}
	return remote
}

func writeResponse(w http.ResponseWriter, resp events.APIGatewayV2HTTPResponse) {
	h := w.Header()
	keys := make([]string, 0, len(resp.Headers))
	for k := range resp.Headers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		h.Set(k, resp.Headers[k])
	}
	for k, vs := range resp.MultiValueHeaders {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	for _, c := range resp.Cookies {
		h.Add("Set-Cookie", c)
	}
	status := resp.StatusCode
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	if resp.IsBase64Encoded {
		if dec, err := base64.StdEncoding.DecodeString(resp.Body); err == nil {
			_, _ = w.Write(dec)
			return
		}
	}
	_, _ = io.WriteString(w, resp.Body) // no []byte copy of the body
}

// writeMessage answers like API Gateway itself does: {"message": "..."}.
func writeMessage(w http.ResponseWriter, status int, msg string, headers map[string]string) {
	for k, v := range headers {
		w.Header().Set(k, v)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": msg})
}

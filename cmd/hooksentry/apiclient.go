package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"time"
)

// The HTTP side of the operator commands that call the management API
// (`hooksentry events ...`, `hooksentry destinations ...`, `hooksentry
// listen`): which API they talk to, one request, and what an error answer
// says.

const (
	// requestTimeout bounds one API call. A bulk replay call moves up to
	// 1,000 events, so it is generous.
	requestTimeout = 2 * time.Minute
	// maxResponse bounds what is read of an answer: an event detail holds at
	// most a 256 KiB body (a third more in base64) and its attempts.
	maxResponse = 16 << 20
)

// apiTarget is the API a command talks to.
type apiTarget struct {
	baseURL string // scheme://host[:port][/stage], without a trailing slash
	local   bool   // the local stack: tokens can be minted for it
}

// resolveTarget picks the API: --api, else HOOKSENTRY_API_URL, else the
// local stack at HOOKSENTRY_LOCAL_ADDR (127.0.0.1:8080). A local address
// with port 0 (any free port) is looked up in the running stack's state file.
func resolveTarget(apiFlag string) (apiTarget, error) {
	raw, source := apiFlag, "--api"
	if raw == "" {
		raw, source = os.Getenv("HOOKSENTRY_API_URL"), "HOOKSENTRY_API_URL"
	}
	if raw != "" {
		base, err := parseAPIURL(raw)
		if err != nil {
			return apiTarget{}, fmt.Errorf("%s: %w", source, err)
		}
		return apiTarget{baseURL: base}, nil
	}
	return localTarget()
}

// localTarget is the local stack at HOOKSENTRY_LOCAL_ADDR (127.0.0.1:8080),
// whatever HOOKSENTRY_API_URL says (listen needs the stack on this machine).
func localTarget() (apiTarget, error) {
	addr := os.Getenv("HOOKSENTRY_LOCAL_ADDR")
	if addr == "" {
		addr = "127.0.0.1:8080"
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		return apiTarget{}, fmt.Errorf("HOOKSENTRY_LOCAL_ADDR: %q is not host:port", addr)
	}
	if port == "0" {
		s, ok := runningStackState()
		if !ok || s.GatewayURL == "" {
			return apiTarget{}, fmt.Errorf("HOOKSENTRY_LOCAL_ADDR is %s (any free port) and no running stack was found in %s: start it with make run, or pass --api URL", addr, stateDir())
		}
		return apiTarget{baseURL: strings.TrimRight(s.GatewayURL, "/"), local: true}, nil
	}
	return apiTarget{baseURL: "http://" + addr, local: true}, nil
}

// parseAPIURL checks a deployed API's base URL (such as
// https://abc123.execute-api.eu-west-1.amazonaws.com, or a custom domain)
// and returns it without a trailing slash or /api/v1. The bearer token is
// sent to it, so plain http is accepted only for loopback hosts.
func parseAPIURL(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", fmt.Errorf("%q is not an absolute http(s) URL", raw)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%q: give the API's base URL, without user info, query or fragment", u.Redacted())
	}
	if u.Scheme == "http" && !loopbackHost(u.Hostname()) {
		return "", fmt.Errorf("%q: refusing to send a bearer token over plain http to a host other than loopback; use https", raw)
	}
	u.Path = strings.TrimSuffix(strings.TrimRight(u.Path, "/"), "/api/v1")
	u.RawPath = ""
	return strings.TrimRight(u.String(), "/"), nil
}

func loopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// apiClient calls the management API with a bearer token.
type apiClient struct {
	base  string
	local bool // the local stack: a refused connection means it is not running
	// token returns the bearer token for the next request (minted tokens are
	// minted per request, so a long bulk replay never outlives one).
	token func() (string, error)
	http  *http.Client
}

func newAPIClient(target apiTarget, token func() (string, error)) *apiClient {
	return &apiClient{base: target.baseURL, local: target.local, token: token, http: &http.Client{
		Timeout: requestTimeout,
		// The API never redirects; following a redirect could carry the
		// token somewhere else.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// do sends one request (body, when not nil, as JSON) and returns the body of
// a 2xx answer. Any other answer is an *apiError. path is already escaped.
// Errors never contain the token.
func (c *apiClient) do(ctx context.Context, method, path string, query url.Values, body any) ([]byte, error) {
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json, application/problem+json")
	tok, err := c.token()
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := c.http.Do(req)
	if err != nil && c.local && errors.Is(err, syscall.ECONNREFUSED) {
		return nil, fmt.Errorf("the local stack is not running at %s (connection refused): start it with make run", c.base)
	}
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, c.base+path, unwrapURLError(err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return nil, fmt.Errorf("%s %s: read answer: %w", method, c.base+path, err)
	}
	if len(data) > maxResponse {
		return nil, fmt.Errorf("%s %s: answer larger than %d bytes", method, c.base+path, maxResponse)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, newAPIError(resp.StatusCode, data)
	}
	return data, nil
}

// unwrapURLError drops the *url.Error wrapper, whose message repeats the
// method and URL the caller already names.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// fieldError is one entry of a problem's errors[].
type fieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// apiError is a non-2xx answer: an RFC 9457 problem (CONTRACT §1), API
// Gateway's {"message": "..."} (its JWT authorizer's 401), or anything else.
type apiError struct {
	StatusCode int
	Title      string
	Detail     string
	Fields     []fieldError
	Message    string // API Gateway's shape
	Body       string // neither shape: the start of the answer
}

func newAPIError(code int, data []byte) *apiError {
	e := &apiError{StatusCode: code}
	var p struct {
		Title   string       `json:"title"`
		Detail  string       `json:"detail"`
		Errors  []fieldError `json:"errors"`
		Message string       `json:"message"`
	}
	if json.Unmarshal(data, &p) == nil && (p.Title != "" || p.Message != "") {
		e.Title, e.Detail, e.Fields, e.Message = p.Title, p.Detail, p.Errors, p.Message
		return e
	}
	e.Body = truncateRunes(oneLine(string(data)), 200)
	return e
}

// Error is what the user sees (after "hooksentry: "), on one line so that a
// script's log keeps it whole: the status, the problem's title and detail,
// and its field errors in parentheses, such as
//
//	400 Bad Request: The request is invalid. (url: must use https; serverRateLimit: must be from 1 to 1000)
//
// Everything in it comes from the server, so control characters are
// neutralised.
func (e *apiError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d ", e.StatusCode)
	switch {
	case e.Title != "":
		b.WriteString(oneLine(e.Title))
		if e.Detail != "" {
			b.WriteString(": " + oneLine(e.Detail))
		}
		if len(e.Fields) > 0 {
			parts := make([]string, len(e.Fields))
			for i, f := range e.Fields {
				parts[i] = oneLine(f.Field) + ": " + oneLine(f.Message)
			}
			b.WriteString(" (" + strings.Join(parts, "; ") + ")")
		}
	case e.Message != "":
		b.WriteString(oneLine(e.Message))
		if e.StatusCode == http.StatusUnauthorized {
			b.WriteString(": the API refused the bearer token (missing, malformed, expired, or not issued for this API)")
		}
	default:
		b.WriteString(http.StatusText(e.StatusCode))
		if e.Body != "" {
			b.WriteString(": " + e.Body)
		}
	}
	return b.String()
}

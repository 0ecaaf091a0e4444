package testkit

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

// ExchangeCheck, when set, sees every exchange a Client makes and reports
// what is wrong with it; the test fails with that. Suites set it once in
// TestMain, before any test runs (for example to validate traffic against
// the API document), so it is read without locking.
var ExchangeCheck func(req *http.Request, reqBody []byte, resp Response) error

// Client calls the local gateway.
type Client struct {
	BaseURL string
	Token   string // bearer JWT for /api/v1
}

// Response is a decoded answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v, failing the test on error.
func (r Response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %d response %q: %v", r.Status, r.Body, err)
	}
}

// Do sends a request; body may be nil, []byte, string or any JSON value.
func (c *Client) Do(t testing.TB, method, path string, body any, header http.Header) Response {
	t.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case []byte:
		raw = b
	case string:
		raw = []byte(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		raw = j
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, c.BaseURL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if c.Token != "" && req.Header.Get("Authorization") == "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	out := Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
	if ExchangeCheck != nil {
		if err := ExchangeCheck(req, raw, out); err != nil {
			t.Errorf("%s %s: %v", method, path, err)
		}
	}
	return out
}

package testkit

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// Request is what a receiver saw.
type Request struct {
	Path   string
	Header http.Header
	Body   []byte
	At     time.Time
}

// Receiver is an HTTPS destination on 127.0.0.1 that records requests,
// tracks how many are in flight, and answers with Respond.
type Receiver struct {
	URL string // https://127.0.0.1:port

	// Respond decides the answer to one request (n counts requests from 1);
	// nil answers 200. It may block to simulate a slow destination.
	Respond func(w http.ResponseWriter, r *http.Request, n int)

	srv *httptest.Server

	mu          sync.Mutex
	requests    []Request
	inFlight    int
	maxInFlight int
	// time-weighted concurrency
	lastChange time.Time
	weighted   map[int]time.Duration
}

// NewReceiver starts a receiver; it stops when the test ends.
func NewReceiver(t testing.TB, ca *CA) *Receiver {
	t.Helper()
	r := &Receiver{weighted: map[int]time.Duration{}}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(r.serve))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.Listener = ln
	srv.TLS = ca.ServerConfig(t)
	srv.StartTLS()
	r.srv, r.URL = srv, srv.URL
	t.Cleanup(srv.Close)
	return r
}

func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	req.Body = io.NopCloser(bytes.NewReader(body)) // Respond may read it again
	r.mu.Lock()
	r.account()
	r.inFlight++
	r.maxInFlight = max(r.maxInFlight, r.inFlight)
	r.requests = append(r.requests, Request{Path: req.URL.Path, Header: req.Header.Clone(), Body: body, At: time.Now()})
	n := len(r.requests)
	respond := r.Respond
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.account()
		r.inFlight--
		r.mu.Unlock()
	}()
	if respond != nil {
		respond(w, req, n)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// account adds the time since the last change to the current level.
func (r *Receiver) account() {
	now := time.Now()
	if !r.lastChange.IsZero() {
		r.weighted[r.inFlight] += now.Sub(r.lastChange)
	}
	r.lastChange = now
}

// SetRespond replaces the response function.
func (r *Receiver) SetRespond(f func(w http.ResponseWriter, r *http.Request, n int)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Respond = f
}

// Requests returns a copy of what was received.
func (r *Receiver) Requests() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Request(nil), r.requests...)
}

// MaxInFlight is the highest number of concurrent requests seen.
func (r *Receiver) MaxInFlight() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.maxInFlight
}

// TimeAt returns how long exactly n requests were in flight, and the total
// time with at least one in flight.
func (r *Receiver) TimeAt(n int) (atN, busy time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for level, d := range r.weighted {
		if level > 0 {
			busy += d
		}
	}
	return r.weighted[n], busy
}

// WaitFor polls cond until it holds or timeout passes.
func WaitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

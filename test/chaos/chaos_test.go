// Package chaos_test is the regression test for a flapping destination
// (issue 7, Acceptance): under concurrent workers, a destination alternates
// healthy and failing periods and always refuses one event with 422. Every
// other event must still be delivered, the refused one must end Failed with
// its attempts spent, and serverRateLimit must never be exceeded.
//
// The harness itself is checked by running it without the refused event and
// without flapping, which must pass on any delivery code that works at all:
//
//	go test ./test/chaos -run Chaos -v -args -chaos.poison=false -chaos.flapping=false
package chaos_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/uuid"

	"github.com/hooksentry/hooksentry/pkg/event"
	localstack "github.com/hooksentry/hooksentry/pkg/local/stack"
	"github.com/hooksentry/hooksentry/pkg/store"
	"github.com/hooksentry/hooksentry/pkg/testkit"
)

var (
	withPoison   = flag.Bool("chaos.poison", true, "include one event the destination always refuses with 422")
	withFlapping = flag.Bool("chaos.flapping", true, "alternate failing and healthy periods at the destination")
)

const (
	eventCount = 300 // including the poison event
	// Each ingest client pauses this long between events, so that events
	// keep arriving through the first failing and healthy periods.
	ingestPace = 100 * time.Millisecond
	// healthyLatency slows each 200 down, so that requests overlap and the
	// rate limit is actually contended.
	healthyLatency = 30 * time.Millisecond
	rateLimit      = 4 // the destination's serverRateLimit
	workers        = 4
	maxAttempts    = 6 // HOOKSENTRY_MAX_ATTEMPTS
	// probeSlack is how many requests beyond maxAttempts the poison event
	// may get: probes may be tried before their failure is counted.
	probeSlack = 3

	// settleTimeout bounds the wait for the outcome once ingestion is
	// done and the flapping is over: a test deadline, not a timed assertion.
	settleTimeout = 90 * time.Second
	// sweepInterval is long on purpose: probes must come when the breaker's
	// cooldown ends (CONTRACT §3), not from the sweeper's safety net.
	sweepInterval = 30 * time.Second
	canaryTimeout = 30 * time.Second

	poisonMarker = "poison"
	canaryMarker = "canary"
)

// flapping is the destination's schedule, by its own clock from the first
// ingest: failing and healthy periods in turn, then healthy for good.
var flapping = []time.Duration{
	2 * time.Second, // failing
	1 * time.Second, // healthy
	2 * time.Second, // failing
	1 * time.Second, // healthy
	3 * time.Second, // failing
}

func flappingTime() time.Duration {
	var total time.Duration
	for _, p := range flapping {
		total += p
	}
	return total
}

var settings = map[string]string{
	"HOOKSENTRY_DELIVERY_TIMEOUT":          "1s",
	"HOOKSENTRY_RETRY_BASE_DELAY":          "50ms",
	"HOOKSENTRY_RETRY_MAX_DELAY":           "500ms",
	"HOOKSENTRY_MAX_ATTEMPTS":              fmt.Sprint(maxAttempts),
	"HOOKSENTRY_BREAKER_FAILURE_THRESHOLD": "5",
	"HOOKSENTRY_BREAKER_COOLDOWN":          "300ms",
}

func TestChaosFlappingDestinationAndPoisonEvent(t *testing.T) {
	if testing.Short() {
		t.Skip("chaos test runs in the full suite only")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	dir := t.TempDir()
	ca := testkit.NewCA(t, dir)
	stack := startStack(ctx, t, dir, ca)
	dest := newFlappingDestination(*withFlapping)
	rcv := testkit.NewReceiver(t, ca)
	rcv.SetRespond(dest.respond)
	c, destID, ingestToken := createDestination(ctx, t, stack, rcv.URL+"/chaos")

	markers := make([]string, 0, eventCount)
	if *withPoison {
		// First, so it is the oldest event: a probe chosen as the oldest
		// held event is this one.
		markers = append(markers, poisonMarker)
	}
	for i := len(markers); i < eventCount; i++ {
		markers = append(markers, fmt.Sprintf("event-%03d", i))
	}

	began := time.Now()
	dest.start()
	ids := ingestAll(t, stack.URL, ingestToken, markers)
	if len(ids) != len(markers) {
		t.Fatalf("accepted %d events, want %d", len(ids), len(markers))
	}
	ingested := time.Since(began)

	poisonFailed := func() bool {
		if !*withPoison {
			return true
		}
		_, status, found, err := stack.Env.Store().GetEvent(ctx, ids[poisonMarker])
		return err == nil && found && status == event.StatusFailed
	}
	deadline := time.Now().Add(max(flappingTime()-time.Since(began), 0) + settleTimeout)
	settled := waitUntil(ctx, deadline, func() bool {
		return len(dest.undelivered(markers)) == 0 && poisonFailed()
	})
	elapsed := time.Since(began)

	deliverable := len(markers)
	if *withPoison {
		deliverable--
	}
	if missing := dest.undelivered(markers); len(missing) > 0 {
		t.Errorf("%d of %d events never delivered after %s, e.g. %s",
			len(missing), deliverable, elapsed.Round(time.Second), strings.Join(missing[:min(5, len(missing))], ", "))
	}
	if *withPoison {
		checkPoison(ctx, t, stack.Env.Store(), ids[poisonMarker], dest.requestsFor(poisonMarker))
	}
	if got := rcv.MaxInFlight(); got > rateLimit {
		t.Errorf("destination saw %d concurrent requests, want at most %d", got, rateLimit)
	}
	if !settled || t.Failed() {
		diagnose(ctx, t, stack, c, destID, ids, dest)
		t.FailNow()
	}

	// A destination whose last event was refused may rightly stay
	// Suspended until something can probe it: a fresh event must get
	// through and bring it back to Active.
	canary := ingestAll(t, stack.URL, ingestToken, []string{canaryMarker})
	ids[canaryMarker] = canary[canaryMarker]
	if !waitUntil(ctx, time.Now().Add(canaryTimeout), func() bool {
		return dest.deliveredCount(canaryMarker) > 0 && destinationStatus(t, c, destID) == "Active"
	}) {
		t.Errorf("after the storm: canary delivered %d times, destination %s; want delivered and Active within %s",
			dest.deliveredCount(canaryMarker), destinationStatus(t, c, destID), canaryTimeout)
		diagnose(ctx, t, stack, c, destID, ids, dest)
		t.FailNow()
	}

	dups, extra := dest.duplicates(markers)
	schedule := "none"
	if *withFlapping {
		schedule = fmt.Sprintf("failing/healthy %v", flapping)
	}
	t.Logf("chaos run: %d events (poison %v, flapping: %s); ingested in %s, settled after %s",
		len(markers), *withPoison, schedule, ingested.Round(time.Millisecond), elapsed.Round(time.Millisecond))
	t.Logf("destination answers: %s", dest.summary())
	t.Logf("poison event requests: %d (max attempts %d); %d events delivered more than once (%d extra deliveries); max in flight %d of %d",
		dest.requestsFor(poisonMarker), maxAttempts, dups, extra, rcv.MaxInFlight(), rateLimit)
}

// startStack runs the local stack in process with concurrent workers and a
// fast sweeper; its log is printed on failure.
func startStack(ctx context.Context, t *testing.T, dir string, ca *testkit.CA) *localstack.Stack {
	t.Helper()
	stackLog, err := os.Create(filepath.Join(dir, "stack.log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stackLog.Close()
		if t.Failed() {
			logTail(t, stackLog.Name(), 40)
		}
	})
	s := map[string]string{"HOOKSENTRY_EXTRA_CA_FILE": ca.File}
	for k, v := range settings {
		s[k] = v
	}
	stack, err := localstack.Start(ctx, localstack.Options{
		StateDir: filepath.Join(dir, "state"), Addr: "127.0.0.1:0", Names: localstack.DefaultNames(), Settings: s,
		Workers: workers, SweepInterval: sweepInterval, Log: stackLog,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stack.Close() })
	return stack
}

// logTail logs the last n JSON lines (gateway, functions, sweeper) of a log.
func logTail(t *testing.T, file string, n int) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Logf("stack log: %v", err)
		return
	}
	var lines []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "{") {
			lines = append(lines, l)
		}
	}
	t.Logf("stack log, last %d lines:\n%s", n, strings.Join(lines[max(0, len(lines)-n):], "\n"))
}

// createDestination creates a tenant and, through the API, its destination.
func createDestination(ctx context.Context, t *testing.T, stack *localstack.Stack, url string) (c *testkit.Client, destID, ingestToken string) {
	t.Helper()
	tenant := uuid.NewString()
	if err := stack.Env.Store().CreateTenant(ctx, store.Tenant{ID: tenant, Name: "chaos", CreatedAt: store.NewTenantTime(time.Now())}); err != nil {
		t.Fatal(err)
	}
	tok, err := stack.Issuer.Mint(tenant, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	c = &testkit.Client{BaseURL: stack.URL, Token: tok}
	resp := c.Do(t, http.MethodPost, "/api/v1/destinations", map[string]any{"url": url, "serverRateLimit": rateLimit}, nil)
	if resp.Status != http.StatusCreated {
		t.Fatalf("create destination: got %d %s, want 201", resp.Status, resp.Body)
	}
	var d struct{ ID, IngestToken string }
	resp.JSON(t, &d)
	return c, d.ID, d.IngestToken
}

func destinationStatus(t *testing.T, c *testkit.Client, destID string) string {
	t.Helper()
	resp := c.Do(t, http.MethodGet, "/api/v1/destinations/"+destID, nil, nil)
	if resp.Status != http.StatusOK {
		return fmt.Sprintf("(GET answered %d %s)", resp.Status, resp.Body)
	}
	var d struct{ Status string }
	resp.JSON(t, &d)
	return d.Status
}

// ingestAll posts one event per marker, the first alone and the rest from
// several paced clients at once, and returns event ids by marker.
func ingestAll(t *testing.T, baseURL, token string, markers []string) map[string]string {
	t.Helper()
	ids := map[string]string{}
	var mu sync.Mutex
	post := func(marker string) {
		id, err := ingest(baseURL, token, marker)
		if err != nil {
			t.Errorf("ingest %s: %v", marker, err)
			return
		}
		mu.Lock()
		ids[marker] = id
		mu.Unlock()
	}
	if len(markers) == 0 {
		return ids
	}
	post(markers[0])
	const clients = 6
	rest := markers[1:]
	var wg sync.WaitGroup
	for g := range clients {
		wg.Go(func() {
			for i := g; i < len(rest); i += clients {
				post(rest[i])
				time.Sleep(ingestPace)
			}
		})
	}
	wg.Wait()
	return ids
}

var ingestClient = &http.Client{Timeout: 30 * time.Second}

// ingest posts one JSON event carrying marker and returns its event id.
func ingest(baseURL, token, marker string) (string, error) {
	body := fmt.Sprintf(`{"marker":%q,"sentAt":%q}`, marker, time.Now().Format(time.RFC3339Nano))
	resp, err := ingestClient.Post(baseURL+"/ingest/"+token, "application/json", strings.NewReader(body))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusAccepted {
		return "", fmt.Errorf("got %d %s, want 202", resp.StatusCode, b)
	}
	var out struct{ EventID string }
	if err := json.Unmarshal(b, &out); err != nil || out.EventID == "" {
		return "", fmt.Errorf("202 without an eventId: %s", b)
	}
	return out.EventID, nil
}

// waitUntil polls cond until it holds, the deadline passes or ctx ends.
func waitUntil(ctx context.Context, deadline time.Time, cond func() bool) bool {
	for !cond() {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		time.Sleep(250 * time.Millisecond)
	}
	return true
}

// checkPoison asserts that the always-refused event ended Failed in the
// table with its attempts spent, and was not retried without bound.
func checkPoison(ctx context.Context, t *testing.T, st *store.Store, eventID string, requests int) {
	t.Helper()
	msg, status, found, err := st.GetEvent(ctx, eventID)
	switch {
	case err != nil:
		t.Errorf("poison event %s: read stored event: %v", eventID, err)
	case !found:
		t.Errorf("poison event %s: not stored in the table (held or queued) after %d requests, want stored as %s", eventID, requests, event.StatusFailed)
	case status != event.StatusFailed:
		t.Errorf("poison event %s: status %q with %d attempts after %d requests, want %q", eventID, status, msg.Attempts, requests, event.StatusFailed)
	case msg.Attempts != maxAttempts:
		t.Errorf("poison event %s: %d attempts stored, want %d", eventID, msg.Attempts, maxAttempts)
	}
	if requests > maxAttempts+probeSlack {
		t.Errorf("poison event was requested %d times, want at most %d (max attempts) + %d (probes)", requests, maxAttempts, probeSlack)
	}
}

// flappingDestination answers for the receiver: the poison event always
// 422, every other request by the destination's own clock — failing
// periods (mostly 503, some connection resets and timeouts), healthy
// periods (200), and healthy for good after the schedule.
type flappingDestination struct {
	flapping bool

	mu        sync.Mutex
	began     time.Time
	requests  map[string]int  // by marker
	poisonAt  []time.Duration // when the poison event was requested, by the destination's clock
	delivered map[string]int  // 2xx answers by marker
	answers   map[string]int  // by kind of answer
}

func newFlappingDestination(flapping bool) *flappingDestination {
	return &flappingDestination{flapping: flapping, requests: map[string]int{}, delivered: map[string]int{}, answers: map[string]int{}}
}

// start starts the destination's clock.
func (d *flappingDestination) start() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.began = time.Now()
}

// failing reports whether the destination is in a failing period.
func (d *flappingDestination) failing() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.flapping {
		return false
	}
	elapsed := time.Since(d.began)
	for i, p := range flapping {
		if elapsed < p {
			return i%2 == 0
		}
		elapsed -= p
	}
	return false
}

func (d *flappingDestination) count(marker, answer string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.requests[marker]++
	d.answers[answer]++
	if marker == poisonMarker {
		d.poisonAt = append(d.poisonAt, time.Since(d.began).Round(time.Millisecond))
	}
	if answer == "200" {
		d.delivered[marker]++
	}
}

func (d *flappingDestination) respond(w http.ResponseWriter, r *http.Request, n int) {
	var body struct{ Marker string }
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Marker == "" {
		d.count("(no marker)", "400")
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	switch {
	case body.Marker == poisonMarker:
		d.count(body.Marker, "422")
		w.WriteHeader(http.StatusUnprocessableEntity)
	case !d.failing():
		time.Sleep(healthyLatency)
		d.count(body.Marker, "200")
		w.WriteHeader(http.StatusOK)
	case n%10 == 0:
		d.count(body.Marker, "reset")
		hangUp(w)
	case n%10 == 1:
		d.count(body.Marker, "timeout")
		// Beyond the 1s attempt timeout; the request ends when the client
		// gives up. Never a 2xx, so the delivered count stays exact.
		select {
		case <-time.After(1500 * time.Millisecond):
			w.WriteHeader(http.StatusGatewayTimeout)
		case <-r.Context().Done():
		}
	default:
		d.count(body.Marker, "503")
		w.WriteHeader(http.StatusServiceUnavailable)
	}
}

// hangUp closes the connection without an answer.
func hangUp(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// undelivered lists the markers, poison excepted, that never got a 2xx.
func (d *flappingDestination) undelivered(markers []string) []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []string
	for _, m := range markers {
		if m != poisonMarker && d.delivered[m] == 0 {
			out = append(out, m)
		}
	}
	return out
}

func (d *flappingDestination) requestsFor(marker string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.requests[marker]
}

func (d *flappingDestination) deliveredCount(marker string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.delivered[marker]
}

// duplicates counts events delivered more than once, and the extra deliveries.
func (d *flappingDestination) duplicates(markers []string) (events, extra int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, m := range markers {
		if d.delivered[m] > 1 {
			events++
			extra += d.delivered[m] - 1
		}
	}
	return events, extra
}

func (d *flappingDestination) summary() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	kinds := make([]string, 0, len(d.answers))
	for k, n := range d.answers {
		kinds = append(kinds, fmt.Sprintf("%s: %d", k, n))
	}
	sort.Strings(kinds)
	return strings.Join(kinds, ", ")
}

// diagnose reports where undelivered events and the poison event are:
// stored, held, queued, or behind a suspended destination.
func diagnose(ctx context.Context, t *testing.T, stack *localstack.Stack, c *testkit.Client, destID string, ids map[string]string, dest *flappingDestination) {
	t.Helper()
	if ctx.Err() != nil {
		ctx = context.Background() // the test deadline passed; the stack still answers
	}
	st := stack.Env.Store()
	t.Logf("destination (API): %s; answers so far: %s", destinationStatus(t, c, destID), dest.summary())
	d, state, found, err := st.LoadTarget(ctx, destID)
	t.Logf("destination (table): found=%v status=%s state=%+v err=%v", found, d.Status, state, err)
	held, err := st.ListHeld(ctx, destID, 1000)
	heldIDs := map[string]bool{}
	for _, h := range held {
		heldIDs[h.Message.EventID] = true
	}
	t.Logf("held events: %d (err %v)", len(held), err)
	dest.mu.Lock()
	t.Logf("poison event requested at %v", dest.poisonAt)
	dest.mu.Unlock()

	var markers []string
	for m := range ids {
		markers = append(markers, m)
	}
	sort.Strings(markers)
	look := dest.undelivered(markers)
	look = append(look[:min(5, len(look))], poisonMarker, canaryMarker)
	for _, m := range look {
		id, ok := ids[m]
		if !ok {
			continue
		}
		msg, status, stored, err := st.GetEvent(ctx, id)
		t.Logf("event %s (%s): requests %d, delivered %d, held %v, stored %v status %q attempts %d (err %v)",
			m, id, dest.requestsFor(m), dest.deliveredCount(m), heldIDs[id], stored, status, msg.Attempts, err)
	}
	client := sqs.NewFromConfig(stack.Env.AWSConfig())
	for _, q := range []struct{ name, url string }{{"queue", stack.Resources.QueueURL}, {"dlq", stack.Resources.DLQURL}} {
		out, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(q.url), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll}})
		if err != nil {
			t.Logf("%s: %v", q.name, err)
			continue
		}
		t.Logf("%s: visible %s, in flight %s, delayed %s", q.name, out.Attributes["ApproximateNumberOfMessages"], out.Attributes["ApproximateNumberOfMessagesNotVisible"], out.Attributes["ApproximateNumberOfMessagesDelayed"])
	}
}

package bench

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/uuid"

	"github.com/hooksentry/hooksentry/pkg/delivery"
	"github.com/hooksentry/hooksentry/pkg/event"
	"github.com/hooksentry/hooksentry/pkg/history"
	localstack "github.com/hooksentry/hooksentry/pkg/local/stack"
	"github.com/hooksentry/hooksentry/pkg/testkit"
)

const (
	cpuEventsDefault = 6000 // per phase and round; HOOKSENTRY_BENCH_CPU_EVENTS overrides
	cpuRounds        = 3    // phases alternate: a b a b a b
	cpuCallers       = 4    // concurrent invocations (one destination each)
	cpuBatch         = 10   // SQS batch size = lanes per batch
	cpuTarget        = 1.3  // HookSentry CPU per event / bare client CPU per event
)

// BenchmarkDeliveryCPU compares the CPU one process spends to deliver an
// event with HookSentry's worker (Worker.Handle on prebuilt SQS batches,
// against the emulator-backed store, to an HTTPS receiver) with the CPU a
// bare net/http client spends to post the same body with the same headers
// and concurrency. The receiver runs in its own process, so
// getrusage(RUSAGE_SELF) of this process holds only the sending side (the
// emulators are separate processes too).
//
// Set HOOKSENTRY_BENCH_CPUPROFILE=dir to write a CPU profile of each phase
// (with HOOKSENTRY_BENCH_CPU_EVENTS=40000 or so, for enough samples).
func BenchmarkDeliveryCPU(b *testing.B) {
	cpuEventsPerRound := cpuEventsDefault
	if v, err := strconv.Atoi(os.Getenv("HOOKSENTRY_BENCH_CPU_EVENTS")); err == nil && v >= cpuCallers*cpuBatch {
		cpuEventsPerRound = v / (cpuCallers * cpuBatch) * cpuCallers * cpuBatch
	}
	stack, ca, _ := benchStack(b)
	dir := b.TempDir()
	recvURL := startReceiverProcess(b, ca, dir)

	client := tenantClient(b, stack)
	dests := make([]createdDestination, cpuCallers)
	for i := range dests {
		dests[i] = createDestination(b, client, recvURL+fmt.Sprintf("/hooks/%d", i), cpuBatch)
	}
	// The worker exactly as the deliver function builds it: no counting
	// middleware, a fresh credentials cache.
	env := *stack.Env
	env.APIOptions = nil
	worker, err := localstack.Functions{Env: &env}.Worker()
	if err != nil {
		b.Fatal(err)
	}
	bare := bareClient(b, ca)
	body := webhookBody(costBodySize, 1)

	bc := func(n int) { runBare(b, bare, dests, recvURL, body, n) }
	// Warm up both: connections, the credentials cache, the SDK clients.
	runHookSentry(b, worker, prepareBatches(b, dests, body, cpuCallers*cpuBatch*4))
	bc(cpuCallers * cpuBatch * 4)

	profileDir := os.Getenv("HOOKSENTRY_BENCH_CPUPROFILE")
	var cpuA, cpuB, cpuD, wallA, wallB time.Duration
	var handleTimes []time.Duration
	before := receiverCount(b, bare, recvURL)
	for round := range cpuRounds {
		batches := prepareBatches(b, dests, body, cpuEventsPerRound)
		d, w := measureCPU(b, profileDir, fmt.Sprintf("hooksentry-%d", round), func() { handleTimes = append(handleTimes, runHookSentry(b, worker, batches)...) })
		cpuA, wallA = cpuA+d, wallA+w
		d, _ = measureCPU(b, "", "", func() { decodeOnly(b, batches) })
		cpuD += d
		d, w = measureCPU(b, profileDir, fmt.Sprintf("bare-%d", round), func() { bc(cpuEventsPerRound) })
		cpuB, wallB = cpuB+d, wallB+w
	}
	if got, want := receiverCount(b, bare, recvURL)-before, int64(2*cpuRounds*cpuEventsPerRound); got != want {
		b.Fatalf("receiver got %d requests, want %d", got, want)
	}

	// The AWS part alone: the three state calls each batch makes, with no
	// HTTP delivery, to show what the SDK round trips cost.
	batches := cpuRounds * cpuEventsPerRound / cpuBatch
	cpuC, _ := measureCPU(b, profileDir, "state-only", func() { runStateOnly(b, stack, dests, batches) })
	// And the history write each batch makes (one BatchWriteItem of ten
	// compressed records).
	cpuE, _ := measureCPU(b, profileDir, "history-only", func() { runHistoryOnly(b, stack, dests, body, batches) })

	n := float64(cpuRounds * cpuEventsPerRound)
	perA := float64(cpuA.Nanoseconds()) / n / 1e3
	perB := float64(cpuB.Nanoseconds()) / n / 1e3
	perC := float64(cpuC.Nanoseconds()) / n / 1e3
	perD := float64(cpuD.Nanoseconds()) / n / 1e3
	perE := float64(cpuE.Nanoseconds()) / n / 1e3
	ratio := perA / perB
	verdict := "meets"
	if ratio > cpuTarget {
		verdict = "MISSES"
	}
	out := os.Stdout
	fmt.Fprintf(out, "\n### Delivery CPU per event\n\n")
	fmt.Fprintf(out, "%d events per phase (%d rounds, phases alternating), %d concurrent invocations × %d lanes, 1 KiB JSON body, bearer auth, HTTPS receiver in a separate process; CPU = user+sys of this process (getrusage).\n\n",
		cpuRounds*cpuEventsPerRound, cpuRounds, cpuCallers, cpuBatch)
	fmt.Fprintln(out, "| Phase | CPU µs/event | Wall | Ratio to bare |")
	fmt.Fprintln(out, "|---|---:|---:|---:|")
	fmt.Fprintf(out, "| (a) HookSentry Worker.Handle, batches of %d | %.1f | %s | %.2f |\n", cpuBatch, perA, wallA.Round(time.Millisecond), ratio)
	fmt.Fprintf(out, "| (b) bare net/http client, same TLS, headers, concurrency | %.1f | %s | 1.00 |\n", perB, wallB.Round(time.Millisecond))
	fmt.Fprintf(out, "| (c) the batch's state calls alone (Query + 2 UpdateItem per %d events, no HTTP) | %.1f | | %.2f |\n", cpuBatch, perC, perC/perB)
	fmt.Fprintf(out, "| (d) decoding the SQS messages alone (event.Decode) | %.1f | | %.2f |\n", perD, perD/perB)
	fmt.Fprintf(out, "| (e) the batch's history write alone (1 BatchWriteItem of %d compressed records) | %.1f | | %.2f |\n", cpuBatch, perE, perE/perB)
	rest := perA - perB - perC - perD - perE
	fmt.Fprintf(out, "| (a) − (b) − (c) − (d) − (e): the rest of the worker (goroutines, maps, timers, GC) | %.1f | | %.2f |\n", rest, rest/perB)
	fmt.Fprintf(out, "\n(a)/(b) = %.2f: %s the ≤ %.1f target; without the DynamoDB round trips, ((a) − (c) − (e))/(b) = %.2f. Local Worker.Handle duration per batch: p50 %s, p99 %s.\n",
		ratio, verdict, cpuTarget, (perA-perC-perE)/perB, median(handleTimes).Round(10*time.Microsecond), percentile(handleTimes, 0.99).Round(10*time.Microsecond))

	b.ReportMetric(0, "ns/op")
	b.ReportMetric(perA, "hooksentry-cpu-us/event")
	b.ReportMetric(perB, "bare-cpu-us/event")
	b.ReportMetric(ratio, "cpu-ratio")
	b.ReportMetric(perC, "state-cpu-us/event")
	b.ReportMetric(perD, "decode-cpu-us/event")
	b.ReportMetric(perE, "history-cpu-us/event")
}

// measureCPU runs f and returns the CPU time (user+sys) and wall time this
// process spent on it.
func measureCPU(b *testing.B, profileDir, name string, f func()) (cpu, wall time.Duration) {
	runtime.GC()
	if profileDir != "" {
		pf, err := os.Create(filepath.Join(profileDir, name+".pprof"))
		if err != nil {
			b.Fatal(err)
		}
		if err := pprof.StartCPUProfile(pf); err != nil {
			b.Fatal(err)
		}
		defer func() { pprof.StopCPUProfile(); pf.Close() }()
	}
	r0 := rusage(b)
	t0 := time.Now()
	f()
	wall = time.Since(t0)
	return rusage(b) - r0, wall
}

func rusage(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// prepareBatches builds SQS batches of n events (n/len(dests) per
// destination) the way ingest encodes them; building is not measured.
func prepareBatches(b *testing.B, dests []createdDestination, body []byte, n int) [][]events.SQSEvent {
	perCaller := n / len(dests) / cpuBatch
	batches := make([][]events.SQSEvent, len(dests))
	headers := event.Forwardable(webhookHeaders())
	now := time.Now().UnixMilli()
	for i, d := range dests {
		for range perCaller {
			ev := events.SQSEvent{Records: make([]events.SQSMessage, cpuBatch)}
			for j := range ev.Records {
				m := event.Message{
					Version: 1, EventID: event.NewID(d.ID, time.UnixMilli(now)), DestinationID: d.ID, TenantID: d.TenantID, ReceivedAt: now,
					ContentType: "application/json", Headers: headers, Body: body,
				}
				enc, err := m.Encode()
				if err != nil {
					b.Fatal(err)
				}
				ev.Records[j] = events.SQSMessage{
					MessageId: uuid.NewString(), ReceiptHandle: "bench-" + strconv.Itoa(j), Body: enc,
					EventSource: "aws:sqs", EventSourceARN: "arn:aws:sqs:us-east-1:123456789012:hooksentry-delivery", AWSRegion: "us-east-1",
				}
			}
			batches[i] = append(batches[i], ev)
		}
	}
	return batches
}

// runHookSentry hands the batches to Worker.Handle, one invocation at a
// time per destination and all destinations at once, and returns how long
// each invocation took.
func runHookSentry(b *testing.B, w *delivery.Worker, batches [][]events.SQSEvent) []time.Duration {
	times := make([][]time.Duration, len(batches))
	var wg sync.WaitGroup
	var failed sync.Once
	var failure error
	for i := range batches {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, ev := range batches[i] {
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				t0 := time.Now()
				resp, err := w.Handle(ctx, ev)
				times[i] = append(times[i], time.Since(t0))
				cancel()
				if err == nil && len(resp.BatchItemFailures) > 0 {
					err = fmt.Errorf("%d batch item failures", len(resp.BatchItemFailures))
				}
				if err != nil {
					failed.Do(func() { failure = err })
				}
			}
		}()
	}
	wg.Wait()
	if failure != nil {
		b.Fatalf("Worker.Handle: %v", failure)
	}
	var all []time.Duration
	for _, t := range times {
		all = append(all, t...)
	}
	return all
}

// decodeOnly decodes every message of the batches as Worker.Handle does.
func decodeOnly(b *testing.B, batches [][]events.SQSEvent) {
	for _, bs := range batches {
		for _, ev := range bs {
			for _, r := range ev.Records {
				if _, err := event.Decode(r.Body); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
}

// bareClient is a plain net/http client with the TLS settings and idle pool
// of HookSentry's outbound transport (netguard.NewTransport): the test CA
// trusted, TLS 1.2+, HTTP/2 attempted, 100 idle connections per host.
func bareClient(b *testing.B, ca *testkit.CA) *http.Client {
	pemBytes, err := os.ReadFile(ca.File)
	if err != nil {
		b.Fatal(err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	pool.AppendCertsFromPEM(pemBytes)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool}
	tr.ForceAttemptHTTP2 = true
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = 1000, 100
	return &http.Client{Transport: tr, Timeout: 15 * time.Second}
}

// runBare posts n events with the bare client in the same shape as the
// worker: cpuCallers goroutines, each posting batches of cpuBatch in
// parallel lanes and waiting for the batch, with the headers HookSentry sends.
func runBare(b *testing.B, c *http.Client, dests []createdDestination, recvURL string, body []byte, n int) {
	perCaller := n / len(dests) / cpuBatch
	var wg sync.WaitGroup
	var failed sync.Once
	var failure error
	for i := range dests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			url := recvURL + fmt.Sprintf("/hooks/%d", i)
			for range perCaller {
				var lanes sync.WaitGroup
				for range cpuBatch {
					lanes.Add(1)
					go func() {
						defer lanes.Done()
						if err := postBare(c, url, body); err != nil {
							failed.Do(func() { failure = err })
						}
					}()
				}
				lanes.Wait()
			}
		}()
	}
	wg.Wait()
	if failure != nil {
		b.Fatalf("bare client: %v", failure)
	}
}

func postBare(c *http.Client, url string, body []byte) error {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	for k, v := range webhookHeaders() {
		req.Header[k] = v
	}
	// The headers HookSentry adds, so the bare client sends what a
	// delivery does.
	req.Header.Set("HookSentry-Event-Id", uuid.NewString())
	req.Header.Set("HookSentry-Timestamp", strconv.FormatInt(time.Now().Unix(), 10))
	req.Header.Set("HookSentry-Attempt", "1")
	req.Header.Set("Authorization", "Bearer "+bearerToken)
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("receiver answered %d", resp.StatusCode)
	}
	return nil
}

// runStateOnly makes, per batch, the DynamoDB calls a delivering batch
// makes (LoadTarget, WriteLeases to acquire, ReleaseLease), without
// delivering anything.
func runStateOnly(b *testing.B, stack *localstack.Stack, dests []createdDestination, batches int) {
	env := *stack.Env
	env.APIOptions = nil
	st := env.Store()
	perDestination(b, "state calls", dests, batches, func(ctx context.Context, d createdDestination) error {
		_, state, _, err := st.LoadTarget(ctx, d.ID)
		if err != nil {
			return err
		}
		lease := uuid.NewString()
		leases := state.Live(time.Now())
		leases[lease] = delivery.Lease{Slots: cpuBatch, Expires: time.Now().Add(20 * time.Second)}
		if err := st.WriteLeases(ctx, d.ID, leases, state.LeaseVersion); err != nil {
			return err
		}
		_, err = st.ReleaseLease(ctx, d.ID, lease, delivery.Outcome{Succeeded: true})
		return err
	})
}

// runHistoryOnly makes the history write of batches batches of cpuBatch
// delivered events, as the deliver function does after a batch.
func runHistoryOnly(b *testing.B, stack *localstack.Stack, dests []createdDestination, body []byte, batches int) {
	env := *stack.Env
	env.APIOptions = nil
	st := env.Store()
	perDestination(b, "history writes", dests, batches, func(ctx context.Context, d createdDestination) error {
		now := time.Now()
		changes := make([]history.Change, cpuBatch)
		for i := range changes {
			m := event.Message{
				Version: 1, EventID: event.NewID(d.ID, now), DestinationID: d.ID, TenantID: "bench",
				ReceivedAt: now.UnixMilli(), ContentType: "application/json", Body: body,
				Headers: [][2]string{{"User-Agent", "Shopify-Captain-Hook"}, {"X-Shopify-Hmac-Sha256", "XWmrwMey6OsLMeiZKwP4FppHH3cmAiiJJAweH5Jo4bM="}},
			}
			changes[i] = history.Change{Event: m, Status: history.Delivered, DeliveredAt: now, Attempt: &history.Attempt{
				Number: 1, StartedAt: now, Duration: 80 * time.Millisecond, Trigger: history.Automatic, Delivered: true, StatusCode: 200,
			}}
		}
		return st.Record(ctx, changes)
	})
}

// perDestination runs batch batches/len(dests) times for each destination,
// the destinations in parallel (one invocation each), and fails the
// benchmark with the first error.
func perDestination(b *testing.B, what string, dests []createdDestination, batches int, batch func(context.Context, createdDestination) error) {
	var wg sync.WaitGroup
	var failed sync.Once
	var failure error
	for _, d := range dests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range batches / len(dests) {
				if err := batch(context.Background(), d); err != nil {
					failed.Do(func() { failure = err })
					return
				}
			}
		}()
	}
	wg.Wait()
	if failure != nil {
		b.Fatalf("%s: %v", what, failure)
	}
}

// startReceiverProcess builds and starts bench/cmd/receiver with a
// certificate of the test CA, and returns its https URL.
func startReceiverProcess(b *testing.B, ca *testkit.CA, dir string) string {
	b.Helper()
	cfg := ca.ServerConfig(b)
	certPath, keyPath := filepath.Join(dir, "receiver.pem"), filepath.Join(dir, "receiver-key.pem")
	keyDER, err := x509.MarshalECPrivateKey(cfg.Certificates[0].PrivateKey.(*ecdsa.PrivateKey))
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cfg.Certificates[0].Certificate[0]}), 0o600); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		b.Fatal(err)
	}
	bin := filepath.Join(dir, "receiver")
	goBuild(b, ".", nil, "-o", bin, "./cmd/receiver")
	cmd := exec.Command(bin, "-cert", certPath, "-key", keyPath)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		b.Fatalf("receiver did not start: %v", err)
	}
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "listening ")
	if !ok {
		b.Fatalf("receiver said %q", line)
	}
	return "https://" + addr
}

func receiverCount(b *testing.B, c *http.Client, recvURL string) int64 {
	b.Helper()
	resp, err := c.Get(recvURL + "/count")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	n, err := strconv.ParseInt(strings.TrimSpace(string(raw)), 10, 64)
	if err != nil {
		b.Fatalf("receiver count %q: %v", raw, err)
	}
	return n
}

// goBuild runs `go build args...` in dir (relative to bench/, where go
// test runs) with extra environment.
func goBuild(b *testing.B, dir string, env []string, args ...string) {
	b.Helper()
	cmd := exec.Command("go", append([]string{"build"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go build %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

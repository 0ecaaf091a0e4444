package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/uuid"

	"github.com/hooksentry/hooksentry/pkg/app"
	"github.com/hooksentry/hooksentry/pkg/destination"
	"github.com/hooksentry/hooksentry/pkg/event"
	localstack "github.com/hooksentry/hooksentry/pkg/local/stack"
	"github.com/hooksentry/hooksentry/pkg/queue"
	"github.com/hooksentry/hooksentry/pkg/store"
)

const (
	ingestEventsDefault = 4000 // per phase and round; HOOKSENTRY_BENCH_INGEST_EVENTS overrides
	ingestClients       = 16   // concurrent webhook senders, as in the comparison
	ingestRounds        = 3    // phases alternate: a b a b a b
)

// BenchmarkIngestCPU measures the CPU this process spends per ingested
// webhook: 16 client goroutines post 1 KiB JSON webhooks over HTTP to the
// local gateway's /ingest/{token}, which runs the ingest function's handler
// (token GetItem on DynamoDB, SendMessage on SQS) exactly as `make run`
// does, with no delivery workers. The emulators are separate processes, so
// getrusage(RUSAGE_SELF) holds the clients, the gateway, the handler and
// the SDK. The clients run in this process too, so a baseline phase posts
// the same bodies with the same clients to a trivial net/http server (same
// server settings as the gateway) answering 202 {"eventId":…}; the
// difference is what the gateway, the handler and the SDK cost.
//
// The events go to a queue of their own, deleted at the end, so the
// delivery queue other benchmarks drain stays empty. The gateway serves an
// Env without the benchmarks' request counter, as deployed.
//
// A third phase makes the handler's two AWS calls alone, with the same
// concurrency and no HTTP in front, to split the difference.
//
// Set HOOKSENTRY_BENCH_CPUPROFILE=dir to write a CPU profile of each ingest
// phase (ingest-<round>.pprof; pprof merges several given together) and of
// each AWS-calls-only phase (aws-only-<round>.pprof).
func BenchmarkIngestCPU(b *testing.B) {
	perRound := ingestEventsDefault
	if v, err := strconv.Atoi(os.Getenv("HOOKSENTRY_BENCH_INGEST_EVENTS")); err == nil && v >= ingestClients {
		perRound = v
	}
	stack, _, _ := benchStack(b)
	dest := createDestination(b, tenantClient(b, stack), "https://receiver.invalid/hooks", 10)

	q := newScratchQueue(b, sqs.NewFromConfig(stack.Env.AWS), "hooksentry-bench-ingest-"+uuid.NewString()[:8])
	env := *stack.Env
	env.APIOptions = nil
	env.Config.QueueURL = q.url

	profileDir := os.Getenv("HOOKSENTRY_BENCH_CPUPROFILE")
	handler, err := localstack.Handler(&env, stack.Issuer)
	if err != nil {
		b.Fatal(err)
	}
	gatewayURL := serve(b, handler)
	baselineURL := serve(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		_, _ = io.WriteString(w, `{"eventId":"`+uuid.NewString()+`"}`+"\n")
	}))

	client := &http.Client{
		Transport: &http.Transport{MaxIdleConns: 4 * ingestClients, MaxIdleConnsPerHost: 2 * ingestClients},
		Timeout:   30 * time.Second,
	}
	defer client.CloseIdleConnections()
	bodies := make([][]byte, perRound)
	for i := range bodies {
		bodies[i] = webhookBody(costBodySize, i)
	}
	ingest := func(n int) { postAll(b, client, gatewayURL, dest.IngestToken, bodies[:n], true) }
	baseline := func(n int) { postAll(b, client, baselineURL, dest.IngestToken, bodies[:n], false) }
	calls := newAWSOnly(&env, dest)
	awsCalls := func(n int) { calls.run(b, bodies[:n]) }
	// Every phase that enqueues starts on an empty queue and must leave
	// exactly one message per event in it. An emulator holding more and
	// more messages gets slower, and this process's CPU per event grows
	// with the emulator's latency (more idle threads to wake per request),
	// which would make later phases look worse than earlier ones.
	enqueuing := func(name string, run func(int), n int) (cpu, wall, sys time.Duration) {
		dir := profileDir
		if name == "" {
			dir = "" // a warm-up
		}
		q.reset()
		s0 := sysTime(b)
		cpu, wall = measureCPU(b, dir, name, func() { run(n) })
		sys = sysTime(b) - s0
		q.expect(n)
		return cpu, wall, sys
	}
	// Warm up: connections on every side, the SDK clients.
	warm := 10 * ingestClients
	enqueuing("", ingest, warm)
	baseline(warm)
	enqueuing("", awsCalls, warm)

	var cpuA, cpuB, cpuC, wallA, wallB, sysA, sysB time.Duration
	for round := range ingestRounds {
		d, w, sy := enqueuing(fmt.Sprintf("ingest-%d", round), ingest, perRound)
		cpuA, wallA, sysA = cpuA+d, wallA+w, sysA+sy
		s0 := sysTime(b)
		d, w = measureCPU(b, "", "", func() { baseline(perRound) })
		cpuB, wallB, sysB = cpuB+d, wallB+w, sysB+sysTime(b)-s0
		// The handler's AWS calls alone, to split (a).
		d, _, _ = enqueuing(fmt.Sprintf("aws-only-%d", round), awsCalls, perRound)
		cpuC += d
	}

	n := float64(ingestRounds * perRound)
	perA := float64(cpuA.Nanoseconds()) / n / 1e3
	perB := float64(cpuB.Nanoseconds()) / n / 1e3
	perC := float64(cpuC.Nanoseconds()) / n / 1e3
	sysPerA := float64(sysA.Nanoseconds()) / n / 1e3
	sysPerB := float64(sysB.Nanoseconds()) / n / 1e3
	rateA := n / wallA.Seconds()
	rateB := n / wallB.Seconds()
	out := os.Stdout
	fmt.Fprintf(out, "\n### Ingest CPU per event\n\n")
	fmt.Fprintf(out, "%d events per phase (%d rounds, phases alternating), %d concurrent HTTP/1.1 clients in this process, 1 KiB JSON body; emulators in separate processes; CPU = user+sys of this process (getrusage).\n\n",
		ingestRounds*perRound, ingestRounds, ingestClients)
	fmt.Fprintln(out, "| Phase | CPU µs/event | of which kernel | Wall | Requests/s |")
	fmt.Fprintln(out, "|---|---:|---:|---:|---:|")
	fmt.Fprintf(out, "| (a) clients → local gateway → ingest handler → GetItem + SendMessage | %.1f | %.1f | %s | %.0f |\n", perA, sysPerA, wallA.Round(time.Millisecond), rateA)
	fmt.Fprintf(out, "| (b) the same clients → trivial net/http server (202 {\"eventId\"}) | %.1f | %.1f | %s | %.0f |\n", perB, sysPerB, wallB.Round(time.Millisecond), rateB)
	fmt.Fprintf(out, "| (a) − (b): gateway + handler + SDK | **%.1f** | %.1f | | |\n", perA-perB, sysPerA-sysPerB)
	fmt.Fprintf(out, "| (c) the handler's AWS calls alone (ResolveIngestToken + Publish, %d goroutines) | %.1f | | | |\n", ingestClients, perC)
	fmt.Fprintf(out, "| (a) − (b) − (c): gateway, API Gateway event, adapter, handler, and what running them together costs | %.1f | | | |\n", perA-perB-perC)

	b.ReportMetric(0, "ns/op")
	b.ReportMetric(perA, "total-cpu-us/event")
	b.ReportMetric(perB, "baseline-cpu-us/event")
	b.ReportMetric(perA-perB, "ingest-cpu-us/event")
	b.ReportMetric(perC, "aws-cpu-us/event")
	b.ReportMetric(rateA, "ingest-req/s")
	b.ReportMetric(sysPerA-sysPerB, "ingest-sys-us/event")
}

// sysTime is the kernel CPU time this process has used so far.
func sysTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Stime.Nano())
}

// serve serves h on a loopback port with the local stack's server settings
// until the benchmark ends, and returns its URL.
func serve(b *testing.B, h http.Handler) string {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := localstack.NewServer(h)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			b.Errorf("serve: %v", err)
		}
	}()
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
	})
	return "http://" + ln.Addr().String()
}

// postAll posts every body once to baseURL's /ingest/{token}, from
// ingestClients goroutines taking the next body in turn. With checkID, every
// answer must carry an event id minted by ingest.
func postAll(b *testing.B, c *http.Client, baseURL, token string, bodies [][]byte, checkID bool) {
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed sync.Once
	var failure error
	for range ingestClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(bodies) {
					return
				}
				id, err := postIngest(c, baseURL, token, bodies[i])
				if err == nil && checkID {
					if _, ok := event.ParseID(id); !ok {
						err = fmt.Errorf("ingest answered event id %q", id)
					}
				}
				if err != nil {
					failed.Do(func() { failure = err })
					return
				}
			}
		}()
	}
	wg.Wait()
	if failure != nil {
		b.Fatalf("post to %s: %v", baseURL, failure)
	}
}

// awsOnly makes, for every body, the two AWS calls an ingest makes (the
// token lookup and the publish), with clients built as the ingest function
// builds them, from ingestClients goroutines.
type awsOnly struct {
	tokens  *store.Store
	pub     *event.Publisher
	hash    string
	headers [][2]string
}

func newAWSOnly(env *app.Env, dest createdDestination) *awsOnly {
	return &awsOnly{
		tokens:  env.Store(),
		pub:     &event.Publisher{Queue: queue.New(env.AWSConfig(), env.Config.QueueURL), Bodies: env.Store()},
		hash:    destination.HashIngestToken(dest.IngestToken),
		headers: event.Forwardable(webhookHeaders()),
	}
}

func (a *awsOnly) run(b *testing.B, bodies [][]byte) {
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed sync.Once
	var failure error
	for range ingestClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(bodies) {
					return
				}
				destID, tenantID, found, err := a.tokens.ResolveIngestToken(ctx, a.hash)
				if err == nil && !found {
					err = errors.New("ingest token not found")
				}
				if err == nil {
					now := time.Now()
					err = a.pub.Publish(ctx, event.Message{
						Version: 1, EventID: event.NewID(destID, now), DestinationID: destID, TenantID: tenantID,
						ReceivedAt: now.UnixMilli(), ContentType: "application/json", Headers: a.headers, Body: bodies[i],
					})
				}
				if err != nil {
					failed.Do(func() { failure = err })
					return
				}
			}
		}()
	}
	wg.Wait()
	if failure != nil {
		b.Fatalf("AWS calls: %v", failure)
	}
}

// scratchQueue is an SQS queue of the benchmark's own, emptied by
// deleting and re-creating it (the emulator does both at once and the URL
// stays the same), and deleted when the benchmark ends.
type scratchQueue struct {
	b    *testing.B
	sqs  *sqs.Client
	name string
	url  string
}

func newScratchQueue(b *testing.B, c *sqs.Client, name string) *scratchQueue {
	q := &scratchQueue{b: b, sqs: c, name: name}
	q.reset()
	b.Cleanup(func() { _, _ = c.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: aws.String(q.url)}) })
	return q
}

func (q *scratchQueue) reset() {
	ctx := context.Background()
	if q.url != "" {
		if _, err := q.sqs.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: aws.String(q.url)}); err != nil {
			q.b.Fatal(err)
		}
	}
	out, err := q.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(q.name)})
	if err != nil {
		q.b.Fatal(err)
	}
	if url := aws.ToString(out.QueueUrl); q.url != "" && url != q.url {
		q.b.Fatalf("re-created queue %s has URL %s, was %s", q.name, url, q.url)
	}
	q.url = aws.ToString(out.QueueUrl)
}

// expect fails the benchmark unless the queue holds n messages.
func (q *scratchQueue) expect(n int) {
	q.b.Helper()
	if got := queueDepth(q.b, q.sqs, q.url); got != n {
		q.b.Fatalf("the queue holds %d messages, want %d", got, n)
	}
}

// queueDepth is the number of messages in the queue, visible or not.
func queueDepth(b *testing.B, c *sqs.Client, url string) int {
	b.Helper()
	out, err := c.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{
			sqstypes.QueueAttributeNameApproximateNumberOfMessages,
			sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
			sqstypes.QueueAttributeNameApproximateNumberOfMessagesDelayed,
		},
	})
	if err != nil {
		b.Fatal(err)
	}
	total := 0
	for _, v := range out.Attributes {
		n, err := strconv.Atoi(v)
		if err != nil {
			b.Fatalf("queue attribute %q: %v", v, err)
		}
		total += n
	}
	return total
}

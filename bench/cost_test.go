package bench

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/hooksentry/hooksentry/pkg/localstack"
	"github.com/hooksentry/hooksentry/pkg/testkit"
)

const (
	costEvents      = 2000 // webhooks per scenario
	costBodySize    = 1024 // bytes of JSON per webhook
	costSenders     = 8    // concurrent webhook senders
	costWorkers     = 4    // delivery pollers (event source mapping concurrency)
	costRateLimit   = 10   // the destination's serverRateLimit
	costWaitTimeout = 3 * time.Minute
)

// BenchmarkAWSCost posts 1 KiB webhooks through the local gateway's
// /ingest route, lets four delivery pollers deliver them to an HTTPS
// receiver, and counts every AWS request the stack made, by side and
// operation, to price a million delivered events.
//
//   - steady: the pollers run while webhooks arrive (production mode; the
//     local poller has no batching window, so batches are as full as the
//     arrival rate makes them).
//   - backlog: the webhooks are queued first and the pollers started
//     afterwards, so batches are full (10) and workers contend for the
//     destination's slots.
func BenchmarkAWSCost(b *testing.B) {
	stack, ca, counter := benchStack(b)
	recv := testkit.NewReceiver(b, ca)
	dest := createDestination(b, tenantClient(b, stack), recv.URL, costRateLimit)
	plain := sqs.NewFromConfig(stack.Env.AWS) // not counted: used to watch the queue
	for _, sc := range []struct {
		name string
		live bool
	}{{"steady", true}, {"backlog", false}} {
		b.Run(sc.name, func(b *testing.B) {
			runCostScenario(b, stack, counter, plain, recv, dest, sc.name, sc.live)
		})
	}
}

func runCostScenario(b *testing.B, stack *localstack.Stack, counter *awsCounter, plain *sqs.Client, recv *testkit.Receiver, dest createdDestination, name string, live bool) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	poller, err := localstack.NewPoller(ctx, stack.Env, costWorkers)
	if err != nil {
		b.Fatal(err)
	}
	var pollers sync.WaitGroup
	startPollers := func() {
		pollers.Add(1)
		go func() { defer pollers.Done(); poller.Run(ctx) }()
	}
	bodies := make([][]byte, costEvents)
	for i := range bodies {
		bodies[i] = webhookBody(costBodySize, i)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: costSenders}, Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()

	counter.Reset()
	b.ResetTimer()
	start := time.Now()
	if live {
		startPollers()
	}
	ids := make([]string, costEvents)
	latencies := make([]time.Duration, costEvents)
	var wg sync.WaitGroup
	var firstErr error
	var errOnce sync.Once
	next := make(chan int)
	for range costSenders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				t0 := time.Now()
				id, err := postIngest(client, stack.URL, dest.IngestToken, bodies[i])
				latencies[i] = time.Since(t0)
				if err != nil {
					errOnce.Do(func() { firstErr = err })
					continue
				}
				ids[i] = id
			}
		}()
	}
	for i := range costEvents {
		next <- i
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		b.Fatalf("ingest: %v", firstErr)
	}
	ingestDone := time.Since(start)
	if !live {
		startPollers()
	}

	want := make(map[string]bool, costEvents)
	for _, id := range ids {
		want[id] = true
	}
	var delivered, duplicates int
	deadline := time.Now().Add(costWaitTimeout)
	for {
		seen := map[string]int{}
		for _, r := range recv.Requests() {
			if id := r.Header.Get("Webhook-Id"); want[id] {
				seen[id]++
			}
		}
		delivered, duplicates = len(seen), 0
		for _, n := range seen {
			duplicates += n - 1
		}
		if delivered == costEvents && queueEmpty(ctx, plain, stack.Env.Config.QueueURL) {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("%s: only %d of %d events delivered after %s", name, delivered, costEvents, costWaitTimeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
	elapsed := time.Since(start)
	cancel()
	pollers.Wait()
	b.StopTimer()
	stats := counter.Snapshot()

	invocations := 0
	var empty int64
	for k, s := range stats {
		if k.Side == sideDelivery && k.Service == "SQS" && k.Operation == "ReceiveMessage" {
			invocations += int(s.Calls)
		}
		if k.Operation == "ReceiveMessage (empty)" {
			empty += s.Attempts
		}
	}
	model := priceRun(stats, costEvents, delivered, invocations)

	out := os.Stdout
	fmt.Fprintf(out, "\n### AWS requests per delivered event — %s\n\n", name)
	fmt.Fprintf(out, "%d webhooks of %d bytes, %d senders, %d pollers, serverRateLimit %d: ingest took %s (p50 %s, p99 %s per request on the local stack), all delivered after %s; %d duplicate deliveries; %d deliver invocations (%.2f events per batch); %d empty receives (not per event).\n",
		costEvents, costBodySize, costSenders, costWorkers, costRateLimit, ingestDone.Round(time.Millisecond),
		median(latencies).Round(10*time.Microsecond), percentile(latencies, 0.99).Round(10*time.Microsecond),
		elapsed.Round(time.Millisecond), duplicates, invocations, float64(delivered)/float64(max(invocations, 1)), empty)
	writeRequests(out, stats, delivered)
	model.write(out, "Cost model, "+name)

	var perEvent float64
	for k, s := range stats {
		if k.Side != sideOther && k.Operation != "ReceiveMessage (empty)" {
			perEvent += float64(s.Attempts)
		}
	}
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(perEvent/float64(delivered), "aws-req/event")
	b.ReportMetric(model.Total, "usd/million")
	b.ReportMetric(float64(delivered)/float64(max(invocations, 1)), "events/batch")
	b.ReportMetric(model.RRU, "rru/event")
	b.ReportMetric(model.WRU, "wru/event")
}

// queueEmpty reports whether the delivery queue holds no message at all,
// visible, in flight or delayed.
func queueEmpty(ctx context.Context, c *sqs.Client, url string) bool {
	out, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{
			sqstypes.QueueAttributeNameApproximateNumberOfMessages,
			sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
			sqstypes.QueueAttributeNameApproximateNumberOfMessagesDelayed,
		},
	})
	if err != nil {
		return false
	}
	for _, v := range out.Attributes {
		if n, err := strconv.Atoi(v); err != nil || n != 0 {
			return false
		}
	}
	return true
}

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

	localstack "github.com/hooksentry/hooksentry/pkg/local/stack"
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

// costScenario is one way webhooks arrive.
type costScenario struct {
	name   string
	events int
	live   bool    // pollers run while webhooks arrive
	rate   float64 // webhooks per second from one sender; 0: costSenders as fast as they can
	// noHistory runs the deliver function without recording history, the
	// baseline of what recording costs (the product always records).
	noHistory bool
	// dedup posts to a destination with deduplication on the body's id
	// (every webhook has its own): what one claim per event costs.
	dedup bool
}

// BenchmarkAWSCost posts 1 KiB webhooks through the local gateway's
// /ingest route, lets four delivery pollers deliver them to an HTTPS
// receiver, and counts every AWS request the stack made, by side and
// operation, to price a million delivered events.
//
//   - steady: the pollers run while webhooks arrive as fast as 8 senders
//     can post them (production mode).
//   - backlog: the webhooks are queued first and the pollers started
//     afterwards (a destination recovering from an outage).
//   - trickle: 8 webhooks per second, so batches stay small.
//   - steady-with-dedup: steady, to a destination with deduplication
//     (ingest reads the destination and claims each event's key).
//
// The local SQS emulator answers a long poll only when it has 10 messages
// or the wait (1 s) is over, which is what the deliver event source
// mapping's MaximumBatchingWindowInSeconds: 1 does in AWS.
func BenchmarkAWSCost(b *testing.B) {
	stack, ca, counter := benchStack(b)
	recv := testkit.NewReceiver(b, ca)
	tenant := tenantClient(b, stack)
	dest := createDestination(b, tenant, recv.URL, costRateLimit)
	deduplicated := createDestinationWith(b, tenant, recv.URL, costRateLimit, map[string]any{
		"deduplication": map[string]any{"key": "body:id", "window": "1h"},
	})
	plain := sqs.NewFromConfig(stack.Env.AWS) // not counted: used to watch the queue
	var steady costUsage                      // what steady-with-dedup is compared with
	for _, sc := range []costScenario{
		{name: "steady", events: costEvents, live: true},
		{name: "steady-without-history", events: costEvents, live: true, noHistory: true},
		{name: "steady-with-dedup", events: costEvents, live: true, dedup: true},
		{name: "backlog", events: costEvents},
		{name: "trickle", events: 160, live: true, rate: 8},
	} {
		b.Run(sc.name, func(b *testing.B) {
			d := dest
			if sc.dedup {
				d = deduplicated
			}
			use, total := runCostScenario(b, stack, counter, plain, recv, d, sc)
			switch {
			case sc.name == "steady":
				steady = costUsage{use, total}
			case sc.dedup && steady.total > 0:
				fmt.Fprintf(os.Stdout, "\nDeduplication adds $%.2f per million events to steady ($%.2f): %+.3f WRU and %+.3f RRU per event (a conditional write of the claim and its confirmation; the destination is read once per warm ingest function, not per event). The targets apply to destinations without deduplication.\n",
					total-steady.total, steady.total, use.WRU-steady.use.WRU, use.RRU-steady.use.RRU)
			}
		})
	}
}

// costUsage is a scenario's measured usage and its price per million.
type costUsage struct {
	use   usage
	total float64
}

func runCostScenario(b *testing.B, stack *localstack.Stack, counter *awsCounter, plain *sqs.Client, recv *testkit.Receiver, dest createdDestination, sc costScenario) (usage, float64) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	poller, err := localstack.NewPoller(ctx, stack.Env, costWorkers)
	if err != nil {
		b.Fatal(err)
	}
	if sc.noHistory {
		w, err := localstack.Functions{Env: stack.Env}.Worker()
		if err != nil {
			b.Fatal(err)
		}
		w.History = nil
		poller.Handler = w.Handle
	}
	var pollers sync.WaitGroup
	startPollers := func() {
		pollers.Add(1)
		go func() { defer pollers.Done(); poller.Run(ctx) }()
	}
	bodies := make([][]byte, sc.events)
	for i := range bodies {
		bodies[i] = webhookBody(costBodySize, i)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: costSenders}, Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()

	counter.Reset()
	b.ResetTimer()
	start := time.Now()
	if sc.live {
		startPollers()
	}
	ids := make([]string, sc.events)
	latencies := make([]time.Duration, sc.events)
	var wg sync.WaitGroup
	var firstErr error
	var errOnce sync.Once
	next := make(chan int)
	senders := costSenders
	if sc.rate > 0 {
		senders = 1
	}
	for range senders {
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
	for i := range sc.events {
		if sc.rate > 0 {
			time.Sleep(time.Until(start.Add(time.Duration(float64(i) / sc.rate * float64(time.Second)))))
		}
		next <- i
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		b.Fatalf("ingest: %v", firstErr)
	}
	ingestDone := time.Since(start)
	if !sc.live {
		startPollers()
	}

	want := make(map[string]bool, sc.events)
	for _, id := range ids {
		want[id] = true
	}
	var delivered, duplicates int
	deadline := time.Now().Add(costWaitTimeout)
	for {
		seen := map[string]int{}
		for _, r := range recv.Requests() {
			if id := r.Header.Get("HookSentry-Event-Id"); want[id] {
				seen[id]++
			}
		}
		delivered, duplicates = len(seen), 0
		for _, n := range seen {
			duplicates += n - 1
		}
		if delivered == sc.events && queueEmpty(ctx, plain, stack.Env.Config.QueueURL) {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("%s: only %d of %d events delivered after %s", sc.name, delivered, sc.events, costWaitTimeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
	elapsed := time.Since(start)
	cancel()
	pollers.Wait()
	b.StopTimer()
	stats := counter.Snapshot()
	// A long poll abandoned by a stopping poller stays open in the emulator
	// for up to its wait time and would hide messages of the next scenario
	// for a whole visibility timeout.
	time.Sleep(1500 * time.Millisecond)

	invocations := 0
	var empty, perEvent float64
	for k, s := range stats {
		switch {
		case k.Operation == "ReceiveMessage (empty)":
			empty += float64(s.Attempts)
			continue
		case k.Side == sideDelivery && k.Service == "SQS" && k.Operation == "ReceiveMessage":
			invocations += int(s.Calls - s.Errors)
		}
		if k.Side != sideOther {
			perEvent += float64(s.Attempts)
		}
	}
	use := measureUsage(stats, sc.events, delivered, invocations)
	model := price(use)

	out := os.Stdout
	fmt.Fprintf(out, "\n### AWS requests per delivered event: %s\n\n", sc.name)
	how := fmt.Sprintf("%d senders as fast as they can", costSenders)
	if sc.rate > 0 {
		how = fmt.Sprintf("1 sender at %.0f/s", sc.rate)
	}
	fmt.Fprintf(out, "%d webhooks of %d bytes (%s), %d pollers, serverRateLimit %d. Ingest took %s (per request on the local stack: p50 %s, p99 %s); all delivered after %s; %d duplicate deliveries; %d deliver invocations (%.2f events per batch); %.0f empty receives (not per event); %d calls cancelled by stopping pollers (not counted).\n",
		sc.events, costBodySize, how, costWorkers, costRateLimit, ingestDone.Round(time.Millisecond),
		median(latencies).Round(10*time.Microsecond), percentile(latencies, 0.99).Round(10*time.Microsecond),
		elapsed.Round(time.Millisecond), duplicates, invocations, float64(delivered)/float64(max(invocations, 1)), empty, counter.Cancelled())
	writeRequests(out, stats, delivered)
	target := targetWithHistoryUSDPerMillion
	switch {
	case sc.noHistory:
		target = targetUSDPerMillion
	case sc.dedup:
		target = 0 // compared with steady instead
	}
	model.write(out, "Cost model, "+sc.name, target)
	fmt.Fprintf(out, "\nThe same run priced at other batch fills (measured cost per batch kept):\n")
	writeFillTable(out, use)

	b.ReportMetric(0, "ns/op")
	b.ReportMetric(perEvent/float64(delivered), "aws-req/event")
	b.ReportMetric(model.Total, "usd/million")
	b.ReportMetric(float64(delivered)/float64(max(invocations, 1)), "events/batch")
	b.ReportMetric(use.RRU, "rru/event")
	b.ReportMetric(use.WRU, "wru/event")
	return use, model.Total
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

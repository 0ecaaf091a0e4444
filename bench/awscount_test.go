package bench

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go/middleware"
)

// Sides of the pipeline a request is attributed to, from the call stack of
// the goroutine that made it (the SDK runs middleware on the caller's
// goroutine).
const (
	sideIngest   = "ingest"
	sideDelivery = "delivery"
	sideOther    = "other" // setup, management API, sweeper
)

// opKey names one row of the request table.
type opKey struct {
	Side, Service, Operation string
}

// opStat accumulates what one kind of request cost.
type opStat struct {
	Calls    int64 // SDK operation calls
	Attempts int64 // HTTP requests sent (retries included): what AWS bills
	Errors   int64 // calls that ended in an error (e.g. ConditionalCheckFailed)
	// DynamoDB capacity units as reported by the emulator through
	// ReturnConsumedCapacity; UnitsEstimated counts calls that reported
	// none (errors) and were charged 1 unit by estimate.
	Units          float64
	UnitsEstimated int64
	Chunks         int64 // SQS: 64 KiB payload chunks, each billed as a request
	Messages       int64 // SQS ReceiveMessage: messages returned
}

// awsCounter is SDK middleware that counts every AWS request a client built
// with its Option makes. For DynamoDB it also asks for
// ReturnConsumedCapacity=TOTAL, so the emulator reports the capacity units
// DynamoDB would bill; the application never reads that field.
type awsCounter struct {
	mu    sync.Mutex
	stats map[opKey]*opStat
	// cancelled counts calls abandoned because their context ended (pollers
	// stopping between scenarios); they are not in stats.
	cancelled int64
}

func newAWSCounter() *awsCounter { return &awsCounter{stats: map[opKey]*opStat{}} }

// Option adds the counter to an aws.Config (app.Env.APIOptions).
func (c *awsCounter) Option(cfg *aws.Config) {
	cfg.APIOptions = append(cfg.APIOptions, func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("benchCountRequests", c.handle), middleware.After)
	})
	// KMS is called through pkg/kmsjson, which has no middleware stack:
	// its requests are counted at the HTTP client instead.
	base := cfg.HTTPClient
	if base == nil {
		base = awshttp.NewBuildableClient() // what both the SDK and kmsjson use by default
	}
	cfg.HTTPClient = kmsCountingClient{c: c, next: base}
}

// kmsCountingClient counts the KMS JSON requests (X-Amz-Target
// TrentService.*) sent through it, and passes everything on. It sees
// attempts, not calls: a retried call counts once per attempt in both.
type kmsCountingClient struct {
	c    *awsCounter
	next aws.HTTPClient
}

func (k kmsCountingClient) Do(req *http.Request) (*http.Response, error) {
	op, ok := strings.CutPrefix(req.Header.Get("X-Amz-Target"), "TrentService.")
	if !ok {
		return k.next.Do(req)
	}
	side := callerSide()
	resp, err := k.next.Do(req)
	c := k.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil && errors.Is(err, context.Canceled) {
		c.cancelled++
		return resp, err
	}
	key := opKey{Side: side, Service: "KMS", Operation: op}
	st := c.stats[key]
	if st == nil {
		st = &opStat{}
		c.stats[key] = st
	}
	st.Calls++
	st.Attempts++
	if err != nil || resp.StatusCode >= 300 {
		st.Errors++
	}
	return resp, err
}

// Reset forgets everything counted so far.
func (c *awsCounter) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stats = map[opKey]*opStat{}
	c.cancelled = 0
}

// Cancelled returns how many calls were dropped as cancelled.
func (c *awsCounter) Cancelled() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cancelled
}

// Snapshot returns a copy of the counts.
func (c *awsCounter) Snapshot() map[opKey]opStat {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[opKey]opStat, len(c.stats))
	for k, v := range c.stats {
		out[k] = *v
	}
	return out
}

func (c *awsCounter) handle(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
	side := callerSide()
	askCapacity(in.Parameters)
	out, md, err := next.HandleInitialize(ctx, in)

	key := opKey{Side: side, Service: awsmiddleware.GetServiceID(ctx), Operation: awsmiddleware.GetOperationName(ctx)}
	attempts := int64(1)
	if r, ok := retry.GetAttemptResults(md); ok && len(r.Results) > 0 {
		attempts = int64(len(r.Results))
	}
	units, reported := consumedUnits(out.Result)
	chunks, messages := sqsPayload(in.Parameters, out.Result)
	if key.Operation == "ReceiveMessage" && err == nil && messages == 0 {
		key.Operation = "ReceiveMessage (empty)"
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil && errors.Is(err, context.Canceled) {
		c.cancelled++
		return out, md, err
	}
	st := c.stats[key]
	if st == nil {
		st = &opStat{}
		c.stats[key] = st
	}
	st.Calls++
	st.Attempts += attempts
	if err != nil {
		st.Errors++
	}
	if key.Service == "DynamoDB" {
		if reported {
			st.Units += units
		} else {
			// A failed conditional write still consumes capacity; one unit
			// per attempt is the minimum DynamoDB charges.
			st.Units += float64(attempts)
			st.UnitsEstimated++
		}
	}
	if key.Service == "SQS" {
		st.Chunks += max(chunks, 1) * attempts
		st.Messages += messages
	}
	return out, md, err
}

// callerSide attributes a request to the part of HookSentry that made it.
func callerSide() string {
	pcs := make([]uintptr, 128)
	n := runtime.Callers(3, pcs)
	frames := runtime.CallersFrames(pcs[:n])
	for {
		f, more := frames.Next()
		switch {
		case strings.Contains(f.Function, "hooksentry/pkg/ingest."):
			return sideIngest
		case strings.Contains(f.Function, "hooksentry/pkg/delivery."), strings.Contains(f.Function, "hooksentry/pkg/local/esm."):
			return sideDelivery
		}
		if !more {
			return sideOther
		}
	}
}

func askCapacity(params any) {
	total := ddbtypes.ReturnConsumedCapacityTotal
	switch p := params.(type) {
	case *dynamodb.GetItemInput:
		p.ReturnConsumedCapacity = total
	case *dynamodb.QueryInput:
		p.ReturnConsumedCapacity = total
	case *dynamodb.PutItemInput:
		p.ReturnConsumedCapacity = total
	case *dynamodb.UpdateItemInput:
		p.ReturnConsumedCapacity = total
	case *dynamodb.DeleteItemInput:
		p.ReturnConsumedCapacity = total
	case *dynamodb.BatchWriteItemInput:
		p.ReturnConsumedCapacity = total
	case *dynamodb.BatchGetItemInput:
		p.ReturnConsumedCapacity = total
	}
}

func consumedUnits(result any) (float64, bool) {
	one := func(c *ddbtypes.ConsumedCapacity) (float64, bool) {
		if c == nil || c.CapacityUnits == nil {
			return 0, false
		}
		return *c.CapacityUnits, true
	}
	many := func(cs []ddbtypes.ConsumedCapacity) (float64, bool) {
		var sum float64
		for _, c := range cs {
			if c.CapacityUnits != nil {
				sum += *c.CapacityUnits
			}
		}
		return sum, len(cs) > 0
	}
	switch r := result.(type) {
	case *dynamodb.GetItemOutput:
		return one(r.ConsumedCapacity)
	case *dynamodb.QueryOutput:
		return one(r.ConsumedCapacity)
	case *dynamodb.PutItemOutput:
		return one(r.ConsumedCapacity)
	case *dynamodb.UpdateItemOutput:
		return one(r.ConsumedCapacity)
	case *dynamodb.DeleteItemOutput:
		return one(r.ConsumedCapacity)
	case *dynamodb.BatchWriteItemOutput:
		return many(r.ConsumedCapacity)
	case *dynamodb.BatchGetItemOutput:
		return many(r.ConsumedCapacity)
	}
	return 0, false
}

// sqsPayload returns how many 64 KiB chunks a request is billed as, and
// how many messages a ReceiveMessage returned.
func sqsPayload(params, result any) (chunks, messages int64) {
	const chunk = 64 << 10
	n := 0
	switch p := params.(type) {
	case *sqs.SendMessageInput:
		n = len(aws.ToString(p.MessageBody))
	case *sqs.SendMessageBatchInput:
		for _, e := range p.Entries {
			n += len(aws.ToString(e.MessageBody))
		}
	}
	if r, ok := result.(*sqs.ReceiveMessageOutput); ok && r != nil {
		for _, m := range r.Messages {
			n += len(aws.ToString(m.Body))
		}
		messages = int64(len(r.Messages))
	}
	return int64((n + chunk - 1) / chunk), messages
}

// sortedKeys orders rows by side, service and operation.
func sortedKeys(m map[opKey]opStat) []opKey {
	keys := make([]opKey, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	order := map[string]int{sideIngest: 0, sideDelivery: 1, sideOther: 2}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.Side != b.Side {
			return order[a.Side] < order[b.Side]
		}
		if a.Service != b.Service {
			return a.Service < b.Service
		}
		return a.Operation < b.Operation
	})
	return keys
}

func (k opKey) String() string { return fmt.Sprintf("%s %s.%s", k.Side, k.Service, k.Operation) }

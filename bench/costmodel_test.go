package bench

import (
	"fmt"
	"io"
	"strings"
)

// us-east-1 list prices (USD), checked for docs/PERFORMANCE.md. Free tiers
// and volume discounts are ignored.
const (
	priceHTTPAPIPerMillion       = 1.00         // API Gateway HTTP API, first 300 M requests/month (512 KB metering)
	priceLambdaRequestPerMillion = 0.20         // Lambda invocations
	priceLambdaArmPerGBSecond    = 0.0000133334 // Lambda arm64 duration, first 6 B GB-s/month
	priceSQSPerMillion           = 0.40         // SQS standard; each 64 KiB chunk of a request is one request
	priceDynamoWRUPerMillion     = 0.625        // DynamoDB on-demand write request units (since 1 Nov 2024)
	priceDynamoRRUPerMillion     = 0.125        // DynamoDB on-demand read request units (since 1 Nov 2024)
	priceKMSPer10k               = 0.03         // KMS symmetric API requests

	// Function sizes from template.yaml.
	ingestMemoryGB  = 128.0 / 1024
	deliverMemoryGB = 256.0 / 1024

	// Billed durations assumed for AWS (1 ms granularity). Local emulator
	// latencies say nothing about AWS's, so these are stated, not measured:
	// ingest = 1 GetItem (~5 ms) + 1 SendMessage (~10 ms) + handler (~2 ms),
	// rounded up to 20 ms; deliver = 3 DynamoDB calls (~5 ms each) plus one
	// round of parallel posts to a destination answering in 100 ms, rounded
	// up to 120 ms per invocation (batch).
	ingestBilledMs  = 20.0
	deliverBilledMs = 120.0

	// Target from the performance brief.
	targetUSDPerMillion = 2.50
)

// costLine is one line of the cost model, in USD per million delivered events.
type costLine struct {
	Item   string
	Basis  string
	PerM   float64
	Detail string
}

// costModel prices what a run counted. delivered is the number of events
// delivered, ingested the number accepted by /ingest, invocations the number
// of deliver invocations (non-empty batches).
type costModel struct {
	Lines []costLine
	Total float64
	// Per delivered event.
	RRU, WRU, SQSRequests, KMSRequests float64
}

func priceRun(stats map[opKey]opStat, ingested, delivered, invocations int) costModel {
	perM := 1e6 / float64(delivered)
	var rru, wru, sqsChunks, kms float64
	for k, s := range stats {
		if k.Side == sideOther {
			continue // setup and management: not per event
		}
		switch k.Service {
		case "DynamoDB":
			switch k.Operation {
			case "GetItem", "Query", "Scan", "BatchGetItem":
				rru += s.Units
			default:
				wru += s.Units
			}
		case "SQS":
			if k.Operation == "ReceiveMessage (empty)" {
				continue // time-driven, priced separately as a fixed cost
			}
			sqsChunks += float64(s.Chunks)
		case "KMS":
			kms += float64(s.Attempts)
		}
	}
	ing, inv := float64(ingested), float64(invocations)
	lines := []costLine{
		{"API Gateway HTTP API", "1 request per ingest", ing * perM / 1e6 * priceHTTPAPIPerMillion, fmt.Sprintf("%.3f req/event", ing/float64(delivered))},
		{"Lambda requests (ingest)", "1 invocation per ingest", ing * perM / 1e6 * priceLambdaRequestPerMillion, ""},
		{"Lambda duration (ingest)", fmt.Sprintf("128 MB × %.0f ms", ingestBilledMs), ing * perM * ingestMemoryGB * ingestBilledMs / 1000 * priceLambdaArmPerGBSecond, ""},
		{"Lambda requests (deliver)", "1 invocation per batch", inv * perM / 1e6 * priceLambdaRequestPerMillion, fmt.Sprintf("%.2f events/batch", float64(delivered)/inv)},
		{"Lambda duration (deliver)", fmt.Sprintf("256 MB × %.0f ms per batch", deliverBilledMs), inv * perM * deliverMemoryGB * deliverBilledMs / 1000 * priceLambdaArmPerGBSecond, ""},
		{"SQS", "64 KiB chunks, empty receives excluded", sqsChunks * perM / 1e6 * priceSQSPerMillion, fmt.Sprintf("%.3f req/event", sqsChunks/float64(delivered))},
		{"DynamoDB reads", "RRU from ConsumedCapacity", rru * perM / 1e6 * priceDynamoRRUPerMillion, fmt.Sprintf("%.3f RRU/event", rru/float64(delivered))},
		{"DynamoDB writes", "WRU from ConsumedCapacity", wru * perM / 1e6 * priceDynamoWRUPerMillion, fmt.Sprintf("%.3f WRU/event", wru/float64(delivered))},
		{"KMS", "requests", kms * perM / 1e4 * priceKMSPer10k, fmt.Sprintf("%.5f req/event", kms/float64(delivered))},
	}
	m := costModel{Lines: lines, RRU: rru / float64(delivered), WRU: wru / float64(delivered), SQSRequests: sqsChunks / float64(delivered), KMSRequests: kms / float64(delivered)}
	for _, l := range lines {
		m.Total += l.PerM
	}
	return m
}

func (m costModel) write(w io.Writer, title string) {
	fmt.Fprintf(w, "\n%s — USD per million delivered 1 KiB webhooks (us-east-1 list prices)\n\n", title)
	fmt.Fprintln(w, "| Item | Basis | USD / M events | Measured |")
	fmt.Fprintln(w, "|---|---|---:|---|")
	for _, l := range m.Lines {
		fmt.Fprintf(w, "| %s | %s | %.4f | %s |\n", l.Item, l.Basis, l.PerM, l.Detail)
	}
	verdict := "meets"
	if m.Total > targetUSDPerMillion {
		verdict = "MISSES"
	}
	fmt.Fprintf(w, "| **Total** | | **%.2f** | %s the ≤ %.2f target |\n", m.Total, verdict, targetUSDPerMillion)
}

// writeRequests prints the request table of a run, per delivered event.
func writeRequests(w io.Writer, stats map[opKey]opStat, delivered int) {
	fmt.Fprintln(w, "\n| Side | Service | Operation | Requests | Per event | Billing units per event |")
	fmt.Fprintln(w, "|---|---|---|---:|---:|---|")
	sides := map[string]float64{}
	for _, k := range sortedKeys(stats) {
		s := stats[k]
		units := ""
		switch k.Service {
		case "DynamoDB":
			kind := "WRU"
			if k.Operation == "GetItem" || k.Operation == "Query" || k.Operation == "Scan" || k.Operation == "BatchGetItem" {
				kind = "RRU"
			}
			units = fmt.Sprintf("%.3f %s", s.Units/float64(delivered), kind)
			if s.UnitsEstimated > 0 {
				units += fmt.Sprintf(" (%d failed conditional writes, 1 unit each by estimate)", s.UnitsEstimated)
			}
		case "SQS":
			units = fmt.Sprintf("%.3f requests (64 KiB chunks)", float64(s.Chunks)/float64(delivered))
			if s.Messages > 0 {
				units += fmt.Sprintf("; %.2f messages/receive", float64(s.Messages)/float64(s.Calls))
			}
		case "KMS":
			units = fmt.Sprintf("%.5f requests", float64(s.Attempts)/float64(delivered))
		}
		op := k.Operation
		if s.Errors > 0 {
			op += fmt.Sprintf(" (%d errors)", s.Errors)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %d | %.3f | %s |\n", k.Side, k.Service, op, s.Attempts, float64(s.Attempts)/float64(delivered), units)
		if k.Operation != "ReceiveMessage (empty)" {
			sides[k.Side] += float64(s.Attempts)
		}
	}
	var parts []string
	total := 0.0
	for _, side := range []string{sideIngest, sideDelivery, sideOther} {
		if v, ok := sides[side]; ok {
			parts = append(parts, fmt.Sprintf("%s %.3f", side, v/float64(delivered)))
			if side != sideOther {
				total += v
			}
		}
	}
	fmt.Fprintf(w, "\nAWS requests per delivered event (empty receives excluded): %s; ingest+delivery %.3f\n", strings.Join(parts, ", "), total/float64(delivered))
}

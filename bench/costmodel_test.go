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
	targetUSDPerMillion = 2.50 // without history
	// targetWithHistoryUSDPerMillion is the target with every event's
	// history recorded (the product as shipped).
	targetWithHistoryUSDPerMillion = 3.00
)

// costLine is one line of the cost model, in USD per million delivered events.
type costLine struct {
	Item   string
	Basis  string
	PerM   float64
	Detail string
}

// usage is what one delivered event costs in billable units, split into
// the ingest side (per event) and the delivery side (per batch, divided by
// the batch fill).
type usage struct {
	Ingests      float64 // API Gateway requests and ingest invocations
	Invocations  float64 // deliver invocations (batches)
	SQS          float64 // SQS requests (64 KiB chunks), empty receives excluded
	RRU, WRU     float64
	KMS          float64
	ingestSide   *usage // the part of the above made by ingest
	deliverySide *usage // the part made by delivery (scales with 1/fill)
}

// measureUsage turns a run's counts into usage per delivered event.
func measureUsage(stats map[opKey]opStat, ingested, delivered, invocations int) usage {
	d := float64(delivered)
	in := &usage{Ingests: float64(ingested) / d}
	out := &usage{Invocations: float64(invocations) / d}
	for k, s := range stats {
		var u *usage
		switch k.Side {
		case sideIngest:
			u = in
		case sideDelivery:
			u = out
		default:
			continue // setup and management: not per event
		}
		switch k.Service {
		case "DynamoDB":
			if isRead(k.Operation) {
				u.RRU += s.Units / d
			} else {
				u.WRU += s.Units / d
			}
		case "SQS":
			if k.Operation != "ReceiveMessage (empty)" { // time-driven: a fixed cost
				u.SQS += float64(s.Chunks) / d
			}
		case "KMS":
			u.KMS += float64(s.Attempts) / d
		}
	}
	return combine(in, out)
}

func combine(in, out *usage) usage {
	return usage{
		Ingests: in.Ingests, Invocations: out.Invocations,
		SQS: in.SQS + out.SQS, RRU: in.RRU + out.RRU, WRU: in.WRU + out.WRU, KMS: in.KMS + out.KMS,
		ingestSide: in, deliverySide: out,
	}
}

// atFill rescales the delivery side to batches of fill events, keeping
// what each batch costs as measured.
func (u usage) atFill(fill float64) usage {
	out := *u.deliverySide
	k := (1 / fill) / out.Invocations
	scaled := &usage{Invocations: 1 / fill, SQS: out.SQS * k, RRU: out.RRU * k, WRU: out.WRU * k, KMS: out.KMS * k}
	return combine(u.ingestSide, scaled)
}

func isRead(op string) bool {
	return op == "GetItem" || op == "Query" || op == "Scan" || op == "BatchGetItem"
}

// costModel prices usage in USD per million delivered events.
type costModel struct {
	Lines []costLine
	Total float64
}

func price(u usage) costModel {
	const m = 1e6
	lines := []costLine{
		{"API Gateway HTTP API", "1 request per ingest", u.Ingests * m / 1e6 * priceHTTPAPIPerMillion, fmt.Sprintf("%.3f req/event", u.Ingests)},
		{"Lambda requests (ingest)", "1 invocation per ingest", u.Ingests * m / 1e6 * priceLambdaRequestPerMillion, ""},
		{"Lambda duration (ingest)", fmt.Sprintf("128 MB × %.0f ms (assumed)", ingestBilledMs), u.Ingests * m * ingestMemoryGB * ingestBilledMs / 1000 * priceLambdaArmPerGBSecond, ""},
		{"Lambda requests (deliver)", "1 invocation per batch", u.Invocations * m / 1e6 * priceLambdaRequestPerMillion, fmt.Sprintf("%.2f events/batch", 1/u.Invocations)},
		{"Lambda duration (deliver)", fmt.Sprintf("256 MB × %.0f ms per batch (assumed)", deliverBilledMs), u.Invocations * m * deliverMemoryGB * deliverBilledMs / 1000 * priceLambdaArmPerGBSecond, ""},
		{"SQS", "64 KiB chunks; empty receives excluded", u.SQS * m / 1e6 * priceSQSPerMillion, fmt.Sprintf("%.3f req/event", u.SQS)},
		{"DynamoDB reads", "RRU (emulator's ConsumedCapacity)", u.RRU * m / 1e6 * priceDynamoRRUPerMillion, fmt.Sprintf("%.3f RRU/event", u.RRU)},
		{"DynamoDB writes", "WRU (emulator's ConsumedCapacity)", u.WRU * m / 1e6 * priceDynamoWRUPerMillion, fmt.Sprintf("%.3f WRU/event", u.WRU)},
		{"KMS", "requests", u.KMS * m / 1e4 * priceKMSPer10k, fmt.Sprintf("%.5f req/event", u.KMS)},
	}
	cm := costModel{Lines: lines}
	for _, l := range lines {
		cm.Total += l.PerM
	}
	return cm
}

func (m costModel) write(w io.Writer, title string, target float64) {
	fmt.Fprintf(w, "\n%s — USD per million delivered 1 KiB webhooks (us-east-1 list prices)\n\n", title)
	fmt.Fprintln(w, "| Item | Basis | USD / M events | Measured |")
	fmt.Fprintln(w, "|---|---|---:|---|")
	for _, l := range m.Lines {
		fmt.Fprintf(w, "| %s | %s | %.4f | %s |\n", l.Item, l.Basis, l.PerM, l.Detail)
	}
	if target <= 0 {
		fmt.Fprintf(w, "| **Total** | | **%.2f** | no target of its own (an opt-in feature) |\n", m.Total)
		return
	}
	verdict := "meets"
	if m.Total > target {
		verdict = "MISSES"
	}
	fmt.Fprintf(w, "| **Total** | | **%.2f** | %s the ≤ %.2f target |\n", m.Total, verdict, target)
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
			if isRead(k.Operation) {
				kind = "RRU"
			}
			units = fmt.Sprintf("%.3f %s", s.Units/float64(delivered), kind)
			if s.UnitsEstimated > 0 {
				units += fmt.Sprintf(" (%d failed conditional writes, 1 unit each by estimate)", s.UnitsEstimated)
			}
		case "SQS":
			units = fmt.Sprintf("%.3f requests (64 KiB chunks)", float64(s.Chunks)/float64(delivered))
			if s.Messages > 0 {
				units += fmt.Sprintf("; %.2f messages/receive", float64(s.Messages)/float64(s.Calls-s.Errors))
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

// writeFillTable prices the run again at other batch fills, keeping the
// measured ingest side and the measured cost of one batch.
func writeFillTable(w io.Writer, u usage) {
	fmt.Fprintln(w, "\n| Events per batch | SQS req/event | RRU/event | WRU/event | USD / M events |")
	fmt.Fprintln(w, "|---:|---:|---:|---:|---:|")
	for _, f := range []float64{1, 2, 5, 10} {
		v := u.atFill(f)
		fmt.Fprintf(w, "| %.0f | %.3f | %.3f | %.3f | %.2f |\n", f, v.SQS, v.RRU, v.WRU, price(v).Total)
	}
}

// Package events_test runs every sample event in events/ through the handler
// its function starts — what `sam local invoke` would run — against the
// emulators, and checks the responses.
package events_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/hooksentry/hooksentry/pkg/destination"
	"github.com/hooksentry/hooksentry/pkg/event"
	"github.com/hooksentry/hooksentry/pkg/history"
	localstack "github.com/hooksentry/hooksentry/pkg/local/stack"
	"github.com/hooksentry/hooksentry/pkg/openapi/openapitest"
	"github.com/hooksentry/hooksentry/pkg/store"
	"github.com/hooksentry/hooksentry/pkg/testkit"
)

// The sample events name this tenant, destination and ingest token.
const (
	tenantID      = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
	destinationID = "7d8e9f0a-1b2c-4d3e-8f5a-6b7c8d9e0f1a"
	ingestToken   = "dst_5f8a3b2c1d9e4f6a7b8c9d0e1f2a3b4c"
)

// The samples of the events API (CONTRACT §5) read and replay two events of
// the destination, which the test records as the deliver function would:
// both received between 13:00 and 14:00 UTC on 2026-07-03 (their ids carry
// the time and the destination's route), both Failed after one attempt.
// get-event.json and replay-event.json name the first.
const (
	failedEventID = "019f2815-1c60-83c1-a7d8-e9f0a1b4e6f2" // 13:05:00.000
	otherEventID  = "019f2819-b040-85d2-b7d8-e9f0a1b6a7c3" // 13:10:00.000
	failedBody    = `{"type":"invoice.paid","id":"in_1"}`
	failedAnswer  = `{"error":"database unavailable"}`
)

// want is the expected outcome per file, in the order the files run:
// delete last, so every other event finds the destination. check, if set,
// looks at the decoded JSON body of an HTTP answer.
var want = []struct {
	file   string
	status int // HTTP status; 0 for non-HTTP functions
	check  func(t *testing.T, body map[string]any)
}{
	{"create-destination.json", http.StatusCreated, nil},
	{"list-destinations.json", http.StatusOK, nil},
	{"get-destination.json", http.StatusOK, nil},
	{"update-destination.json", http.StatusOK, nil},
	// from/to select the two recorded events, oldest first.
	{"list-events.json", http.StatusOK, func(t *testing.T, b map[string]any) {
		items, _ := b["items"].([]any)
		if b["total"] != 2.0 || len(items) != 2 {
			t.Fatalf("want total 2 and two items")
		}
		for i, id := range []string{failedEventID, otherEventID} {
			it, _ := items[i].(map[string]any)
			if it["id"] != id || it["destinationId"] != destinationID || it["tenantId"] != tenantID || it["status"] != "Failed" || it["attemptCount"] != 1.0 {
				t.Errorf("items[%d]: want %s, Failed after 1 attempt", i, id)
			}
		}
	}},
	{"get-event.json", http.StatusOK, func(t *testing.T, b map[string]any) {
		if b["id"] != failedEventID || b["status"] != "Failed" || b["body"] != failedBody || b["contentType"] != "application/json" {
			t.Errorf("want event %s, Failed, with its body and content type", failedEventID)
		}
		h, _ := b["headers"].(map[string]any)
		if sig, _ := h["Stripe-Signature"].([]any); len(sig) != 1 {
			t.Errorf("want its forwarded Stripe-Signature header")
		}
		attempts, _ := b["attempts"].([]any)
		if len(attempts) != 1 {
			t.Fatalf("want 1 attempt")
		}
		a, _ := attempts[0].(map[string]any)
		if a["outcome"] != "Failed" || a["statusCode"] != 500.0 || a["error"] != "status" || a["responseBody"] != failedAnswer || a["trigger"] != "Automatic" {
			t.Errorf("want the failed automatic attempt with status 500 and its answer")
		}
	}},
	{"replay-event.json", http.StatusAccepted, func(t *testing.T, b map[string]any) {
		if b["id"] != failedEventID || b["status"] != "Pending" {
			t.Errorf("want event %s, Pending again", failedEventID)
		}
	}},
	// The first event is Pending now: only the other one is Failed.
	{"replay-events.json", http.StatusAccepted, func(t *testing.T, b map[string]any) {
		if b["replayed"] != 1.0 || b["remaining"] != 0.0 {
			t.Errorf("want replayed 1, remaining 0")
		}
	}},
	{"event-stats.json", http.StatusOK, func(t *testing.T, b map[string]any) {
		buckets, _ := b["buckets"].([]any)
		if len(buckets) != 1 {
			t.Fatalf("want the one bucket of 13:00")
		}
		bk, _ := buckets[0].(map[string]any)
		counts, _ := bk["counts"].(map[string]any)
		if bk["start"] != "2026-07-03T13:00:00.000Z" || counts["Pending"] != 2.0 || counts["Held"] != 0.0 || counts["Delivered"] != 0.0 || counts["Failed"] != 0.0 {
			t.Errorf("want 2 Pending (both replayed) and nothing else at 13:00")
		}
	}},
	{"ingest.json", http.StatusAccepted, nil},
	{"deliver-sqs-batch.json", 0, nil},
	{"sweeper-schedule.json", 0, nil},
	{"regenerate-ingest-token.json", http.StatusOK, nil},
	{"rotate-signing-secret.json", http.StatusOK, func(t *testing.T, b map[string]any) {
		if s, _ := b["signingSecret"].(string); len(b) != 1 || !strings.HasPrefix(s, "whsec_") || len(s) != len("whsec_")+44 {
			t.Errorf("want only a whsec_ signingSecret")
		}
	}},
	{"delete-destination.json", http.StatusNoContent, nil},
	{"console.json", http.StatusOK, nil},
}

func TestEveryEventFileRunsThroughItsFunction(t *testing.T) {
	root := filepath.Join("..", "..")
	files, err := filepath.Glob(filepath.Join(root, "events", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	functions, err := os.ReadDir(filepath.Join(root, "functions"))
	if err != nil {
		t.Fatal(err)
	}
	covered := map[string]bool{}
	var listed []string
	for _, w := range want {
		listed = append(listed, w.file)
	}
	var onDisk []string
	for _, f := range files {
		onDisk = append(onDisk, filepath.Base(f))
	}
	sort.Strings(listed)
	sort.Strings(onDisk)
	if strings.Join(listed, ",") != strings.Join(onDisk, ",") {
		t.Fatalf("events/ holds %v, the test expects %v", onDisk, listed)
	}

	apiDoc, err := openapitest.NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ca := testkit.NewCA(t, dir)
	rcv := testkit.NewReceiver(t, ca)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	stack, err := localstack.Start(ctx, localstack.Options{
		StateDir: filepath.Join(dir, "state"), Addr: "127.0.0.1:0", Workers: -1, SweepInterval: -1,
		Settings: map[string]string{
			"HOOKSENTRY_EXTRA_CA_FILE": ca.File,
			// The samples' events were received in July 2026; they must
			// not have expired whenever the test runs.
			"HOOKSENTRY_EVENT_RETENTION": "87600h",
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer stack.Close()
	env := stack.Env
	st := env.Store()
	if err := st.CreateTenant(ctx, store.Tenant{ID: tenantID, Name: "events", CreatedAt: store.NewTenantTime(time.Now())}); err != nil {
		t.Fatal(err)
	}
	now := destination.Timestamp(time.Now())
	if err := st.CreateDestination(ctx, destination.Destination{
		ID: destinationID, TenantID: tenantID, URL: rcv.URL + "/webhook", Status: destination.Active,
		ServerRateLimit: 5, CreatedAt: now, UpdatedAt: now, TokenHash: destination.HashIngestToken(ingestToken), Version: 1,
	}); err != nil {
		t.Fatal(err)
	}
	recordFailedEvents(ctx, t, st)
	fns := localstack.Functions{Env: env}
	worker, err := fns.Worker()
	if err != nil {
		t.Fatal(err)
	}

	for _, w := range want {
		t.Run(w.file, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(root, "events", w.file))
			if err != nil {
				t.Fatal(err)
			}
			fn := functionOf(w.file, functions)
			if fn == "" {
				t.Fatalf("%s names no function directory", w.file)
			}
			covered[fn] = true
			switch fn {
			case "deliver":
				var ev events.SQSEvent
				mustDecode(t, raw, &ev)
				resp, err := worker.Handle(ctx, ev)
				if err != nil || len(resp.BatchItemFailures) != 0 {
					t.Fatalf("deliver: failures %v, err %v; want none", resp.BatchItemFailures, err)
				}
				reqs := rcv.Requests()
				if len(reqs) == 0 || reqs[len(reqs)-1].Header.Get("HookSentry-Event-Id") != "0b7e4f6e-5b7a-4c1e-9f3d-2a1b3c4d5e6f" {
					t.Fatalf("receiver did not get the event of the sample batch")
				}
			case "sweeper":
				var ev events.CloudWatchEvent
				mustDecode(t, raw, &ev)
				if err := fns.Sweeper().Handle(ctx, ev); err != nil {
					t.Fatalf("sweeper: %v", err)
				}
			default:
				var ev events.APIGatewayV2HTTPRequest
				mustDecode(t, raw, &ev)
				handler := fns.Ingest()
				if fn != "ingest" {
					handler = fns.Management(fn)
				}
				resp, err := handler(ctx, ev)
				if err != nil {
					t.Fatal(err)
				}
				// The samples are requests API Gateway would send: what the
				// functions accept and answer must match the API document.
				if err := apiDoc.CheckLambda(ev, resp); err != nil {
					t.Error(err)
				}
				if resp.StatusCode != w.status {
					t.Fatalf("status = %d %s, want %d", resp.StatusCode, resp.Body, w.status)
				}
				if w.check != nil {
					var body map[string]any
					if err := json.Unmarshal([]byte(resp.Body), &body); err != nil {
						t.Fatalf("body %s: %v", resp.Body, err)
					}
					w.check(t, body)
					if t.Failed() {
						t.Logf("body: %s", resp.Body)
					}
				}
			}
		})
	}
	for _, f := range functions {
		if !covered[f.Name()] {
			t.Errorf("functions/%s has no sample event in events/", f.Name())
		}
	}
}

// recordFailedEvents writes the history of the two events the events API
// samples name, as the deliver function does after a failed first attempt.
func recordFailedEvents(ctx context.Context, t *testing.T, st *store.Store) {
	t.Helper()
	var changes []history.Change
	for _, id := range []string{failedEventID, otherEventID} {
		parsed, ok := event.ParseID(id)
		if !ok || parsed.Route != event.Route(destinationID) {
			t.Fatalf("sample event id %s is not an id of destination %s", id, destinationID)
		}
		changes = append(changes, history.Change{
			Event: event.Message{
				EventID: id, DestinationID: destinationID, TenantID: tenantID, ReceivedAt: parsed.ReceivedAt.UnixMilli(),
				ContentType: "application/json", Headers: [][2]string{{"Stripe-Signature", "t=1783083900,v1=5257a869e7ec"}},
				Body: []byte(failedBody),
			},
			Status: history.Failed,
			Attempt: &history.Attempt{
				Number: 1, StartedAt: parsed.ReceivedAt.Add(time.Second), Duration: 120 * time.Millisecond,
				Trigger: history.Automatic, StatusCode: http.StatusInternalServerError, Error: history.ErrStatus,
				ResponseBody: []byte(failedAnswer),
			},
		})
	}
	if err := st.Record(ctx, changes); err != nil {
		t.Fatal(err)
	}
}

// functionOf maps an event file to the longest function name it starts with.
func functionOf(file string, functions []os.DirEntry) string {
	best := ""
	for _, f := range functions {
		if strings.HasPrefix(file, f.Name()) && len(f.Name()) > len(best) {
			best = f.Name()
		}
	}
	return best
}

func mustDecode(t *testing.T, raw []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("decode event: %v", err)
	}
}

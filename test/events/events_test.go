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
	localstack "github.com/hooksentry/hooksentry/pkg/local/stack"
	"github.com/hooksentry/hooksentry/pkg/store"
	"github.com/hooksentry/hooksentry/pkg/testkit"
)

// The sample events name this tenant, destination and ingest token.
const (
	tenantID      = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
	destinationID = "7d8e9f0a-1b2c-4d3e-8f5a-6b7c8d9e0f1a"
	ingestToken   = "dst_5f8a3b2c1d9e4f6a7b8c9d0e1f2a3b4c"
)

// want is the expected outcome per file, in the order the files run:
// delete last, so every other event finds the destination.
var want = []struct {
	file   string
	status int // HTTP status; 0 for non-HTTP functions
}{
	{"create-destination.json", http.StatusCreated},
	{"list-destinations.json", http.StatusOK},
	{"get-destination.json", http.StatusOK},
	{"update-destination.json", http.StatusOK},
	{"ingest.json", http.StatusAccepted},
	{"deliver-sqs-batch.json", 0},
	{"sweeper-schedule.json", 0},
	{"regenerate-ingest-token.json", http.StatusOK},
	{"delete-destination.json", http.StatusNoContent},
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

	dir := t.TempDir()
	ca := testkit.NewCA(t, dir)
	rcv := testkit.NewReceiver(t, ca)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	stack, err := localstack.Start(ctx, localstack.Options{
		StateDir: filepath.Join(dir, "state"), Addr: "127.0.0.1:0", Workers: -1, SweepInterval: -1,
		Settings: map[string]string{"HOOKSENTRY_EXTRA_CA_FILE": ca.File},
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
				if len(reqs) == 0 || reqs[len(reqs)-1].Header.Get("Webhook-Id") != "0b7e4f6e-5b7a-4c1e-9f3d-2a1b3c4d5e6f" {
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
				if resp.StatusCode != w.status {
					t.Fatalf("status = %d %s, want %d", resp.StatusCode, resp.Body, w.status)
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

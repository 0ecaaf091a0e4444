// Package fault_test is the at-least-once proof: delivery workers run as a
// separate process that is SIGKILLed mid-batch and restarted while the
// receiver answers with errors, timeouts and connection resets. Every
// accepted event must still arrive; duplicates are counted and reported.
package fault_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/uuid"

	localstack "github.com/hooksentry/hooksentry/pkg/local/stack"
	"github.com/hooksentry/hooksentry/pkg/store"
	"github.com/hooksentry/hooksentry/pkg/testkit"
)

const (
	events    = 1000
	rateLimit = 8
	kills     = 4
)

func TestWorkersKilledMidBatchLoseNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("fault test runs in the full suite only")
	}
	dir := t.TempDir()
	ca := testkit.NewCA(t, dir)
	settings := map[string]string{
		"HOOKSENTRY_EXTRA_CA_FILE":             ca.File,
		"HOOKSENTRY_DELIVERY_TIMEOUT":          "1s",
		"HOOKSENTRY_RETRY_BASE_DELAY":          "50ms",
		"HOOKSENTRY_RETRY_MAX_DELAY":           "300ms",
		"HOOKSENTRY_MAX_ATTEMPTS":              "50",
		"HOOKSENTRY_BREAKER_FAILURE_THRESHOLD": "10",
		"HOOKSENTRY_BREAKER_COOLDOWN":          "300ms",
	}
	names := localstack.DefaultNames()
	names.VisibilityTimeout = 12 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	stackLog, err := os.Create(filepath.Join(dir, "stack.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer stackLog.Close()
	t.Cleanup(func() {
		if t.Failed() {
			if b, err := os.ReadFile(stackLog.Name()); err == nil {
				var lines []string
				for _, l := range strings.Split(string(b), "\n") {
					if strings.HasPrefix(l, "{") {
						lines = append(lines, l)
					}
				}
				t.Logf("stack log (gateway, sweeper), last lines:\n%s", strings.Join(lines[max(0, len(lines)-40):], "\n"))
			}
		}
	})
	stack, err := localstack.Start(ctx, localstack.Options{
		StateDir: filepath.Join(dir, "state"), Addr: "127.0.0.1:0", Names: names, Settings: settings,
		Workers: -1, SweepInterval: 500 * time.Millisecond, Log: stackLog,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer stack.Close()

	bin := filepath.Join(dir, "hooksentry")
	build := exec.Command("go", "build", "-o", bin, "github.com/hooksentry/hooksentry/cmd/hooksentry")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build hooksentry: %v\n%s", err, out)
	}
	workerEnv := append(os.Environ(), stack.Emulators.Env()...)
	for k, v := range map[string]string{
		"HOOKSENTRY_TABLE_NAME": stack.Resources.TableName, "HOOKSENTRY_KMS_KEY_ID": stack.Resources.KMSKeyID,
		"HOOKSENTRY_QUEUE_URL": stack.Resources.QueueURL, "HOOKSENTRY_DLQ_URL": stack.Resources.DLQURL,
		"HOOKSENTRY_ALLOW_PRIVATE_NETWORKS": "true",
	} {
		workerEnv = append(workerEnv, k+"="+v)
	}
	for k, v := range settings {
		workerEnv = append(workerEnv, k+"="+v)
	}

	// The receiver misbehaves on a third of the requests.
	rcv := testkit.NewReceiver(t, ca)
	var mu sync.Mutex
	okCount := map[string]int{}
	attempts := map[string]int{}
	var failures struct{ errors, timeouts, resets int }
	rcv.SetRespond(func(w http.ResponseWriter, r *http.Request, _ int) {
		id := r.Header.Get("HookSentry-Event-Id")
		mu.Lock()
		attempts[id]++
		mu.Unlock()
		switch p := rand.Float64(); {
		case p < 0.15:
			mu.Lock()
			failures.errors++
			mu.Unlock()
			w.WriteHeader(http.StatusInternalServerError)
		case p < 0.22:
			mu.Lock()
			failures.timeouts++
			mu.Unlock()
			// Beyond the 1s attempt timeout; the request ends when the
			// client gives up, as it would at a real destination.
			select {
			case <-time.After(1500 * time.Millisecond):
				// Only the branch below answers 2xx, so okCount is exactly
				// the set of successful deliveries: a client starved of CPU
				// can still be waiting here after its 1s timeout.
				w.WriteHeader(http.StatusGatewayTimeout)
			case <-r.Context().Done():
			}
		case p < 0.30:
			mu.Lock()
			failures.resets++
			mu.Unlock()
			if hj, ok := w.(http.Hijacker); ok {
				if conn, _, err := hj.Hijack(); err == nil {
					conn.Close()
					return
				}
			}
			panic(http.ErrAbortHandler)
		default:
			time.Sleep(time.Duration(rand.IntN(20)) * time.Millisecond)
			mu.Lock()
			okCount[id]++
			mu.Unlock()
			w.WriteHeader(http.StatusOK)
		}
	})

	tenant := uuid.NewString()
	if err := stack.Env.Store().CreateTenant(ctx, store.Tenant{ID: tenant, Name: "fault", CreatedAt: store.NewTenantTime(time.Now())}); err != nil {
		t.Fatal(err)
	}
	tok, _ := stack.Issuer.Mint(tenant, time.Hour)
	c := &testkit.Client{BaseURL: stack.URL, Token: tok}
	resp := c.Do(t, http.MethodPost, "/api/v1/destinations", map[string]any{"url": rcv.URL + "/fault", "serverRateLimit": rateLimit}, nil)
	if resp.Status != http.StatusCreated {
		t.Fatalf("create destination: %d %s", resp.Status, resp.Body)
	}
	var d struct{ ID, IngestToken string }
	resp.JSON(t, &d)
	destID := d.ID

	workerLog, err := os.Create(filepath.Join(dir, "worker.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer workerLog.Close()
	t.Cleanup(func() {
		if t.Failed() {
			if b, err := os.ReadFile(workerLog.Name()); err == nil {
				t.Logf("worker log (last 8 KiB):\n%s", b[max(0, len(b)-8192):])
			}
		}
	})
	var wmu sync.Mutex
	var proc *exec.Cmd
	start := func() {
		wmu.Lock()
		defer wmu.Unlock()
		proc = exec.Command(bin, "worker", "--count", "4")
		proc.Env = workerEnv
		proc.Stderr = workerLog
		if err := proc.Start(); err != nil {
			t.Errorf("start worker: %v", err)
		}
	}
	kill := func() {
		wmu.Lock()
		defer wmu.Unlock()
		_ = proc.Process.Signal(syscall.SIGKILL)
		_ = proc.Wait()
	}
	start()
	defer kill()

	// Ingest from 8 clients while the killer works.
	accepted := make(chan string, events)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			anon := &testkit.Client{BaseURL: stack.URL}
			for i := g; i < events; i += 8 {
				r := anon.Do(t, http.MethodPost, "/ingest/"+d.IngestToken, fmt.Sprintf(`{"n":%d}`, i), http.Header{"Content-Type": {"application/json"}})
				if r.Status != http.StatusAccepted {
					t.Errorf("ingest %d: %d %s", i, r.Status, r.Body)
					continue
				}
				var out struct{ EventID string }
				r.JSON(t, &out)
				accepted <- out.EventID
			}
		}()
	}
	killed := 0
	for range kills {
		time.Sleep(1500 * time.Millisecond)
		kill()
		killed++
		start()
	}
	wg.Wait()
	close(accepted)
	ids := map[string]bool{}
	for id := range accepted {
		ids[id] = true
	}
	if len(ids) != events {
		t.Fatalf("accepted %d events, want %d", len(ids), events)
	}

	missing := func() []string {
		mu.Lock()
		defer mu.Unlock()
		var m []string
		for id := range ids {
			if okCount[id] == 0 {
				m = append(m, id)
			}
		}
		return m
	}
	deadline := time.Now().Add(3 * time.Minute)
	for len(missing()) > 0 && time.Now().Before(deadline) {
		time.Sleep(250 * time.Millisecond)
	}
	if m := missing(); len(m) > 0 {
		t.Errorf("%d of %d accepted events never delivered successfully, e.g. %s", len(m), events, strings.Join(m[:min(5, len(m))], ", "))
		diagnose(t, stack, destID, m[:min(5, len(m))], func(id string) int { mu.Lock(); defer mu.Unlock(); return attempts[id] })
		t.FailNow()
	}
	mu.Lock()
	dups, extra := 0, 0
	for id := range ids {
		if okCount[id] > 1 {
			dups++
			extra += okCount[id] - 1
		}
	}
	mu.Unlock()
	if got := rcv.MaxInFlight(); got > rateLimit {
		t.Errorf("receiver saw %d concurrent requests, want at most %d", got, rateLimit)
	}
	t.Logf("fault run: %d events, %d worker kills, receiver failures: %d errors, %d timeouts, %d resets; all delivered; %d events delivered more than once (%d extra deliveries); max in flight %d",
		events, killed, failures.errors, failures.timeouts, failures.resets, dups, extra, rcv.MaxInFlight())
}

// diagnose reports where undelivered events are: stored as failed, held,
// in a queue, or behind a suspended destination.
func diagnose(t *testing.T, stack *localstack.Stack, destID string, missing []string, attempts func(string) int) {
	t.Helper()
	ctx := context.Background()
	st := stack.Env.Store()
	d, state, found, err := st.LoadTarget(ctx, destID)
	t.Logf("destination found=%v status=%s failures=%d openUntil=%v probeUntil=%v leases=%d err=%v",
		found, d.Status, state.Failures, state.OpenUntil, state.ProbeUntil, len(state.Leases), err)
	held, err := st.ListHeld(ctx, destID, 1000)
	heldIDs := map[string]bool{}
	for _, h := range held {
		heldIDs[h.Message.EventID] = true
	}
	t.Logf("held events: %d (err %v)", len(held), err)
	for _, id := range missing {
		_, status, stored, err := st.GetEvent(ctx, id)
		t.Logf("event %s: attempts seen by receiver %d, held %v, stored %v status %q (err %v)", id, attempts(id), heldIDs[id], stored, status, err)
	}
	client := sqs.NewFromConfig(stack.Env.AWSConfig())
	for name, url := range map[string]string{"queue": stack.Resources.QueueURL, "dlq": stack.Resources.DLQURL} {
		out, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll}})
		if err == nil {
			t.Logf("%s: visible %s, in flight %s, delayed %s", name, out.Attributes["ApproximateNumberOfMessages"], out.Attributes["ApproximateNumberOfMessagesNotVisible"], out.Attributes["ApproximateNumberOfMessagesDelayed"])
		}
	}
}

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	localstack "github.com/hooksentry/hooksentry/pkg/local/stack"
)

// TestRunServesStackAndCLIWorksAgainstIt is what `make run` does on a fresh
// state directory: the stack comes up, /healthz answers 200, the CLI creates
// a tenant and mints a token the gateway accepts, and Ctrl-C (SIGINT) stops
// the process together with every emulator it started.
func TestRunServesStackAndCLIWorksAgainstIt(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "hooksentry")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	state := filepath.Join(dir, "state")
	env := append(os.Environ(), "HOOKSENTRY_STATE_DIR="+state, "HOOKSENTRY_LOCAL_ADDR=127.0.0.1:0",
		"HOOKSENTRY_LOCAL_WORKERS=2", "HOOKSENTRY_LOCAL_SWEEP_INTERVAL=5s")

	bad := exec.Command(bin, "run")
	bad.Env = append(env, "HOOKSENTRY_LOCAL_WORKERS=lots")
	if out, err := bad.CombinedOutput(); err == nil || !strings.Contains(string(out), "HOOKSENTRY_LOCAL_WORKERS") {
		t.Fatalf("run with HOOKSENTRY_LOCAL_WORKERS=lots: err %v, output %q; want a failure naming the variable", err, out)
	}

	run := exec.Command(bin, "run")
	run.Env = env
	stdout, err := run.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = run.Process.Kill(); _ = run.Wait() }()

	ready := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`ready on (http://\S+) \(2 delivery workers, sweeper every 5s\)`)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				ready <- m[1]
			}
		}
	}()
	var base string
	select {
	case base = <-ready:
	case <-time.After(3 * time.Minute):
		t.Fatal("hooksentry run did not become ready")
	}

	resp, err := http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/healthz = %d, want 200", resp.StatusCode)
	}

	cli := func(args ...string) []byte {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("hooksentry %s: %v", strings.Join(args, " "), err)
		}
		return out
	}
	var tenant struct{ ID, Name string }
	if err := json.Unmarshal(cli("tenant", "create", "--name", "acme"), &tenant); err != nil || tenant.ID == "" || tenant.Name != "acme" {
		t.Fatalf("tenant create printed %+v (%v), want JSON with an id and the name", tenant, err)
	}
	token := strings.TrimSpace(string(cli("token", "--tenant", tenant.ID, "--ttl", "10m")))
	req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/destinations", strings.NewReader(`{"url":"https://example.com/hook"}`))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create with CLI tenant and token: %d %s, want 201", resp.StatusCode, body)
	}

	// The events CLI against the running stack, finding the tenant by
	// itself: a webhook to a destination nobody answers is visible with
	// its failed attempt.
	var dest struct{ ID, IngestToken string }
	if err := json.Unmarshal(body, &dest); err != nil {
		t.Fatal(err)
	}
	resp, err = http.Post(base+"/ingest/"+dest.IngestToken, "application/json", strings.NewReader(`{"cli":true}`))
	if err != nil {
		t.Fatal(err)
	}
	var accepted struct{ EventID string }
	_ = json.NewDecoder(resp.Body).Decode(&accepted)
	resp.Body.Close()
	var listed struct {
		Total int
		Items []struct{ ID, Status string }
	}
	deadline := time.Now().Add(30 * time.Second)
	for listed.Total == 0 && time.Now().Before(deadline) {
		if err := json.Unmarshal(cli("events", "list", "--destination", dest.ID, "--json"), &listed); err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if listed.Total != 1 || listed.Items[0].ID != accepted.EventID {
		t.Fatalf("events list --json: got %+v, want the event %s", listed, accepted.EventID)
	}
	if out := string(cli("events", "show", accepted.EventID)); !strings.Contains(out, accepted.EventID) || !strings.Contains(out, `{"cli":true}`) {
		t.Errorf("events show: got\n%s\nwant the event with its body", out)
	}

	var st localstack.State
	raw, err := os.ReadFile(filepath.Join(state, localstack.StateFile))
	if err != nil || json.Unmarshal(raw, &st) != nil {
		t.Fatalf("read %s: %v", localstack.StateFile, err)
	}
	if err := run.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- run.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("hooksentry run did not stop on SIGINT")
	}
	for _, endpoint := range []string{st.DynamoDBEndpoint, st.KMSEndpoint, st.SQSEndpoint, st.GatewayURL} {
		waitClosed(t, strings.TrimPrefix(endpoint, "http://"))
	}

	// State survives a restart: the tenant is still there.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	again := exec.CommandContext(ctx, bin, "tenant", "create", "--name", "acme", "--id", tenant.ID)
	again.Env = env
	var stderr bytes.Buffer
	again.Stderr = &stderr
	if err := again.Run(); err == nil || !strings.Contains(stderr.String(), "ConditionalCheckFailed") {
		t.Errorf("re-creating tenant %s after a restart: err %v, stderr %q; want a conditional-check failure (the tenant persisted)", tenant.ID, err, stderr.String())
	}
}

func waitClosed(t *testing.T, hostport string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", hostport, 200*time.Millisecond)
		if err != nil {
			return
		}
		c.Close()
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("%s still accepts connections after the stack stopped", hostport)
}

package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hooksentry/hooksentry/pkg/testkit"
)

// runningStack is one `hooksentry run` in a process group of its own.
type runningStack struct {
	t    *testing.T
	cmd  *exec.Cmd
	URL  string
	done chan error
	log  *testkit.LogBuffer
}

func startRun(t *testing.T, bin string, env []string) *runningStack {
	t.Helper()
	cmd := exec.Command(bin, "run")
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	log := &testkit.LogBuffer{}
	cmd.Stderr = log
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := &runningStack{t: t, cmd: cmd, done: make(chan error, 1), log: log}
	ready := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`ready on (http://\S+) `)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				ready <- m[1]
			}
		}
		r.done <- cmd.Wait()
	}()
	t.Cleanup(func() { r.signal(syscall.SIGKILL); r.wait(10 * time.Second) })
	select {
	case r.URL = <-ready:
	case err := <-r.done:
		r.done <- err
		t.Fatalf("hooksentry run exited before it was ready: %v\n%s", err, log)
	case <-time.After(3 * time.Minute):
		t.Fatalf("hooksentry run did not become ready\n%s", log)
	}
	return r
}

func (r *runningStack) signal(sig syscall.Signal) {
	_ = syscall.Kill(-r.cmd.Process.Pid, sig)
}

func (r *runningStack) wait(timeout time.Duration) bool {
	select {
	case err := <-r.done:
		r.done <- err
		return true
	case <-time.After(timeout):
		return false
	}
}

// stop sends sig to the whole process group and waits until the stack and
// every emulator it started no longer listen.
func (r *runningStack) stop(sig syscall.Signal, stateDir string) {
	r.t.Helper()
	var st struct{ DynamoDBEndpoint, KMSEndpoint, SQSEndpoint, GatewayURL string }
	raw, err := os.ReadFile(filepath.Join(stateDir, "stack.json"))
	if err != nil || json.Unmarshal(raw, &st) != nil {
		r.t.Fatalf("read stack.json: %v", err)
	}
	r.signal(sig)
	if !r.wait(30 * time.Second) {
		r.t.Fatalf("hooksentry run did not exit on %v", sig)
	}
	for _, endpoint := range []string{st.DynamoDBEndpoint, st.KMSEndpoint, st.SQSEndpoint, st.GatewayURL} {
		waitClosed(r.t, strings.TrimPrefix(endpoint, "http://"))
	}
}

// TestQueuedEventsSurviveRestarts is CONTRACT §4: events accepted with 202
// are delivered after the stack is SIGKILLed (the whole process group) and
// after it is stopped with Ctrl-C, and started again on the same state
// directory. The first two runs have no delivery workers, so every event
// stays queued; the sweeper is kept out of the way (1h), so only the queue
// can bring them back.
func TestQueuedEventsSurviveRestarts(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the local stack three times")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "hooksentry")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	ca := testkit.NewCA(t, dir)
	recv := testkit.NewReceiver(t, ca)
	state := filepath.Join(dir, "state")
	env := append(os.Environ(), "HOOKSENTRY_STATE_DIR="+state, "HOOKSENTRY_LOCAL_ADDR=127.0.0.1:0",
		"HOOKSENTRY_LOCAL_SWEEP_INTERVAL=1h", "HOOKSENTRY_EXTRA_CA_FILE="+ca.File)
	noWorkers := append(env[:len(env):len(env)], "HOOKSENTRY_LOCAL_WORKERS=0")

	run := startRun(t, bin, noWorkers)
	cli := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("hooksentry %s: %v", strings.Join(args, " "), err)
		}
		return strings.TrimSpace(string(out))
	}
	var tenant struct{ ID string }
	if err := json.Unmarshal([]byte(cli("tenant", "create", "--name", "restart")), &tenant); err != nil {
		t.Fatal(err)
	}
	api := &testkit.Client{BaseURL: run.URL, Token: cli("token", "--tenant", tenant.ID)}
	created := api.Do(t, http.MethodPost, "/api/v1/destinations", map[string]any{"url": recv.URL + "/hook", "serverRateLimit": 10}, nil)
	if created.Status != http.StatusCreated {
		t.Fatalf("create destination: %d %s", created.Status, created.Body)
	}
	var dest struct{ IngestToken string }
	created.JSON(t, &dest)

	const perRun = 15
	want := map[string]bool{}
	ingest := func(base, phase string) {
		t.Helper()
		c := &testkit.Client{BaseURL: base}
		for i := range perRun {
			body := fmt.Sprintf(`{"phase":%q,"n":%d}`, phase, i)
			r := c.Do(t, http.MethodPost, "/ingest/"+dest.IngestToken, body, http.Header{"Content-Type": {"application/json"}})
			if r.Status != http.StatusAccepted {
				t.Fatalf("ingest %s: %d %s", body, r.Status, r.Body)
			}
			want[body] = true
		}
	}

	ingest(run.URL, "before SIGKILL")
	run.stop(syscall.SIGKILL, state)

	run = startRun(t, bin, noWorkers)
	ingest(run.URL, "before SIGINT")
	run.stop(syscall.SIGINT, state)
	if n := len(recv.Requests()); n != 0 {
		t.Fatalf("%d deliveries while no worker ran; the test cannot tell the queue kept them", n)
	}

	run = startRun(t, bin, append(env[:len(env):len(env)], "HOOKSENTRY_LOCAL_WORKERS=2"))
	missing := func() []string {
		got := map[string]bool{}
		for _, r := range recv.Requests() {
			got[string(r.Body)] = true
		}
		var m []string
		for body := range want {
			if !got[body] {
				m = append(m, body)
			}
		}
		return m
	}
	deadline := time.Now().Add(90 * time.Second)
	for len(missing()) > 0 && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	if m := missing(); len(m) > 0 {
		lines := strings.Split(run.log.String(), "\n")
		t.Fatalf("%d of %d accepted events never delivered after the restarts, e.g. %s\nlast lines of the stack's log:\n%s",
			len(m), len(want), m[0], strings.Join(lines[max(0, len(lines)-40):], "\n"))
	}
}

package console_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/hooksentry/hooksentry/pkg/local/emulator"
	"github.com/hooksentry/hooksentry/pkg/local/stack/stacktest"
	"github.com/hooksentry/hooksentry/pkg/store"
	"github.com/hooksentry/hooksentry/pkg/testkit"
)

// chromium is Debian's browser (make browser-deps installs it); the
// environment variable points elsewhere for a developer's own build.
func chromium() string {
	if p := os.Getenv("HOOKSENTRY_CHROMIUM"); p != "" {
		return p
	}
	return "/usr/bin/chromium"
}

// consoleBase is the origin the browser opens: the local gateway, which
// serves /console/, /oauth/*, /api/v1 and /ingest.
var consoleBase = func(t *testing.T) string { return stack.URL }

// The browser script's messages: a step asks the test to act (on the
// receiver, or through the API as a sender would) and waits for the answer
// on its stdin; the result closes the run.
const (
	stepPrefix   = "HS-STEP "
	resultPrefix = "HS-RESULT "
)

type step struct {
	Action string          `json:"action"`
	Args   json.RawMessage `json:"args"`
}

type result struct {
	OK            bool     `json:"ok"`
	Error         string   `json:"error"`
	ConsoleErrors []string `json:"consoleErrors"`
	SignedOutReqs []string `json:"signedOutRequests"`
	DestinationID string   `json:"destinationId"`
	IngestToken   string   `json:"ingestToken"`
	Screenshots   []string `json:"screenshots"`
	Checks        []string `json:"checks"`
}

// TestConsole is the console's acceptance scenario in a real browser:
// sign in as a tenant through the local issuer, create a destination,
// follow a delivered and a failed event, replay the failed ones, edit and
// delete the destination, never seeing another tenant's destination, and
// calling no API while signed out. Any browser console error or page error
// fails it. Screenshots go to build/console-screenshots.
func TestConsole(t *testing.T) {
	root, err := emulator.FindRepoRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	if info, err := os.Stat(chromium()); err != nil || info.Mode()&0o111 == 0 {
		t.Fatalf("the console's browser tests need Debian's chromium at %s (make browser-deps installs it: apt-get install chromium): %v", chromium(), err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("the console's browser tests need Node.js (node on PATH): %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	if err := emulator.EnsureBrowserTools(ctx, root, testWriter{t}); err != nil {
		t.Fatalf("install playwright-core (make browser-deps): %v", err)
	}

	tenantA := newTenant(t, "console tenant A")
	tenantB := newTenant(t, "console tenant B")
	receiver := testkit.NewReceiver(t, ca)
	// Tenant B's destination must never show in tenant A's console.
	otherURL := testkit.NewReceiver(t, ca).URL + "/tenant-b-" + uuid.NewString()[:8]
	stacktest.CreateDestination(t, tenantB.client, map[string]any{"url": otherURL})

	shots := filepath.Join(root, "build", "console-screenshots")
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	// Screenshots of an earlier run must not pass for this one's.
	old, _ := filepath.Glob(filepath.Join(shots, "*.png"))
	for _, f := range old {
		os.Remove(f)
	}
	cmd := exec.CommandContext(ctx, node, filepath.Join(root, "test", "console", "console.mjs"))
	cmd.Env = append(os.Environ(),
		"HS_BASE_URL="+consoleBase(t),
		"HS_TENANT_ID="+tenantA.id,
		"HS_OTHER_URL="+otherURL,
		"HS_RECEIVER_URL="+receiver.URL+"/console-hook",
		"HS_MAX_ATTEMPTS="+fmt.Sprint(maxAttempts),
		"HS_CHROMIUM="+chromium(),
		"HS_PLAYWRIGHT_DIR="+filepath.Join(root, filepath.FromSlash(emulator.BrowserToolsDir)),
		"HS_SCREENSHOTS="+shots,
	)
	// The script's own timers bound every wait; if it still hangs, the
	// context kills its whole process group, chromium included.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = testWriter{t}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if cmd.ProcessState == nil {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			_ = cmd.Wait()
		}
	}()

	h := &stepHandler{t: t, receiver: receiver, tenantA: tenantA}
	var res *result
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, stepPrefix):
			var s step
			if err := json.Unmarshal([]byte(strings.TrimPrefix(line, stepPrefix)), &s); err != nil {
				t.Fatalf("bad step %q: %v", line, err)
			}
			answer := h.do(s)
			b, _ := json.Marshal(answer)
			if _, err := fmt.Fprintf(stdin, "%s\n", b); err != nil {
				t.Fatalf("answer step %s: %v", s.Action, err)
			}
		case strings.HasPrefix(line, resultPrefix):
			res = &result{}
			if err := json.Unmarshal([]byte(strings.TrimPrefix(line, resultPrefix)), res); err != nil {
				t.Fatalf("bad result %q: %v", line, err)
			}
		default:
			t.Log("browser:", line)
		}
	}
	stdin.Close()
	waitErr := cmd.Wait()
	if res == nil {
		t.Fatalf("the browser script gave no result (exit: %v, context: %v)", waitErr, ctx.Err())
	}
	for _, c := range res.Checks {
		t.Log("checked:", c)
	}
	for _, s := range res.Screenshots {
		t.Log("screenshot:", s)
	}
	if !res.OK {
		t.Errorf("browser scenario failed: %s", res.Error)
	}
	for _, e := range res.ConsoleErrors {
		t.Errorf("browser console error: %s", e)
	}
	if waitErr != nil && res.OK {
		t.Errorf("browser script exit: %v", waitErr)
	}
	if len(res.SignedOutReqs) == 0 {
		t.Error("no request was recorded before sign-in: the page did not load")
	}
	for _, u := range res.SignedOutReqs {
		if !strings.HasPrefix(u, "/console/") {
			t.Errorf("signed out, the console requested %s (only /console/* allowed)", u)
		}
	}
	if !res.OK {
		return
	}

	// What the browser did, seen from outside: the token it showed was the
	// destination's, the events reached the receiver, and it is deleted.
	if res.IngestToken == "" || res.IngestToken != h.ingestToken {
		t.Errorf("ingest token read from the page %q, used for ingest %q", res.IngestToken, h.ingestToken)
	}
	got := map[string]int{}
	for _, r := range receiver.Requests() {
		got[r.Header.Get("HookSentry-Event-Id")]++
	}
	for i, id := range h.events {
		if got[id] == 0 {
			t.Errorf("event %d (%s) never reached the receiver", i+1, id)
		}
	}
	resp := tenantA.client.Do(t, http.MethodGet, "/api/v1/destinations/"+res.DestinationID, nil, nil)
	if resp.Status != http.StatusNotFound {
		t.Errorf("after Delete in the console, GET destination: %d %s, want 404", resp.Status, resp.Body)
	}
}

type tenant struct {
	id     string
	client *testkit.Client
}

// newTenant creates a tenant (the console signs in with its id) and an API
// client acting for it.
func newTenant(t *testing.T, name string) tenant {
	t.Helper()
	id := uuid.NewString()
	if err := stack.Env.Store().CreateTenant(context.Background(), store.Tenant{ID: id, Name: name, CreatedAt: store.NewTenantTime(time.Now())}); err != nil {
		t.Fatal(err)
	}
	tok, err := stack.Issuer.Mint(id, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tenant{id: id, client: &testkit.Client{BaseURL: stack.URL, Token: tok}}
}

// stepHandler carries out the script's steps, in the test's goroutine.
type stepHandler struct {
	t           *testing.T
	receiver    *testkit.Receiver
	tenantA     tenant
	ingestToken string
	events      []string
}

func (h *stepHandler) do(s step) any {
	t := h.t
	switch s.Action {
	case "ingest":
		// A sender posts a webhook with the token the console showed.
		var a struct {
			Token string `json:"token"`
			Body  string `json:"body"`
		}
		mustArgs(t, s, &a)
		h.ingestToken = a.Token
		id := stacktest.Ingest(t, stack, a.Token, []byte(a.Body), http.Header{"Content-Type": {"application/json"}, "X-Sender": {"console-test"}})
		h.events = append(h.events, id)
		return map[string]string{"eventId": id}
	case "fail":
		h.receiver.SetRespond(func(w http.ResponseWriter, r *http.Request, n int) {
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, "receiver down for the test")
		})
	case "slow":
		// Keeps the next attempt in flight (the event Pending) for a while.
		h.receiver.SetRespond(func(w http.ResponseWriter, r *http.Request, n int) {
			time.Sleep(2500 * time.Millisecond)
		})
	case "heal":
		h.receiver.SetRespond(nil)
	case "destination":
		// The destination as the API has it, for the script to compare
		// with what the console did.
		var a struct {
			ID string `json:"id"`
		}
		mustArgs(t, s, &a)
		resp := h.tenantA.client.Do(t, http.MethodGet, "/api/v1/destinations/"+a.ID, nil, nil)
		var d map[string]any
		if resp.Status == http.StatusOK {
			resp.JSON(t, &d)
		}
		return map[string]any{"status": resp.Status, "destination": d}
	default:
		t.Fatalf("unknown step %q", s.Action)
	}
	return map[string]bool{"ok": true}
}

func mustArgs(t *testing.T, s step, v any) {
	t.Helper()
	if err := json.Unmarshal(s.Args, v); err != nil {
		t.Fatalf("step %s: bad args %s: %v", s.Action, s.Args, err)
	}
}

// testWriter logs lines through t.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	for _, line := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		w.t.Log(line)
	}
	return len(p), nil
}

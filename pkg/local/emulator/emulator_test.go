package emulator_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hooksentry/hooksentry/pkg/local/emulator"
)

// The JSON-protocol targets and content types of the three services.
const (
	dynamoContentType = "application/x-amz-json-1.0"
	kmsContentType    = "application/x-amz-json-1.1"
	sqsContentType    = "application/x-amz-json-1.0"
)

// syncBuffer is a bytes.Buffer safe for the stack's output goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startStack starts a stack on stateDir and closes it when the test ends
// (Close is idempotent, so tests may also close it themselves).
func startStack(t *testing.T, stateDir string) (*emulator.Stack, *syncBuffer) {
	t.Helper()
	out := &syncBuffer{}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	stack, err := emulator.Start(ctx, emulator.Options{StateDir: stateDir, Stdout: out, Stderr: out})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := stack.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return stack, out
}

// call makes one raw JSON-protocol request, the way the AWS SDKs do on the
// wire, and returns the status and body. dynalite insists on a SigV4-shaped
// Authorization header and an X-Amz-Date but never checks the signature.
func call(t *testing.T, endpoint, target, contentType, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, endpoint+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("X-Amz-Target", target)
	req.Header.Set("X-Amz-Date", now.Format("20060102T150405Z"))
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=local/"+now.Format("20060102")+
		"/us-east-1/test/aws4_request, SignedHeaders=host;x-amz-date, Signature=0")
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", target, err)
	}
	defer resp.Body.Close()
	respBody, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s: read body: %v", target, err)
	}
	return resp.StatusCode, respBody
}

// mustCall is call that wants a 200 and decodes the JSON answer into out.
func mustCall(t *testing.T, endpoint, target, contentType, body string, out any) {
	t.Helper()
	status, respBody := call(t, endpoint, target, contentType, body)
	if status != http.StatusOK {
		t.Fatalf("%s on %s: got status %d, want 200; body: %s", target, endpoint, status, respBody)
	}
	if out != nil {
		if err := json.Unmarshal(respBody, out); err != nil {
			t.Fatalf("%s: decode %s: %v", target, respBody, err)
		}
	}
}

func hostPort(t *testing.T, endpoint string) string {
	t.Helper()
	u, err := url.Parse(endpoint)
	if err != nil {
		t.Fatalf("parse endpoint %q: %v", endpoint, err)
	}
	return u.Host
}

func TestStartServesAllThreeAndCloseStopsThem(t *testing.T) {
	stack, out := startStack(t, t.TempDir())

	endpoints := map[string]string{
		"dynamodb": stack.DynamoDBEndpoint,
		"kms":      stack.KMSEndpoint,
		"sqs":      stack.SQSEndpoint,
	}
	for name, endpoint := range endpoints {
		if !strings.HasPrefix(endpoint, "http://127.0.0.1:") {
			t.Errorf("%s endpoint: got %q, want http://127.0.0.1:PORT", name, endpoint)
		}
	}

	var tables struct{ TableNames []string }
	mustCall(t, stack.DynamoDBEndpoint, "DynamoDB_20120810.ListTables", dynamoContentType, "{}", &tables)
	if len(tables.TableNames) != 0 {
		t.Errorf("ListTables on a new state dir: got %v, want none", tables.TableNames)
	}
	var keys struct{ Keys []any }
	mustCall(t, stack.KMSEndpoint, "TrentService.ListKeys", kmsContentType, "{}", &keys)
	if len(keys.Keys) != 0 {
		t.Errorf("ListKeys on a new state dir: got %v, want none", keys.Keys)
	}
	mustCall(t, stack.SQSEndpoint, "AmazonSQS.ListQueues", sqsContentType, "{}", nil)

	// Queue URLs must point back at the endpoint, or SDK calls that take a
	// QueueUrl would go elsewhere.
	var queue struct{ QueueUrl string }
	mustCall(t, stack.SQSEndpoint, "AmazonSQS.CreateQueue", sqsContentType, `{"QueueName":"probe"}`, &queue)
	if want := stack.SQSEndpoint + "/" + emulator.AccountID + "/probe"; queue.QueueUrl != want {
		t.Errorf("CreateQueue QueueUrl: got %q, want %q", queue.QueueUrl, want)
	}

	env := stack.Env()
	for _, want := range []string{
		"AWS_ENDPOINT_URL_DYNAMODB=" + stack.DynamoDBEndpoint,
		"AWS_ENDPOINT_URL_KMS=" + stack.KMSEndpoint,
		"AWS_ENDPOINT_URL_SQS=" + stack.SQSEndpoint,
		"AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=local",
		"AWS_SECRET_ACCESS_KEY=local",
	} {
		if !slices.Contains(env, want) {
			t.Errorf("Env(): got %q, want it to contain %q", env, want)
		}
	}

	for _, prefix := range []string{"[dynamodb] ", "[kms] ", "[sqs] "} {
		if !strings.Contains(out.String(), "\n"+prefix) && !strings.HasPrefix(out.String(), prefix) {
			t.Errorf("output: got no line starting with %q in:\n%s", prefix, out)
		}
	}
	if strings.Contains(out.String(), "\x1b[") {
		t.Errorf("output: got terminal colour codes, want them stripped:\n%q", out)
	}

	if err := stack.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := stack.Close(); err != nil {
		t.Errorf("second Close: got %v, want nil", err)
	}
	for name, endpoint := range endpoints {
		conn, err := net.DialTimeout("tcp", hostPort(t, endpoint), time.Second)
		if err == nil {
			conn.Close()
			t.Errorf("%s: %s still accepts connections after Close", name, endpoint)
		}
	}
}

// procAddr formats ip (4 or 16 bytes) the way /proc/net/tcp and tcp6 print
// addresses: each 32-bit word in host byte order, in hex.
func procAddr(ip net.IP) string {
	var b strings.Builder
	for i := 0; i < len(ip); i += 4 {
		fmt.Fprintf(&b, "%08X", binary.NativeEndian.Uint32(ip[i:i+4]))
	}
	return b.String()
}

var (
	procLoopback4       = procAddr(net.IPv4(127, 0, 0, 1).To4())  // 0100007F on little-endian
	procLoopback4Mapped = procAddr(net.IPv4(127, 0, 0, 1).To16()) // ::ffff:127.0.0.1
)

const procListenState = "0A" // TCP_LISTEN

// listenersOn returns the listening sockets on port from /proc/net/tcp and
// /proc/net/tcp6 (this process's network namespace, which its children
// share), each as "tcp ADDR" or "tcp6 ADDR" with ADDR in /proc's hex form.
func listenersOn(port int) ([]string, error) {
	wantPort := fmt.Sprintf("%04X", port)
	var found []string
	for _, proto := range []string{"tcp", "tcp6"} {
		content, err := os.ReadFile("/proc/net/" + proto)
		if os.IsNotExist(err) && proto == "tcp6" {
			continue // IPv6 disabled
		}
		if err != nil {
			return nil, err
		}
		lines := strings.Split(strings.TrimSpace(string(content)), "\n")
		for _, line := range lines[1:] { // the first is the header
			// sl local_address rem_address st ...
			fields := strings.Fields(line)
			if len(fields) < 4 || fields[3] != procListenState {
				continue
			}
			addr, localPort, ok := strings.Cut(fields[1], ":")
			if ok && localPort == wantPort {
				found = append(found, proto+" "+addr)
			}
		}
	}
	return found, nil
}

// checkLoopbackOnly fails the test unless something listens on the
// endpoint's port, and only on 127.0.0.1: no wildcard (0.0.0.0 or ::) or
// other-address listener on that port.
func checkLoopbackOnly(t *testing.T, name, endpoint string) {
	t.Helper()
	_, portText, err := net.SplitHostPort(hostPort(t, endpoint))
	if err != nil {
		t.Fatal(err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		t.Fatal(err)
	}
	listeners, err := listenersOn(port)
	if err != nil {
		t.Fatalf("read listening sockets: %v", err)
	}
	if len(listeners) == 0 {
		t.Errorf("%s: nothing listens on port %d according to /proc/net/tcp{,6}", name, port)
	}
	for _, l := range listeners {
		if l != "tcp "+procLoopback4 && l != "tcp6 "+procLoopback4Mapped {
			t.Errorf("%s: port %d has listener %q, want only 127.0.0.1 (tcp %s)", name, port, l, procLoopback4)
		}
	}
}

func TestEndpointsListenOnLoopbackOnly(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc/net/tcp")
	}
	if _, err := os.Stat("/proc/net/tcp"); err != nil {
		t.Skipf("no /proc/net/tcp: %v", err)
	}

	// The check itself must see a wildcard listener, or passing proves
	// nothing. ":0" is what upstream local-kms listens on.
	wildcard, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer wildcard.Close()
	listeners, err := listenersOn(wildcard.Addr().(*net.TCPAddr).Port)
	if err != nil {
		t.Fatal(err)
	}
	if len(listeners) == 0 || slices.ContainsFunc(listeners, func(l string) bool {
		return l == "tcp "+procLoopback4 || l == "tcp6 "+procLoopback4Mapped
	}) {
		t.Fatalf("listener on %s: got %q from /proc, want one non-loopback address", wildcard.Addr(), listeners)
	}
	loopback, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer loopback.Close()
	listeners, err = listenersOn(loopback.Addr().(*net.TCPAddr).Port)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"tcp " + procLoopback4}; !slices.Equal(listeners, want) {
		t.Fatalf("listener on %s: got %q from /proc, want %q", loopback.Addr(), listeners, want)
	}

	stack, _ := startStack(t, t.TempDir())
	checkLoopbackOnly(t, "dynamodb", stack.DynamoDBEndpoint)
	checkLoopbackOnly(t, "kms", stack.KMSEndpoint)
	checkLoopbackOnly(t, "sqs", stack.SQSEndpoint)
}

// A seed file in StateDir/kms/seed.yaml is loaded on start, as the package
// documents (tools/localkms carries local-kms's seeding code).
func TestKMSLoadsSeedFile(t *testing.T) {
	const (
		keyID = "bc436485-5092-42b8-92a3-0aa8b93536dc"
		alias = "alias/seeded"
	)
	stateDir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(stateDir, "kms"), 0o755); err != nil {
		t.Fatal(err)
	}
	seedYAML := `Keys:
  Symmetric:
    Aes:
      - Metadata:
          KeyId: ` + keyID + `
        BackingKeys:
          - 5cdaead27fe7da2de47945d73cd6d79e36494e73802f3cd3869f1d2cb0b5d7a9
Aliases:
  - AliasName: ` + alias + `
    TargetKeyId: ` + keyID + `
`
	if err := os.WriteFile(filepath.Join(stateDir, "kms", "seed.yaml"), []byte(seedYAML), 0o644); err != nil {
		t.Fatal(err)
	}

	stack, _ := startStack(t, stateDir)
	var described struct {
		KeyMetadata struct {
			KeyId string
			Arn   string
		}
	}
	mustCall(t, stack.KMSEndpoint, "TrentService.DescribeKey", kmsContentType, `{"KeyId":"`+alias+`"}`, &described)
	if described.KeyMetadata.KeyId != keyID {
		t.Errorf("DescribeKey %s: got key %q, want %q", alias, described.KeyMetadata.KeyId, keyID)
	}
	if want := "arn:aws:kms:" + emulator.Region + ":" + emulator.AccountID + ":key/" + keyID; described.KeyMetadata.Arn != want {
		t.Errorf("DescribeKey %s: got ARN %q, want %q", alias, described.KeyMetadata.Arn, want)
	}
}

func TestRestartOnSameStateDirKeepsData(t *testing.T) {
	stateDir := t.TempDir()

	first, _ := startStack(t, stateDir)
	mustCall(t, first.DynamoDBEndpoint, "DynamoDB_20120810.CreateTable", dynamoContentType, `{
		"TableName": "persisted",
		"AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
		"KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
		"BillingMode": "PAY_PER_REQUEST"
	}`, nil)
	var created struct{ KeyMetadata struct{ KeyId string } }
	mustCall(t, first.KMSEndpoint, "TrentService.CreateKey", kmsContentType, "{}", &created)
	if created.KeyMetadata.KeyId == "" {
		t.Fatalf("CreateKey: got no KeyId")
	}
	if err := first.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	second, _ := startStack(t, stateDir)
	var tables struct{ TableNames []string }
	mustCall(t, second.DynamoDBEndpoint, "DynamoDB_20120810.ListTables", dynamoContentType, "{}", &tables)
	if want := []string{"persisted"}; !slices.Equal(tables.TableNames, want) {
		t.Errorf("ListTables after restart: got %v, want %v", tables.TableNames, want)
	}
	var keys struct{ Keys []struct{ KeyId string } }
	mustCall(t, second.KMSEndpoint, "TrentService.ListKeys", kmsContentType, "{}", &keys)
	if len(keys.Keys) != 1 || keys.Keys[0].KeyId != created.KeyMetadata.KeyId {
		t.Errorf("ListKeys after restart: got %+v, want just %s", keys.Keys, created.KeyMetadata.KeyId)
	}
}

func TestStartReportsChildOutputWhenItDies(t *testing.T) {
	// Hold a port so that dynalite cannot listen on it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	stack, err := emulator.Start(ctx, emulator.Options{StateDir: t.TempDir(), DynamoDBPort: port})
	if err == nil {
		stack.Close()
		t.Fatalf("Start with DynamoDBPort %d taken: got nil error, want one", port)
	}
	for _, want := range []string{"dynamodb exited before it was ready", "EADDRINUSE", strconv.Itoa(port)} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Start error: got %q, want it to contain %q", err, want)
		}
	}
}

func TestStartWithoutNodeSaysNodeIsRequired(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := emulator.Start(context.Background(), emulator.Options{StateDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "Node.js 18+ is required") {
		t.Fatalf("Start without node on PATH: got %v, want an error saying Node.js 18+ is required", err)
	}
}

func TestStartWithoutStateDirFails(t *testing.T) {
	_, err := emulator.Start(context.Background(), emulator.Options{})
	if err == nil || !strings.Contains(err.Error(), "StateDir") {
		t.Fatalf("Start without StateDir: got %v, want an error about StateDir", err)
	}
}

func TestEnsureToolsSecondRunIsNoOp(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root, err := emulator.FindRepoRoot(wd)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	// Two at once must not trip over each other; the lock serialises them.
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Go(func() { errs[i] = emulator.EnsureTools(ctx, root, nil) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("concurrent EnsureTools #%d: %v", i, err)
		}
	}

	kms := filepath.Join(root, "bin", "local-kms")
	before, err := os.Stat(kms)
	if err != nil {
		t.Fatalf("after EnsureTools: %v", err)
	}
	var log bytes.Buffer
	if err := emulator.EnsureTools(ctx, root, &log); err != nil {
		t.Fatalf("EnsureTools again: %v", err)
	}
	// The log may say it waited for the lock (other test binaries run
	// EnsureTools too), but it must not have installed anything.
	if strings.Contains(log.String(), "installing") {
		t.Errorf("EnsureTools again: got log %q, want nothing installed", log.String())
	}
	after, err := os.Stat(kms)
	if err != nil {
		t.Fatal(err)
	}
	if !after.ModTime().Equal(before.ModTime()) {
		t.Errorf("%s mod time: got %v, want unchanged %v", kms, after.ModTime(), before.ModTime())
	}
}

// helperStateDirEnv, when set, turns TestHelperStartAndHang into a process
// that starts a stack and waits to be killed.
const helperStateDirEnv = "EMULATOR_TEST_HELPER_STATE_DIR"

func TestChildrenStopWhenParentIsKilled(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("parent-death signal is Linux only")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperStartAndHang$")
	cmd.Env = append(os.Environ(), helperStateDirEnv+"="+t.TempDir())
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})

	lines := make(chan string)
	go func() {
		scanner := bufio.NewScanner(stdout)
		for scanner.Scan() {
			if rest, ok := strings.CutPrefix(scanner.Text(), "endpoints: "); ok {
				lines <- rest
			}
		}
		close(lines)
	}()
	var endpoints []string
	select {
	case line, ok := <-lines:
		if !ok {
			t.Fatal("helper exited without printing its endpoints")
		}
		endpoints = strings.Fields(line)
	case <-time.After(5 * time.Minute):
		t.Fatal("helper did not print its endpoints")
	}

	// SIGKILL: the helper gets no chance to call Close, so only the
	// parent-death signal can stop its children.
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	for _, endpoint := range endpoints {
		deadline := time.Now().Add(10 * time.Second)
		for {
			conn, err := net.DialTimeout("tcp", hostPort(t, endpoint), time.Second)
			if err != nil {
				break
			}
			conn.Close()
			if time.Now().After(deadline) {
				t.Fatalf("%s still accepts connections 10s after its parent was killed", endpoint)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// TestHelperStartAndHang is not a real test: TestChildrenStopWhenParentIsKilled
// runs it in a child process.
func TestHelperStartAndHang(t *testing.T) {
	stateDir := os.Getenv(helperStateDirEnv)
	if stateDir == "" {
		t.Skip("helper process for TestChildrenStopWhenParentIsKilled")
	}
	stack, err := emulator.Start(context.Background(), emulator.Options{StateDir: stateDir})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	fmt.Printf("endpoints: %s %s %s\n", stack.DynamoDBEndpoint, stack.KMSEndpoint, stack.SQSEndpoint)
	time.Sleep(5 * time.Minute)
	t.Fatal("helper was not killed")
}

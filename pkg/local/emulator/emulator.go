// Package emulator owns the local stand-ins for the AWS services HookSentry
// uses: it installs the pinned emulators, runs them as child processes bound
// to 127.0.0.1, waits until they answer, hands out their endpoints and the
// AWS_* environment that points SDKs at them, and stops them again.
//
// The emulators are:
//
//   - DynamoDB: dynalite (npm), run through tools/emulators/dynalite-server.js,
//     persisted as LevelDB under StateDir/dynalite.
//   - KMS: local-kms (Go), built from tools/localkms into bin/local-kms: a
//     small main around the pinned github.com/nsmithuk/local-kms that,
//     unlike upstream's own, listens on 127.0.0.1 only. Persisted as
//     LevelDB under StateDir/kms. A seed file at StateDir/kms/seed.yaml is
//     loaded on start if present.
//   - SQS: local-aws-sqs (npm), run through tools/emulators/sqs-server.js,
//     which journals every change to queues and messages under
//     StateDir/sqs before answering the request that made it, and replays
//     the journal on start: queued messages survive a restart, even after
//     SIGKILL. Messages received but not deleted come back visible.
//
// The package needs Node.js 18+ (node and npm on PATH) and the go command.
// It works on Linux and macOS; on Linux children also get SIGTERM when the
// parent process dies.
package emulator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Region and AccountID are what the emulators report in ARNs and queue URLs,
// and what Env tells SDKs to use.
const (
	Region    = "us-east-1"
	AccountID = "123456789012"
)

// How long one emulator gets to become ready, and how long Close waits for
// the processes to exit after SIGTERM before it sends SIGKILL.
const (
	readyTimeout = 30 * time.Second
	stopTimeout  = 5 * time.Second
)

// Options configures Start.
type Options struct {
	// RepoRoot is the directory holding tools/emulators and bin/. If empty,
	// Start walks up from the working directory to the first go.mod.
	RepoRoot string

	// StateDir holds the emulators' data: StateDir/dynalite, StateDir/kms
	// and StateDir/sqs. Required. Starting again on the same StateDir after
	// Close (or after the processes were killed) finds the DynamoDB tables,
	// KMS keys, SQS queues and queued messages written before.
	StateDir string

	// Ports to listen on, on 127.0.0.1. Zero lets the kernel pick a free
	// port; the emulator reports the port it got, so there is no race
	// with other processes picking ports at the same time.
	DynamoDBPort int
	KMSPort      int
	SQSPort      int

	// Stdout and Stderr receive the children's output (and the output of
	// npm ci / go build while tools are installed), one line at a time,
	// each line prefixed with "[dynamodb] ", "[kms] " or "[sqs] ". Nil
	// discards it; the last lines are still kept for error messages.
	Stdout io.Writer
	Stderr io.Writer
}

// Stack is a running set of emulators. Close it when done.
type Stack struct {
	// Endpoints, like "http://127.0.0.1:41234".
	DynamoDBEndpoint string
	KMSEndpoint      string
	SQSEndpoint      string

	children  []*child
	closeOnce sync.Once
	closeErr  error
}

// Start installs the emulators if needed (see EnsureTools), starts all three
// and waits until each one answers a real API call. ctx bounds the install
// and the wait, not the life of the processes: they run until Close.
func Start(ctx context.Context, opts Options) (*Stack, error) {
	if opts.StateDir == "" {
		return nil, errors.New("emulator: Options.StateDir is required")
	}
	stateDir, err := filepath.Abs(opts.StateDir)
	if err != nil {
		return nil, fmt.Errorf("emulator: state dir: %w", err)
	}
	repoRoot := opts.RepoRoot
	if repoRoot == "" {
		wd, err := os.Getwd()
		if err != nil {
			return nil, fmt.Errorf("emulator: %w", err)
		}
		repoRoot, err = FindRepoRoot(wd)
		if err != nil {
			return nil, err
		}
	}
	repoRoot, err = filepath.Abs(repoRoot)
	if err != nil {
		return nil, fmt.Errorf("emulator: repo root: %w", err)
	}

	// One lock for all output so that lines from different emulators never
	// interleave mid-line, and so that a shared, non-thread-safe writer
	// (a bytes.Buffer in a test) is safe.
	outMu := &sync.Mutex{}

	toolLog := io.Discard
	if opts.Stderr != nil {
		toolLog = &lineWriter{prefix: "[emulator] ", dst: opts.Stderr, dstMu: outMu, tail: &outputTail{}}
	}
	if err := EnsureTools(ctx, repoRoot, toolLog); err != nil {
		return nil, err
	}
	node, err := findNode(ctx)
	if err != nil {
		return nil, err
	}

	dynamoDir := filepath.Join(stateDir, "dynalite")
	kmsDir := filepath.Join(stateDir, "kms")
	sqsDir := filepath.Join(stateDir, "sqs")
	for _, dir := range []string{dynamoDir, kmsDir, sqsDir} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("emulator: %w", err)
		}
	}

	scripts := filepath.Join(repoRoot, "tools", "emulators")
	specs := []childSpec{
		{
			name: "dynamodb",
			path: node,
			args: []string{
				filepath.Join(scripts, "dynalite-server.js"),
				"--host", "127.0.0.1",
				"--port", strconv.Itoa(opts.DynamoDBPort),
				"--path", dynamoDir,
			},
			port:      opts.DynamoDBPort,
			readyLine: regexp.MustCompile(`^dynalite listening on http://127\.0\.0\.1:(\d+)$`),
			probe:     probeDynamoDB,
		},
		{
			name: "kms",
			path: filepath.Join(repoRoot, "bin", localKMSBinary),
			// Built from tools/localkms, which listens on
			// 127.0.0.1:PORT. Like upstream local-kms it has no flags,
			// only environment variables.
			env: []string{
				"PORT=" + strconv.Itoa(opts.KMSPort),
				"KMS_DATA_PATH=" + kmsDir,
				// Loaded on start if the file exists.
				"KMS_SEED_PATH=" + filepath.Join(kmsDir, "seed.yaml"),
				"KMS_REGION=" + Region,
				"KMS_ACCOUNT_ID=" + AccountID,
			},
			port: opts.KMSPort,
			// The line is logged with colour codes around the level;
			// lineWriter strips them before matching.
			readyLine: regexp.MustCompile(`Local KMS started on 127\.0\.0\.1:(\d+)`),
			probe:     probeKMS,
		},
		{
			name: "sqs",
			path: node,
			args: []string{
				filepath.Join(scripts, "sqs-server.js"),
				"--host", "127.0.0.1",
				"--port", strconv.Itoa(opts.SQSPort),
				"--state-dir", sqsDir,
			},
			port:      opts.SQSPort,
			readyLine: regexp.MustCompile(`^sqs listening on http://127\.0\.0\.1:(\d+)$`),
			probe:     probeSQS,
		},
	}

	s := &Stack{}
	for _, spec := range specs {
		c, err := startChild(spec, opts.Stdout, opts.Stderr, outMu)
		if err != nil {
			stopChildren(s.children)
			return nil, err
		}
		s.children = append(s.children, c)
	}

	// The children start in parallel; waiting for them one after the other
	// costs no more than the slowest one.
	endpoints := make([]string, len(s.children))
	for i, c := range s.children {
		endpoint, err := c.waitReady(ctx, readyTimeout)
		if err != nil {
			stopChildren(s.children)
			return nil, err
		}
		endpoints[i] = endpoint
	}
	s.DynamoDBEndpoint = endpoints[0]
	s.KMSEndpoint = endpoints[1]
	s.SQSEndpoint = endpoints[2]
	return s, nil
}

// Close stops every emulator: SIGTERM to each process group, then SIGKILL
// to those still running after 5 seconds. It returns an error if an
// emulator had already died before Close or had to be killed. Calling it
// again returns the first result.
func (s *Stack) Close() error {
	s.closeOnce.Do(func() {
		s.closeErr = stopChildren(s.children)
	})
	return s.closeErr
}

// Env returns KEY=VALUE pairs that point the AWS SDKs and CLI at the stack,
// with dummy credentials (the emulators accept any) and IMDS turned off so
// that a missing credential never turns into a slow metadata lookup.
func (s *Stack) Env() []string {
	return []string{
		"AWS_ENDPOINT_URL_DYNAMODB=" + s.DynamoDBEndpoint,
		"AWS_ENDPOINT_URL_KMS=" + s.KMSEndpoint,
		"AWS_ENDPOINT_URL_SQS=" + s.SQSEndpoint,
		"AWS_REGION=" + Region,
		"AWS_ACCESS_KEY_ID=local",
		"AWS_SECRET_ACCESS_KEY=local",
		"AWS_EC2_METADATA_DISABLED=true",
	}
}

// probeClient makes the readiness calls. No keep-alives: an idle
// connection would otherwise stay open to a server we may stop soon.
var probeClient = &http.Client{
	Timeout:   2 * time.Second,
	Transport: &http.Transport{DisableKeepAlives: true},
}

func probeDynamoDB(ctx context.Context, endpoint string) error {
	return probeJSON(ctx, endpoint, "DynamoDB_20120810.ListTables", "application/x-amz-json-1.0")
}

func probeKMS(ctx context.Context, endpoint string) error {
	return probeJSON(ctx, endpoint, "TrentService.ListKeys", "application/x-amz-json-1.1")
}

func probeSQS(ctx context.Context, endpoint string) error {
	return probeJSON(ctx, endpoint, "AmazonSQS.ListQueues", "application/x-amz-json-1.0")
}

// probeJSON makes one cheap read-only call in the service's JSON protocol
// and wants a 200. Answering a real call, rather than just accepting a TCP
// connection, shows the emulator has finished opening its store.
func probeJSON(ctx context.Context, endpoint, target, contentType string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint+"/", strings.NewReader("{}"))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("X-Amz-Target", target)
	// dynalite rejects requests without something shaped like a SigV4
	// Authorization header and an X-Amz-Date; it never checks the
	// signature. The others ignore these headers.
	now := time.Now().UTC()
	req.Header.Set("X-Amz-Date", now.Format("20060102T150405Z"))
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=local/"+now.Format("20060102")+
		"/"+Region+"/probe/aws4_request, SignedHeaders=host;x-amz-date, Signature=0")
	resp, err := probeClient.Do(req)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: got status %d, want 200: %s", target, resp.StatusCode, body)
	}
	return nil
}

// signalGroup sends sig to the child's whole process group. Children run in
// their own group (Setpgid) so that anything they spawn is stopped too, and
// so that a Ctrl-C in the terminal reaches only the parent, which then
// stops them in order.
func signalGroup(pid int, sig syscall.Signal) error {
	err := syscall.Kill(-pid, sig)
	if errors.Is(err, syscall.ESRCH) {
		return nil
	}
	return err
}

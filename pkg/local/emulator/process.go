package emulator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// childSpec says how to run one emulator and how to tell it is ready.
type childSpec struct {
	name string
	path string
	args []string
	env  []string // added to this process's environment; later entries win
	port int      // the port asked for; 0 means the child picks one

	// readyLine matches the line the child prints once it listens; its
	// first group is the port. Reading the port back from the child is
	// what lets port 0 work without a pick-then-bind race.
	readyLine *regexp.Regexp
	probe     func(ctx context.Context, endpoint string) error
}

// child is one running emulator process.
type child struct {
	spec   childSpec
	cmd    *exec.Cmd
	tail   *outputTail
	stdout *lineWriter
	stderr *lineWriter

	done    chan struct{} // closed once the process has been waited for
	waitErr error         // how it exited; read only after done is closed
}

func startChild(spec childSpec, stdout, stderr io.Writer, outMu *sync.Mutex) (*child, error) {
	tail := &outputTail{readyLine: spec.readyLine, port: make(chan int, 1)}
	c := &child{
		spec:   spec,
		tail:   tail,
		stdout: &lineWriter{prefix: "[" + spec.name + "] ", dst: stdout, dstMu: outMu, tail: tail},
		stderr: &lineWriter{prefix: "[" + spec.name + "] ", dst: stderr, dstMu: outMu, tail: tail},
		done:   make(chan struct{}),
	}
	cmd := exec.Command(spec.path, spec.args...)
	cmd.Env = append(os.Environ(), spec.env...)
	cmd.Stdout = c.stdout
	cmd.Stderr = c.stderr
	cmd.SysProcAttr = sysProcAttr()
	// If the child leaves a grandchild holding its output pipes, Wait would
	// block until that one exits too. Give up on the pipes after a moment.
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("emulator: start %s (%s): %w", spec.name, spec.path, err)
	}
	c.cmd = cmd
	go func() {
		c.waitErr = cmd.Wait()
		// A last line without a newline is still worth showing.
		c.stdout.flush()
		c.stderr.flush()
		close(c.done)
	}()
	return c, nil
}

// waitReady waits for the child's listening line, then calls its probe
// until it succeeds. It returns the endpoint, or an error carrying the
// child's last output if the child dies or takes longer than timeout.
func (c *child) waitReady(ctx context.Context, timeout time.Duration) (string, error) {
	waitCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	var port int
	select {
	case port = <-c.tail.port:
	case <-c.done:
		return "", c.diedError()
	case <-waitCtx.Done():
		return "", c.notReadyError(ctx, timeout, errors.New("it never printed its listening line"))
	}

	endpoint := "http://127.0.0.1:" + strconv.Itoa(port)
	for {
		err := c.spec.probe(waitCtx, endpoint)
		if err == nil {
			return endpoint, nil
		}
		select {
		case <-c.done:
			return "", c.diedError()
		case <-waitCtx.Done():
			return "", c.notReadyError(ctx, timeout, fmt.Errorf("%s does not answer: %w", endpoint, err))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (c *child) diedError() error {
	msg := fmt.Sprintf("emulator: %s exited before it was ready (%v)", c.spec.name, c.waitErr)
	if c.spec.port != 0 {
		msg += fmt.Sprintf("; is port %d already in use?", c.spec.port)
	}
	return errors.New(msg + c.tail.String())
}

func (c *child) notReadyError(ctx context.Context, timeout time.Duration, cause error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("emulator: waiting for %s: %w", c.spec.name, ctx.Err())
	}
	return fmt.Errorf("emulator: %s not ready after %s: %v%s", c.spec.name, timeout, cause, c.tail.String())
}

func (c *child) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// stopChildren stops all children at once: SIGTERM now, SIGKILL to those
// still running after stopTimeout. A child that had died on its own is
// reported, since whoever used it was talking to a dead endpoint.
func stopChildren(children []*child) error {
	var errs []error
	for _, c := range children {
		if c.exited() {
			errs = append(errs, fmt.Errorf("emulator: %s had exited before Close (%v)%s",
				c.spec.name, c.waitErr, c.tail.String()))
			continue
		}
		if err := signalGroup(c.cmd.Process.Pid, syscall.SIGTERM); err != nil {
			errs = append(errs, fmt.Errorf("emulator: stop %s: %w", c.spec.name, err))
		}
	}

	deadline := time.Now().Add(stopTimeout)
	for _, c := range children {
		select {
		case <-c.done:
			continue
		case <-time.After(time.Until(deadline)):
		}
		// The process has not been reaped yet (done is still open), so
		// its pid, which is also its group id, cannot have been reused.
		if err := signalGroup(c.cmd.Process.Pid, syscall.SIGKILL); err != nil {
			errs = append(errs, fmt.Errorf("emulator: kill %s: %w", c.spec.name, err))
		}
		select {
		case <-c.done:
			errs = append(errs, fmt.Errorf("emulator: %s did not stop within %s after SIGTERM; killed it",
				c.spec.name, stopTimeout))
		case <-time.After(stopTimeout):
			errs = append(errs, fmt.Errorf("emulator: %s (pid %d) did not exit even after SIGKILL",
				c.spec.name, c.cmd.Process.Pid))
		}
	}
	return errors.Join(errs...)
}

// ansiEscape matches terminal colour codes; local-kms always prints them.
var ansiEscape = regexp.MustCompile(`\x1b\[[0-9;]*[A-Za-z]`)

// maxLineBytes caps how much of an unterminated line is buffered.
const maxLineBytes = 64 << 10

// lineWriter splits a child's output into lines, records them in tail and
// copies them, prefixed, to dst (if not nil) under dstMu.
type lineWriter struct {
	prefix string
	dst    io.Writer
	dstMu  *sync.Mutex
	tail   *outputTail

	mu  sync.Mutex
	buf []byte
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.line(w.buf[:i])
		w.buf = w.buf[i+1:]
	}
	if len(w.buf) > maxLineBytes {
		w.line(w.buf)
		w.buf = nil
	}
	return len(p), nil
}

func (w *lineWriter) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 {
		w.line(w.buf)
		w.buf = nil
	}
}

func (w *lineWriter) line(b []byte) {
	line := ansiEscape.ReplaceAllString(strings.TrimRight(string(b), "\r"), "")
	w.tail.add(line)
	if w.dst == nil {
		return
	}
	w.dstMu.Lock()
	defer w.dstMu.Unlock()
	// A failing log writer must not stop the child: ignore the error.
	fmt.Fprintf(w.dst, "%s%s\n", w.prefix, line)
}

// maxTailLines is how many of a child's last lines go into error messages.
const maxTailLines = 30

// outputTail keeps a child's last lines and watches for its listening line.
type outputTail struct {
	readyLine *regexp.Regexp // nil: do not watch
	port      chan int       // gets the port from the first matching line

	mu    sync.Mutex
	lines []string
	found bool
}

func (t *outputTail) add(line string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lines = append(t.lines, line)
	if len(t.lines) > maxTailLines {
		t.lines = t.lines[len(t.lines)-maxTailLines:]
	}
	if t.readyLine == nil || t.found {
		return
	}
	m := t.readyLine.FindStringSubmatch(line)
	if m == nil {
		return
	}
	port, err := strconv.Atoi(m[1])
	if err != nil {
		return
	}
	t.found = true
	t.port <- port // buffered, and sent at most once
}

// String returns the kept lines as an indented block for error messages.
func (t *outputTail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.lines) == 0 {
		return "; it printed nothing"
	}
	var b strings.Builder
	b.WriteString("; last output:")
	for _, line := range t.lines {
		b.WriteString("\n\t")
		b.WriteString(line)
	}
	return b.String()
}

package main

import (
	"context"

	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	localstack "github.com/hooksentry/hooksentry/pkg/local/stack"
	"github.com/hooksentry/hooksentry/pkg/store"
)

// One local stack shared by the tests that run CLI commands against the
// real API (destinations, listen), started by the first of them and
// stopped after the last test: the fake-API tests do not pay for it.

var shared struct {
	once sync.Once
	dir  string
	st   *localstack.Stack
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.st != nil {
		_ = shared.st.Close()
	}
	if shared.dir != "" {
		os.RemoveAll(shared.dir)
	}
	os.Exit(code)
}

// stackEnv points the CLI at the shared stack (its state directory, so
// minted tokens and the listen CA are the stack's) and returns the stack
// and a new tenant of its own for the test.
func stackEnv(t *testing.T) (*localstack.Stack, string) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts the local stack")
	}
	shared.once.Do(func() {
		shared.dir, shared.err = os.MkdirTemp("", "hooksentry-cli-")
		if shared.err != nil {
			return
		}
		// The settings run gives its stack: deliveries trust the listen CA.
		settings, err := stackSettings(shared.dir)
		if err != nil {
			shared.err = err
			return
		}
		names := localstack.DefaultNames()
		names.VisibilityTimeout = 30 * time.Second
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		opts := localstack.Options{StateDir: shared.dir, Addr: "127.0.0.1:0", Names: names, Settings: settings,
			Workers: 2, SweepInterval: -1}
		if os.Getenv("HOOKSENTRY_TEST_LOGS") != "" {
			opts.Log = os.Stderr
		}
		shared.st, shared.err = localstack.Start(ctx, opts)
	})
	if shared.err != nil {
		t.Fatalf("start local stack: %v", shared.err)
	}
	t.Setenv("HOOKSENTRY_STATE_DIR", shared.dir)
	t.Setenv("HOOKSENTRY_LOCAL_ADDR", strings.TrimPrefix(shared.st.URL, "http://"))
	for _, k := range []string{"HOOKSENTRY_API_URL", "HOOKSENTRY_TOKEN", "HOOKSENTRY_TENANT"} {
		t.Setenv(k, "")
	}
	tenant := uuid.NewString()
	if err := shared.st.Env.Store().CreateTenant(context.Background(), store.Tenant{ID: tenant, Name: t.Name(), CreatedAt: store.NewTenantTime(time.Now())}); err != nil {
		t.Fatal(err)
	}
	return shared.st, tenant
}

// syncBuffer is an output that a command running in a goroutine writes
// while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor polls until cond holds or the timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool, output func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s; output so far:\n%s", timeout, what, output())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

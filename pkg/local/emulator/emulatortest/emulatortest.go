// Package emulatortest gives a test binary one emulator stack for all of its
// tests. Use it from TestMain:
//
//	var stack *emulator.Stack
//
//	func TestMain(m *testing.M) {
//		os.Exit(emulatortest.Run(m, func(s *emulator.Stack) { stack = s }))
//	}
//
// Run sets the AWS_* variables from Stack.Env in the process environment,
// so AWS SDK clients built with default config talk to the emulators.
// Each test binary gets its own stack and state, so packages tested in
// parallel by "go test ./..." do not see each other's tables or queues;
// tests inside one binary share them and should use unique names.
//
// Set HOOKSENTRY_EMULATOR_LOGS=1 to see the emulators' output on stderr.
package emulatortest

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hooksentry/hooksentry/pkg/local/emulator"
)

// startTimeout covers a first run that has to npm ci and go build local-kms.
const startTimeout = 5 * time.Minute

// awsVarsToClear would otherwise leak a developer's real AWS setup into
// tests: a named profile that the SDK insists on finding, or a session
// token that does not belong to the dummy keys.
var awsVarsToClear = []string{
	"AWS_PROFILE",
	"AWS_DEFAULT_PROFILE",
	"AWS_SESSION_TOKEN",
}

// Run starts an emulator stack in a fresh temporary directory, points the
// AWS environment variables at it, calls fn (if not nil) with it, runs the
// tests, then stops the stack and removes the directory. It returns the
// exit code for os.Exit. If the stack cannot start, no test runs and the
// code is 1.
func Run(m *testing.M, fn func(*emulator.Stack)) int {
	stateDir, err := os.MkdirTemp("", "hooksentry-emulators-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "emulatortest: %v\n", err)
		return 1
	}
	defer os.RemoveAll(stateDir)

	var logs io.Writer
	if os.Getenv("HOOKSENTRY_EMULATOR_LOGS") != "" {
		logs = os.Stderr
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	stack, err := emulator.Start(ctx, emulator.Options{
		StateDir: stateDir,
		Stdout:   logs,
		Stderr:   logs,
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "emulatortest: %v\n", err)
		return 1
	}
	// Deferred so that the stack stops even if fn or a test panics.
	defer func() {
		if err := stack.Close(); err != nil {
			fmt.Fprintf(os.Stderr, "emulatortest: %v\n", err)
		}
	}()

	for _, name := range awsVarsToClear {
		os.Unsetenv(name)
	}
	for _, kv := range stack.Env() {
		name, value, _ := strings.Cut(kv, "=")
		if err := os.Setenv(name, value); err != nil {
			fmt.Fprintf(os.Stderr, "emulatortest: %v\n", err)
			return 1
		}
	}

	if fn != nil {
		fn(stack)
	}
	return m.Run()
}

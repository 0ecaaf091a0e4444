// Package functions_test starts every Lambda binary the way the Lambda
// service does — environment from template.yaml, a Runtime API to poll —
// and checks that each one initialises and asks for its first invocation.
// It catches wiring mistakes in functions/*/main.go that no handler test
// can see.
package functions_test

import (
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/hooksentry/hooksentry/pkg/testkit"
)

func TestEveryFunctionStartsAndPollsTheRuntimeAPI(t *testing.T) {
	root := filepath.Join("..", "..")
	dirs, err := os.ReadDir(filepath.Join(root, "functions"))
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	for _, d := range dirs {
		d := d.Name()
		t.Run(d, func(t *testing.T) {
			exe := filepath.Join(bin, d)
			build := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", exe, "./functions/"+d)
			build.Dir = root
			if out, err := build.CombinedOutput(); err != nil {
				t.Fatalf("build: %v\n%s", err, out)
			}
			polled := make(chan string, 1)
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				select {
				case polled <- r.Method + " " + r.URL.Path:
				default:
				}
				<-r.Context().Done() // hold the poll, like a Runtime API with no work
			})}
			go func() { _ = srv.Serve(ln) }()
			defer srv.Close()

			cmd := exec.Command(exe)
			cmd.Env = []string{
				"AWS_LAMBDA_RUNTIME_API=" + ln.Addr().String(),
				"AWS_LAMBDA_FUNCTION_NAME=" + d, "AWS_REGION=us-east-1",
				"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_SESSION_TOKEN=test",
				"HOOKSENTRY_TABLE_NAME=hooksentry", "HOOKSENTRY_KMS_KEY_ID=alias/hooksentry-test",
				"HOOKSENTRY_QUEUE_URL=https://sqs.us-east-1.amazonaws.com/123456789012/q",
				"HOOKSENTRY_DLQ_URL=https://sqs.us-east-1.amazonaws.com/123456789012/dlq",
			}
			out := &testkit.LogBuffer{}
			cmd.Stderr = out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			defer func() { _ = cmd.Process.Kill(); <-exited }()
			select {
			case got := <-polled:
				if want := "GET /2018-06-01/runtime/invocation/next"; got != want {
					t.Errorf("first Runtime API request = %q, want %q", got, want)
				}
			case err := <-exited:
				t.Fatalf("exited before polling the Runtime API: %v\n%s", err, out)
			case <-time.After(30 * time.Second):
				t.Fatalf("did not poll the Runtime API within 30s\n%s", out)
			}
		})
	}
	if len(dirs) != 16 {
		t.Errorf("functions/ has %d functions, want the 16 of template.yaml", len(dirs))
	}
}

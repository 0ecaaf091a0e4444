package functions_test

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoFunctionLinksTheLocalStack keeps pkg/local/... (emulators, the local
// gateway and authorizer, the event source mapping) out of every Lambda
// binary: none of it may end up in what is deployed.
func TestNoFunctionLinksTheLocalStack(t *testing.T) {
	const local = "github.com/hooksentry/hooksentry/pkg/local"
	cmd := exec.Command("go", "list", "-deps", "-f", `{{.ImportPath}}{{range .Deps}} {{.}}{{end}}`, "./functions/...")
	cmd.Dir = filepath.Join("..", "..")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	functions := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 || !strings.HasPrefix(fields[0], "github.com/hooksentry/hooksentry/functions/") {
			continue
		}
		functions++
		for _, dep := range fields[1:] {
			if dep == local || strings.HasPrefix(dep, local+"/") {
				t.Errorf("%s depends on %s", fields[0], dep)
			}
		}
	}
	if functions == 0 {
		t.Fatal("go list found no functions/* packages")
	}
	// The check itself: a package under pkg/local is seen when linked.
	cmd = exec.Command("go", "list", "-deps", "./cmd/hooksentry")
	cmd.Dir = filepath.Join("..", "..")
	out, err = cmd.Output()
	if err != nil {
		t.Fatalf("go list ./cmd/hooksentry: %v", err)
	}
	if !strings.Contains(string(out), local+"/stack\n") {
		t.Errorf("go list -deps ./cmd/hooksentry does not list %s/stack; the check above would miss it too", local)
	}
}

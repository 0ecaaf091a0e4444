package emulator

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeModule writes a tiny main module printing msg into dir.
func writeModule(t *testing.T, dir, msg string) {
	t.Helper()
	files := map[string]string{
		"go.mod":  "module example.com/fakekms\n\ngo 1.21\n",
		"main.go": "package main\n\nfunc main() { println(" + `"` + msg + `"` + ") }\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func runBinary(t *testing.T, path string) string {
	t.Helper()
	out, err := exec.Command(path).CombinedOutput()
	if err != nil {
		t.Fatalf("run %s: %v: %s", path, err, out)
	}
	return strings.TrimSpace(string(out))
}

func TestEnsureLocalKMSRebuildsOnlyWhenSourcesChange(t *testing.T) {
	srcDir, binDir := t.TempDir(), t.TempDir()
	binPath := filepath.Join(binDir, localKMSBinary)
	writeModule(t, srcDir, "one")
	// Left over from the go install of upstream's main: must go.
	if err := os.WriteFile(binPath+".version", []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	var log bytes.Buffer
	if err := ensureLocalKMS(ctx, srcDir, binDir, &log); err != nil {
		t.Fatalf("first build: %v", err)
	}
	if !strings.Contains(log.String(), "installing local-kms") {
		t.Errorf("first build: got log %q, want it to say it is installing", log.String())
	}
	if got := runBinary(t, binPath); got != "one" {
		t.Errorf("built binary says %q, want %q", got, "one")
	}
	if _, err := os.Stat(binPath + ".version"); !os.IsNotExist(err) {
		t.Errorf("old version marker: got %v, want it removed", err)
	}

	// Nothing changed (a test file does not count): no build.
	if err := os.WriteFile(filepath.Join(srcDir, "main_test.go"), []byte("package main\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	log.Reset()
	if err := ensureLocalKMS(ctx, srcDir, binDir, &log); err != nil {
		t.Fatalf("second call: %v", err)
	}
	if log.Len() != 0 {
		t.Errorf("second call with unchanged sources: got log %q, want nothing", log.String())
	}

	// Changed source: rebuilt.
	writeModule(t, srcDir, "two")
	log.Reset()
	if err := ensureLocalKMS(ctx, srcDir, binDir, &log); err != nil {
		t.Fatalf("build after change: %v", err)
	}
	if got := runBinary(t, binPath); got != "two" {
		t.Errorf("rebuilt binary says %q, want %q", got, "two")
	}

	// Missing binary with a current marker: rebuilt.
	if err := os.Remove(binPath); err != nil {
		t.Fatal(err)
	}
	if err := ensureLocalKMS(ctx, srcDir, binDir, io.Discard); err != nil {
		t.Fatalf("build after removing the binary: %v", err)
	}
	if got := runBinary(t, binPath); got != "two" {
		t.Errorf("rebuilt binary says %q, want %q", got, "two")
	}

	// No scratch directories left behind.
	entries, err := os.ReadDir(binDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != localKMSBinary && e.Name() != localKMSBinary+localKMSMarker {
			t.Errorf("%s: got unexpected entry %q", binDir, e.Name())
		}
	}
}

func TestSourceHash(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	hash := func() string {
		t.Helper()
		h, err := sourceHash(dir)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}

	write("main.go", "package main\n")
	if _, err := sourceHash(dir); err == nil {
		t.Errorf("sourceHash without go.mod: got nil error, want one")
	}
	write("go.mod", "module m\n")
	base := hash()

	write("README.md", "not part of the build\n")
	write("x_test.go", "package main\n")
	if got := hash(); got != base {
		t.Errorf("after adding README.md and a test file: hash changed, want unchanged")
	}
	for _, change := range []struct{ name, content string }{
		{"go.sum", "example.com/m v1.0.0 h1:x=\n"},
		{"main.go", "package main // changed\n"},
		{"seed.go", "package main\n"},
		{"go.mod", "module m // changed\n"},
	} {
		before := hash()
		write(change.name, change.content)
		if hash() == before {
			t.Errorf("after changing %s: hash unchanged, want it to change", change.name)
		}
	}
}

package emulator

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// local-kms is built from the Go module in tools/localkms, a small main
// around the local-kms version pinned in its go.mod that listens on
// 127.0.0.1 only (upstream's own main listens on all interfaces).
// EnsureTools rebuilds it when the hash of that module's sources, kept in
// a marker next to the binary, differs.
const (
	localKMSSource = "tools/localkms"
	localKMSBinary = "local-kms"
	// localKMSMarker is appended to the binary's path.
	localKMSMarker = ".source.sha256"
)

// minNodeMajor is the oldest Node.js the npm emulators support.
const minNodeMajor = 18

// npmMarker, inside node_modules, holds the SHA-256 of the package-lock.json
// that node_modules was installed from. Comparing content rather than
// modification times is not fooled by git checkouts touching files.
const npmMarker = ".hooksentry-package-lock.sha256"

// FindRepoRoot walks up from dir to the first directory containing go.mod
// and checks that it has tools/emulators/package.json.
func FindRepoRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("emulator: %w", err)
	}
	for start := dir; ; {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			if _, err := os.Stat(filepath.Join(dir, "tools", "emulators", "package.json")); err != nil {
				return "", fmt.Errorf("emulator: %s has go.mod but no tools/emulators/package.json", dir)
			}
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("emulator: no go.mod in %s or any parent directory", start)
		}
		dir = parent
	}
}

// EnsureTools installs what the emulators need, and does nothing when it is
// already there:
//
//   - npm ci in tools/emulators, when node_modules was not installed from
//     the current package-lock.json;
//   - go build of tools/localkms (local-kms, bound to 127.0.0.1) into
//     repoRoot/bin/local-kms, when the binary or its marker
//     (bin/local-kms.source.sha256, the hash of tools/localkms's go.mod,
//     go.sum and .go files) is missing or stale.
//
// Concurrent callers, in this or other processes (parallel test binaries),
// take turns on a lock file in repoRoot/bin. log gets a line for each step
// taken plus the installers' output; nil discards it.
func EnsureTools(ctx context.Context, repoRoot string, log io.Writer) error {
	return withToolsLock(ctx, repoRoot, ".emulator-tools.lock", log, func(binDir string, log io.Writer) error {
		if err := ensureNodeModules(ctx, filepath.Join(repoRoot, "tools", "emulators"), log); err != nil {
			return err
		}
		return ensureLocalKMS(ctx, filepath.Join(repoRoot, filepath.FromSlash(localKMSSource)), binDir, log)
	})
}

// withToolsLock runs install, once Node.js is found, holding the lock file
// lockName in repoRoot/bin, so that concurrent installers (parallel test
// binaries) take turns.
func withToolsLock(ctx context.Context, repoRoot, lockName string, log io.Writer, install func(binDir string, log io.Writer) error) error {
	if log == nil {
		log = io.Discard
	}
	if _, err := findNode(ctx); err != nil {
		return err
	}
	binDir := filepath.Join(repoRoot, "bin")
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		return fmt.Errorf("emulator: %w", err)
	}
	unlock, err := lockFile(ctx, filepath.Join(binDir, lockName), log)
	if err != nil {
		return err
	}
	defer unlock()
	return install(binDir, log)
}

// BrowserToolsDir holds the pinned browser driver of the console's browser
// tests (playwright-core; the browser itself is Debian's chromium).
const BrowserToolsDir = "tools/browser"

// EnsureBrowserTools runs npm ci in repoRoot/tools/browser when its
// node_modules was not installed from the current package-lock.json (the
// same marker as the emulators'), taking turns with other processes on a
// lock file in repoRoot/bin. It installs no browser.
func EnsureBrowserTools(ctx context.Context, repoRoot string, log io.Writer) error {
	return withToolsLock(ctx, repoRoot, ".browser-tools.lock", log, func(_ string, log io.Writer) error {
		return ensureNodeModules(ctx, filepath.Join(repoRoot, filepath.FromSlash(BrowserToolsDir)), log)
	})
}

// findNode returns the path of node on PATH, checking it is new enough.
func findNode(ctx context.Context) (string, error) {
	const need = "Node.js 18+ is required (node on PATH) to run the DynamoDB and SQS emulators"
	node, err := exec.LookPath("node")
	if err != nil {
		return "", fmt.Errorf("emulator: %s: %w", need, err)
	}
	out, err := exec.CommandContext(ctx, node, "--version").Output()
	if err != nil {
		return "", fmt.Errorf("emulator: %s: %s --version: %w", need, node, err)
	}
	version := strings.TrimSpace(string(out))
	major, _, _ := strings.Cut(strings.TrimPrefix(version, "v"), ".")
	n, err := strconv.Atoi(major)
	if err != nil || n < minNodeMajor {
		return "", fmt.Errorf("emulator: %s; %s is %s", need, node, version)
	}
	return node, nil
}

// lockFile takes an exclusive flock on path, polling so that ctx can cancel
// the wait. The kernel drops the lock if the process dies, so a crashed
// install never leaves it stuck.
func lockFile(ctx context.Context, path string, log io.Writer) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("emulator: %w", err)
	}
	told := false
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, fmt.Errorf("emulator: lock %s: %w", path, err)
		}
		if !told {
			fmt.Fprintf(log, "waiting for another process installing emulator tools (%s)\n", path)
			told = true
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("emulator: waiting for lock %s: %w", path, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
	// Closing the file releases the lock.
	return func() { f.Close() }, nil
}

func ensureNodeModules(ctx context.Context, dir string, log io.Writer) error {
	lock, err := os.ReadFile(filepath.Join(dir, "package-lock.json"))
	if err != nil {
		return fmt.Errorf("emulator: %w (create it with: npm install --package-lock-only)", err)
	}
	sum := sha256.Sum256(lock)
	want := hex.EncodeToString(sum[:])
	markerPath := filepath.Join(dir, "node_modules", npmMarker)
	got, err := os.ReadFile(markerPath)
	if err == nil && strings.TrimSpace(string(got)) == want {
		return nil
	}

	npm, err := exec.LookPath("npm")
	if err != nil {
		return fmt.Errorf("emulator: npm (part of Node.js 18+) is required to install the emulators: %w", err)
	}
	fmt.Fprintf(log, "installing npm packages: npm ci in %s\n", dir)
	cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund")
	cmd.Dir = dir
	if err := runLogged(cmd, "[npm] ", log); err != nil {
		return fmt.Errorf("emulator: npm ci in %s: %w", dir, err)
	}
	// npm ci recreates node_modules, so the marker goes in afterwards.
	if err := writeFileAtomic(markerPath, []byte(want+"\n")); err != nil {
		return fmt.Errorf("emulator: %w", err)
	}
	return nil
}

func ensureLocalKMS(ctx context.Context, srcDir, binDir string, log io.Writer) error {
	want, err := sourceHash(srcDir)
	if err != nil {
		return fmt.Errorf("emulator: local-kms sources: %w", err)
	}
	binPath := filepath.Join(binDir, localKMSBinary)
	markerPath := binPath + localKMSMarker
	got, err := os.ReadFile(markerPath)
	if err == nil && strings.TrimSpace(string(got)) == want {
		if info, err := os.Stat(binPath); err == nil && info.Mode().IsRegular() && info.Mode()&0o111 != 0 {
			return nil
		}
	}

	goCmd, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("emulator: the go command is required to build local-kms from %s: %w", srcDir, err)
	}
	// Build into a scratch directory next to the final place, then
	// rename: a reader never sees a half-written binary.
	tmpDir, err := os.MkdirTemp(binDir, ".local-kms-build-")
	if err != nil {
		return fmt.Errorf("emulator: %w", err)
	}
	defer os.RemoveAll(tmpDir)

	fmt.Fprintf(log, "installing local-kms: go build in %s into %s\n", srcDir, binPath)
	// tools/localkms is its own module, so its dependencies stay out of
	// the repo's go.mod. -mod=readonly: its go.sum is committed and must
	// never be rewritten by a build. GOWORK=off: a go.work above the repo
	// must not pull it into a workspace. -buildvcs=false: no git needed.
	cmd := exec.CommandContext(ctx, goCmd, "build", "-C", srcDir,
		"-mod=readonly", "-buildvcs=false", "-trimpath",
		"-o", filepath.Join(tmpDir, localKMSBinary), ".")
	cmd.Env = append(os.Environ(), "GOWORK=off")
	if err := runLogged(cmd, "[go build] ", log); err != nil {
		return fmt.Errorf("emulator: go build in %s: %w", srcDir, err)
	}
	if err := os.Rename(filepath.Join(tmpDir, localKMSBinary), binPath); err != nil {
		return fmt.Errorf("emulator: %w", err)
	}
	if err := writeFileAtomic(markerPath, []byte(want+"\n")); err != nil {
		return fmt.Errorf("emulator: %w", err)
	}
	// The marker of the old "go install" of upstream's own main.
	os.Remove(binPath + ".version")
	return nil
}

// sourceHash is the SHA-256, in hex, of what goes into the local-kms build:
// go.mod, go.sum and the non-test .go files of dir, by name and content.
func sourceHash(dir string) (string, error) {
	entries, err := os.ReadDir(dir) // sorted by name
	if err != nil {
		return "", err
	}
	h := sha256.New()
	hasGoMod := false
	for _, e := range entries {
		name := e.Name()
		isGo := strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go")
		if !e.Type().IsRegular() || !(isGo || name == "go.mod" || name == "go.sum") {
			continue
		}
		content, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return "", err
		}
		sum := sha256.Sum256(content)
		fmt.Fprintf(h, "%s\x00%x\n", name, sum)
		hasGoMod = hasGoMod || name == "go.mod"
	}
	if !hasGoMod {
		return "", fmt.Errorf("no go.mod in %s", dir)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// runLogged runs cmd with its output copied, prefixed, to log. On failure
// the error carries the last lines, since log may be discarding them.
func runLogged(cmd *exec.Cmd, prefix string, log io.Writer) error {
	tail := &outputTail{}
	w := &lineWriter{prefix: prefix, dst: log, dstMu: &sync.Mutex{}, tail: tail}
	cmd.Stdout = w
	cmd.Stderr = w
	err := cmd.Run()
	w.flush()
	if err != nil {
		return fmt.Errorf("%w%s", err, tail.String())
	}
	return nil
}

// writeFileAtomic writes data to a temporary file and renames it into place,
// so a concurrent reader sees the old content or the new, never a part.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return err
	}
	_, writeErr := f.Write(data)
	closeErr := f.Close()
	if err := errors.Join(writeErr, closeErr); err != nil {
		os.Remove(f.Name())
		return err
	}
	// CreateTemp makes the file 0600; markers are ordinary files.
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		os.Remove(f.Name())
		return err
	}
	return os.Rename(f.Name(), path)
}

package bench

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	coldRuns        = 15   // starts per binary
	coldTargetRatio = 2.0  // cold start / baseline cold start
	sizeTargetMiB   = 10.0 // linux/arm64 stripped binary
	coldBaseline    = "baseline"
	coldTimeout     = 10 * time.Second
)

// buildFlags are the Makefile's `make build` flags.
var buildFlags = []string{"-trimpath", "-ldflags", "-s -w", "-tags", "lambda.norpc"}

// BenchmarkColdStart builds every function of functions/ and a do-nothing
// lambda.Start baseline for the host, starts each coldRuns times against a
// fake Lambda Runtime API on 127.0.0.1, and measures the time from
// exec to the first GET /2018-06-01/runtime/invocation/next: runtime
// start, package initialisation, main (settings, AWS configuration,
// clients) and the runtime loop's first poll. It also builds the
// linux/arm64 bundles as `make build` does and reports their sizes.
func BenchmarkColdStart(b *testing.B) {
	dir := b.TempDir()
	entries, err := os.ReadDir("../functions")
	if err != nil {
		b.Fatal(err)
	}
	var names []string
	pkgs := []string{"./bench/coldstart/baseline"}
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
			pkgs = append(pkgs, "./functions/"+e.Name())
		}
	}
	hostDir, armDir := filepath.Join(dir, "host"), filepath.Join(dir, "linux-arm64")
	t0 := time.Now()
	goBuild(b, "..", []string{"CGO_ENABLED=0"}, append(append(append([]string{}, buildFlags...), "-o", hostDir+"/"), pkgs...)...)
	goBuild(b, "..", []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64"}, append(append(append([]string{}, buildFlags...), "-o", armDir+"/"), pkgs...)...)
	fmt.Printf("\nbuilt %d binaries for the host and linux/arm64 in %s\n", len(pkgs), time.Since(t0).Round(100*time.Millisecond))

	api := startFakeRuntimeAPI(b)
	home := filepath.Join(dir, "home") // no ~/.aws files, as in Lambda
	if err := os.MkdirAll(home, 0o700); err != nil {
		b.Fatal(err)
	}
	all := append([]string{coldBaseline}, names...)
	times := map[string][]time.Duration{}
	b.ResetTimer()
	for run := range coldRuns {
		for _, name := range all {
			d, _, err := coldStart(api, filepath.Join(hostDir, name), lambdaEnv(name, api.addr, home, ""))
			if err != nil {
				b.Fatalf("%s (run %d): %v", name, run+1, err)
			}
			times[name] = append(times[name], d)
		}
	}
	b.StopTimer()

	base := median(times[coldBaseline])
	type row struct {
		name          string
		med, p90      time.Duration
		ratio         float64
		initsSum      float64 // ms spent in package initialisers (sum of inittrace clocks)
		topInits      string
		armMiB, hostM float64
	}
	var rows []row
	worstRatio, maxMiB := 0.0, 0.0
	for _, name := range all {
		r := row{name: name, med: median(times[name]), p90: percentile(times[name], 0.9)}
		r.ratio = float64(r.med) / float64(base)
		_, stderr, err := coldStart(api, filepath.Join(hostDir, name), lambdaEnv(name, api.addr, home, "inittrace=1"))
		if err != nil {
			b.Fatalf("%s with inittrace: %v", name, err)
		}
		r.initsSum, r.topInits = parseInitTrace(stderr)
		r.armMiB, r.hostM = fileMiB(b, filepath.Join(armDir, name)), fileMiB(b, filepath.Join(hostDir, name))
		if name != coldBaseline {
			worstRatio, maxMiB = max(worstRatio, r.ratio), max(maxMiB, r.armMiB)
		}
		rows = append(rows, r)
	}

	out := os.Stdout
	fmt.Fprintf(out, "\n### Cold start and binary size\n\n")
	fmt.Fprintf(out, "Host binaries (CGO_ENABLED=0, %s), %d starts each, interleaved; time from exec to the first GET /runtime/invocation/next on a fake Runtime API. \"Package inits\" is the time spent in package initialisers (sum of GODEBUG=inittrace=1 clocks, from one extra start, which tracing slows somewhat); the rest is process start, page faults and main: settings, AWS configuration, clients, runtime loop.\n\n",
		strings.Join(buildFlags, " "), coldRuns)
	fmt.Fprintln(out, "| Function | Median | p90 | × baseline | Package inits | Slowest package inits | linux/arm64 size | Host size |")
	fmt.Fprintln(out, "|---|---:|---:|---:|---:|---|---:|---:|")
	for _, r := range rows {
		fmt.Fprintf(out, "| %s | %.1f ms | %.1f ms | %.2f | %.1f ms | %s | %.2f MiB | %.2f MiB |\n",
			r.name, ms(r.med), ms(r.p90), r.ratio, r.initsSum, r.topInits, r.armMiB, r.hostM)
	}
	verdict := func(ok bool) string {
		if ok {
			return "meets"
		}
		return "MISSES"
	}
	fmt.Fprintf(out, "\nWorst cold start %.2f× the baseline: %s the ≤ %.0f× target. Largest linux/arm64 bundle %.2f MiB: %s the ≤ %.0f MiB target.\n",
		worstRatio, verdict(worstRatio <= coldTargetRatio), coldTargetRatio, maxMiB, verdict(maxMiB <= sizeTargetMiB), sizeTargetMiB)

	b.ReportMetric(0, "ns/op")
	b.ReportMetric(ms(base), "baseline-ms")
	b.ReportMetric(worstRatio, "worst-ratio")
	b.ReportMetric(maxMiB, "max-arm64-MiB")
	for _, r := range rows {
		if r.name == "ingest" || r.name == "deliver" {
			b.ReportMetric(ms(r.med), r.name+"-ms")
		}
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func fileMiB(b *testing.B, path string) float64 {
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	return float64(fi.Size()) / (1 << 20)
}

// lambdaEnv is the environment Lambda gives a function (plus its
// HOOKSENTRY_* settings from template.yaml), and nothing from this process.
func lambdaEnv(name, api, home, godebug string) []string {
	mem := "128"
	if name == "deliver" {
		mem = "256"
	}
	env := []string{
		"HOME=" + home, "TZ=:UTC", "LANG=en_US.UTF-8", "PATH=/usr/local/bin:/usr/bin:/bin",
		"AWS_LAMBDA_RUNTIME_API=" + api,
		"AWS_LAMBDA_FUNCTION_NAME=hooksentry-" + name, "AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=" + mem, "AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/hooksentry-" + name,
		"AWS_EXECUTION_ENV=AWS_Lambda_provided.al2023", "_HANDLER=bootstrap", "LAMBDA_TASK_ROOT=/var/task",
		"AWS_REGION=us-east-1", "AWS_DEFAULT_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		"AWS_SESSION_TOKEN=bench-session-token",
		"HOOKSENTRY_TABLE_NAME=hooksentry-bench",
		"HOOKSENTRY_KMS_KEY_ID=arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
		"HOOKSENTRY_QUEUE_URL=https://sqs.us-east-1.amazonaws.com/123456789012/hooksentry-delivery",
		"HOOKSENTRY_DLQ_URL=https://sqs.us-east-1.amazonaws.com/123456789012/hooksentry-delivery-dlq",
		"HOOKSENTRY_ALLOW_PRIVATE_NETWORKS=false",
	}
	if godebug != "" {
		env = append(env, "GODEBUG="+godebug)
	}
	return env
}

// fakeRuntimeAPI answers nothing: it records when a process first asks for
// an invocation and holds the request until the process is killed.
type fakeRuntimeAPI struct {
	addr    string
	arrived chan time.Time
	mu      sync.Mutex
	other   []string // unexpected requests (e.g. /runtime/init/error)
}

func startFakeRuntimeAPI(b *testing.B) *fakeRuntimeAPI {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	api := &fakeRuntimeAPI{addr: ln.Addr().String(), arrived: make(chan time.Time, 1)}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Path == "/2018-06-01/runtime/invocation/next" {
			select {
			case api.arrived <- time.Now():
			default:
			}
			<-r.Context().Done() // held until the process dies
			return
		}
		api.mu.Lock()
		api.other = append(api.other, r.Method+" "+r.URL.Path)
		api.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	})}
	go func() { _ = srv.Serve(ln) }()
	b.Cleanup(func() { _ = srv.Close() })
	return api
}

// coldStart starts bin and returns the time until its first /next request,
// and what it wrote to stderr (read once the process is gone).
func coldStart(api *fakeRuntimeAPI, bin string, env []string) (time.Duration, string, error) {
	select { // a late arrival of a previous start
	case <-api.arrived:
	default:
	}
	var stderr bytes.Buffer
	cmd := exec.Command(bin)
	cmd.Env, cmd.Stderr, cmd.Dir = env, &stderr, filepath.Dir(bin)
	exited := make(chan error, 1)
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, "", err
	}
	go func() { exited <- cmd.Wait() }()
	var d time.Duration
	var err error
	select {
	case at := <-api.arrived:
		d = at.Sub(t0)
		_ = cmd.Process.Kill()
		<-exited
	case werr := <-exited:
		api.mu.Lock()
		other := api.other
		api.mu.Unlock()
		err = fmt.Errorf("exited before polling for an invocation (%v; runtime API saw %v): %s", werr, other, lastLines(stderr.String(), 5))
	case <-time.After(coldTimeout):
		_ = cmd.Process.Kill()
		<-exited
		err = errors.New("no /next request within " + coldTimeout.String())
	}
	return d, stderr.String(), err
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// initLine matches GODEBUG=inittrace=1 output:
// init internal/bytealg @0.008 ms, 0 ms clock, 0 bytes, 0 allocs
var initLine = regexp.MustCompile(`^init (\S+) @([0-9.]+) ms, ([0-9.]+) ms clock`)

// parseInitTrace returns the total time spent in package initialisers and
// the three slowest.
func parseInitTrace(stderr string) (float64, string) {
	type pkg struct {
		name  string
		clock float64
	}
	var pkgs []pkg
	total := 0.0
	sc := bufio.NewScanner(strings.NewReader(stderr))
	for sc.Scan() {
		m := initLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		clock, _ := strconv.ParseFloat(m[3], 64)
		total += clock
		pkgs = append(pkgs, pkg{m[1], clock})
	}
	sort.Slice(pkgs, func(i, j int) bool { return pkgs[i].clock > pkgs[j].clock })
	var top []string
	for _, p := range pkgs[:min(3, len(pkgs))] {
		top = append(top, fmt.Sprintf("%s %.2f ms", strings.TrimPrefix(p.name, "github.com/"), p.clock))
	}
	return total, strings.Join(top, ", ")
}

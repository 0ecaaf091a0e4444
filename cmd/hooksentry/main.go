// Command hooksentry is the local runner and operator CLI:
//
//	hooksentry run                          start the whole stack (make run)
//	hooksentry tenant create --name NAME    create a tenant, print it as JSON
//	hooksentry token --tenant ID [--ttl 1h] mint a JWT the local gateway accepts
//	hooksentry worker [--count 4]           delivery pollers only
//	hooksentry events list --destination ID [--status S] [--from T] [--to T] [--page N] [--size N] [--asc]
//	hooksentry events show EVENT_ID
//	hooksentry events replay EVENT_ID
//	hooksentry events replay --destination ID [--status Failed|Delivered] [--from T] [--to T] [--all]
//	hooksentry events stats --destination ID [--from T] [--to T]
//	hooksentry destinations create|list|get|update|delete|rotate-token|rotate-secret ...
//	hooksentry listen --port N [--path /] [--tenant ID]
//
// All commands share the state directory (HOOKSENTRY_STATE_DIR, default
// .hooksentry).
//
// The events commands call the events API (CONTRACT §5) and print tables,
// or the API's JSON with --json. They talk to the local stack at
// http://HOOKSENTRY_LOCAL_ADDR unless --api URL or HOOKSENTRY_API_URL names
// a deployed API. The bearer token is --token, else HOOKSENTRY_TOKEN; for
// the local stack without one they mint a token (like token) for --tenant,
// else HOOKSENTRY_TENANT, else the tenant that owns the destination or
// event, looked up in the running stack's table. See events.go, tokens.go.
// The destinations commands (destinations.go) work the same way; create and
// list, about no existing destination, need --tenant or HOOKSENTRY_TENANT
// for a minted token. listen (listen.go) serves HTTPS on 127.0.0.1 with a
// certificate of the state directory's CA (listen_ca.go), which run makes
// the stack's deliveries trust.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/google/uuid"

	"github.com/hooksentry/hooksentry/pkg/app"
	"github.com/hooksentry/hooksentry/pkg/config"
	"github.com/hooksentry/hooksentry/pkg/local/devauth"
	"github.com/hooksentry/hooksentry/pkg/local/emulator"
	localstack "github.com/hooksentry/hooksentry/pkg/local/stack"
	"github.com/hooksentry/hooksentry/pkg/store"
)

const usage = `usage:
  hooksentry run
  hooksentry tenant create --name NAME [--id ID] [--aws]
  hooksentry token --tenant ID [--ttl 1h]
  hooksentry worker [--count 4]      delivery pollers only, configured from the environment
  hooksentry events list --destination ID [--status S] [--from T] [--to T] [--page N] [--size N] [--asc]
  hooksentry events show EVENT_ID
  hooksentry events replay EVENT_ID
  hooksentry events replay --destination ID [--status Failed|Delivered] [--from T] [--to T] [--all]
  hooksentry events stats --destination ID [--from T] [--to T]
      events flags: --json, --api URL, --token JWT, --tenant ID (hooksentry events help)
  hooksentry destinations create --url URL [--rate-limit N] [auth flags] [--verification JSON]
                                 [--dedup-key header:X|body:path [--dedup-window 1h]] [--alerts a,b]
  hooksentry destinations list [--status S] [--auth-type T] [--url SUBSTR] [--page N] [--size N] [--sort FIELD] [--asc]
  hooksentry destinations get|delete|rotate-token|rotate-secret ID
  hooksentry destinations update ID [create's flags] [--status active|inactive] [--remove-auth] [--no-verification] [--no-dedup]
      same flags as events; create and list need --tenant or HOOKSENTRY_TENANT without a token
      (hooksentry destinations help)
  hooksentry listen --port N [--path /] [--tenant ID]   print deliveries to https://127.0.0.1:N

Settings: HOOKSENTRY_STATE_DIR (.hooksentry), HOOKSENTRY_LOCAL_ADDR (127.0.0.1:8080),
HOOKSENTRY_DYNAMODB_PORT, HOOKSENTRY_KMS_PORT, HOOKSENTRY_SQS_PORT (0 = any free port),
HOOKSENTRY_LOCAL_WORKERS (4; 0 = none), HOOKSENTRY_LOCAL_SWEEP_INTERVAL (1m),
and the HOOKSENTRY_* function settings of the README.
Events and destinations commands: HOOKSENTRY_API_URL (default: the local stack), HOOKSENTRY_TOKEN,
HOOKSENTRY_TENANT.
`

func main() {
	// The local stack serves the same functions in this process: library
	// log lines (net/http's server among them) get the same redaction of
	// ingest tokens as in Lambda.
	app.RedactStandardLogger()
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "hooksentry:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command")
	}
	switch {
	case args[0] == "run":
		return runStack(stdout, stderr)
	case args[0] == "tenant" && len(args) > 1 && args[1] == "create":
		return tenantCreate(args[2:], stdout)
	case args[0] == "token":
		return token(args[1:], stdout)
	case args[0] == "worker":
		return worker(args[1:])
	case args[0] == "events":
		return events(args[1:], stdout, stderr)
	case args[0] == "destinations":
		return destinations(args[1:], stdout, stderr)
	case args[0] == "listen":
		return listen(args[1:], stdout, stderr)
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", strings.Join(args, " "))
	}
}

func stateDir() string {
	if d := os.Getenv("HOOKSENTRY_STATE_DIR"); d != "" {
		return d
	}
	return ".hooksentry"
}

func port(name string) (int, error) {
	v := os.Getenv(name)
	if v == "" {
		return 0, nil
	}
	p, err := strconv.Atoi(v)
	if err != nil || p < 0 || p > 65535 {
		return 0, fmt.Errorf("%s: %q is not a port number", name, v)
	}
	return p, nil
}

func runStack(stdout, stderr io.Writer) error {
	addr := os.Getenv("HOOKSENTRY_LOCAL_ADDR")
	if addr == "" {
		addr = "127.0.0.1:8080"
	}
	var ports [3]int
	for i, name := range []string{"HOOKSENTRY_DYNAMODB_PORT", "HOOKSENTRY_KMS_PORT", "HOOKSENTRY_SQS_PORT"} {
		p, err := port(name)
		if err != nil {
			return err
		}
		ports[i] = p
	}
	workers := 4
	if v := os.Getenv("HOOKSENTRY_LOCAL_WORKERS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 64 {
			return fmt.Errorf("HOOKSENTRY_LOCAL_WORKERS: %q is not an integer from 0 to 64", v)
		}
		workers = n
	}
	// 0 runs no delivery workers: events are accepted and stay queued.
	optWorkers := workers
	if workers == 0 {
		optWorkers = -1
	}
	sweep := time.Minute
	if v := os.Getenv("HOOKSENTRY_LOCAL_SWEEP_INTERVAL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 100*time.Millisecond {
			return fmt.Errorf("HOOKSENTRY_LOCAL_SWEEP_INTERVAL: %q is not a duration of at least 100ms", v)
		}
		sweep = d
	}
	// The function settings are checked again, with the emulators'
	// endpoints, once the stack is up; an impossible combination (such as
	// a delivery timeout that does not fit in the function's) stops here
	// first, before anything is started.
	if _, err := config.Load(os.Getenv); err != nil {
		return err
	}
	settings, err := stackSettings(stateDir())
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fmt.Fprintln(stdout, "hooksentry: starting emulators (first run installs them)…")
	st, err := localstack.Start(ctx, localstack.Options{
		StateDir: stateDir(), Addr: addr, Settings: settings,
		DynamoDBPort: ports[0], KMSPort: ports[1], SQSPort: ports[2],
		Workers: optWorkers, SweepInterval: sweep,
		Log: stderr,
	})
	if err != nil {
		return err
	}
	defer st.Close()
	fmt.Fprintf(stdout, `hooksentry: ready on %s (%d delivery workers, sweeper every %s)
  health:  curl %s/healthz
  tenant:  go run ./cmd/hooksentry tenant create --name acme
  token:   go run ./cmd/hooksentry token --tenant <tenant id>
Press Ctrl-C to stop.
`, st.URL, workers, sweep, st.URL)
	<-ctx.Done()
	fmt.Fprintln(stdout, "hooksentry: stopping")
	return st.Close()
}

// stackSettings are the function settings run adds to the environment's:
// deliveries trust the CA of `hooksentry listen` in dir (besides
// HOOKSENTRY_EXTRA_CA_FILE, when set), so a developer's listener on this
// machine receives webhooks without further setup.
func stackSettings(dir string) (map[string]string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create state dir: %w", err)
	}
	trust, err := deliveryTrustFile(dir, os.Getenv("HOOKSENTRY_EXTRA_CA_FILE"))
	if err != nil {
		return nil, err
	}
	return map[string]string{"HOOKSENTRY_EXTRA_CA_FILE": trust}, nil
}

func tenantCreate(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("tenant create", flag.ContinueOnError)
	name := fs.String("name", "", "tenant name (required)")
	id := fs.String("id", "", "tenant id (default: a new UUID)")
	useAWS := fs.Bool("aws", false, "write to the table in AWS (HOOKSENTRY_TABLE_NAME, normal AWS configuration) instead of the local stack")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if strings.TrimSpace(*name) == "" {
		return errors.New("tenant create: --name is required")
	}
	if *id == "" {
		*id = uuid.NewString()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	table := os.Getenv("HOOKSENTRY_TABLE_NAME")
	if !*useAWS {
		endpoint, tableName, stop, err := localDynamoDB(ctx)
		if err != nil {
			return err
		}
		defer stop()
		table = tableName
		os.Setenv("AWS_ENDPOINT_URL_DYNAMODB", endpoint)
		for k, v := range map[string]string{"AWS_REGION": emulator.Region, "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"} {
			os.Setenv(k, v)
		}
	}
	if table == "" {
		table = "hooksentry"
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return fmt.Errorf("load AWS configuration: %w", err)
	}
	t := store.Tenant{ID: *id, Name: *name, CreatedAt: store.NewTenantTime(time.Now())}
	if err := store.New(dynamodb.NewFromConfig(cfg), table).CreateTenant(ctx, t); err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(t)
}

// localDynamoDB finds the DynamoDB emulator of a running `hooksentry run`,
// or starts the emulators on the same state directory for the duration of
// the command.
func localDynamoDB(ctx context.Context) (endpoint, table string, stop func(), err error) {
	dir := stateDir()
	if s, ok := runningStackState(); ok {
		return s.DynamoDBEndpoint, s.TableName, func() {}, nil
	}
	emu, err := emulator.Start(ctx, emulator.Options{StateDir: dir})
	if err != nil {
		return "", "", nil, err
	}
	for _, kv := range emu.Env() {
		k, v, _ := strings.Cut(kv, "=")
		os.Setenv(k, v)
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err == nil {
		_, err = localstack.Provision(ctx, cfg, localstack.DefaultNames())
	}
	if err != nil {
		_ = emu.Close()
		return "", "", nil, err
	}
	return emu.DynamoDBEndpoint, localstack.DefaultNames().Table, func() { _ = emu.Close() }, nil
}

// runningStackState reads the state file of a running `hooksentry run` on the
// state directory; ok is false when there is none or its DynamoDB emulator
// does not answer.
func runningStackState() (localstack.State, bool) {
	b, err := os.ReadFile(filepath.Join(stateDir(), localstack.StateFile))
	if err != nil {
		return localstack.State{}, false
	}
	var s localstack.State
	if json.Unmarshal(b, &s) != nil || !reachable(s.DynamoDBEndpoint) {
		return localstack.State{}, false
	}
	return s, true
}

func reachable(endpoint string) bool {
	host := strings.TrimPrefix(endpoint, "http://")
	if host == "" {
		return false
	}
	c, err := net.DialTimeout("tcp", host, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

func token(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	tenant := fs.String("tenant", "", "tenant id (required)")
	ttl := fs.Duration("ttl", time.Hour, "token lifetime")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *tenant == "" {
		return errors.New("token: --tenant is required")
	}
	iss, err := devauth.LoadOrCreateIssuer(stateDir())
	if err != nil {
		return err
	}
	tok, err := iss.Mint(*tenant, *ttl)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, tok)
	return err
}

// worker runs delivery pollers in this process, configured entirely from
// the environment (AWS_ENDPOINT_URL_*, HOOKSENTRY_QUEUE_URL, ...). The fault
// tests run it as a separate process so they can SIGKILL it mid-batch.
func worker(args []string) error {
	fs := flag.NewFlagSet("worker", flag.ContinueOnError)
	count := fs.Int("count", 4, "concurrent pollers")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	env, err := app.LoadEnv(ctx)
	if err != nil {
		return err
	}
	p, err := localstack.NewPoller(ctx, env, *count)
	if err != nil {
		return err
	}
	p.Run(ctx)
	return nil
}

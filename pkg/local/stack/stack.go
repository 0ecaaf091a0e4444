package stack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"

	"github.com/hooksentry/hooksentry/pkg/app"
	"github.com/hooksentry/hooksentry/pkg/config"
	"github.com/hooksentry/hooksentry/pkg/httpapi"
	"github.com/hooksentry/hooksentry/pkg/ingest"
	"github.com/hooksentry/hooksentry/pkg/local/devauth"
	"github.com/hooksentry/hooksentry/pkg/local/emulator"
	"github.com/hooksentry/hooksentry/pkg/local/gateway"
	"github.com/hooksentry/hooksentry/pkg/openapi"
)

// Options configures a local stack.
type Options struct {
	StateDir string // .hooksentry by default
	Addr     string // gateway address, 127.0.0.1:8080 by default
	// Emulator ports; zero picks free ports.
	DynamoDBPort, KMSPort, SQSPort int
	Names                          Names
	// Settings overrides HOOKSENTRY_* variables for the functions; unset
	// names fall back to the process environment.
	Settings map[string]string
	Log      io.Writer // emulator and function logs; nil discards
	// Workers is the number of concurrent delivery pollers (the event
	// source mapping's maximum concurrency); 0 means 4, negative none.
	Workers int
	// SweepInterval is how often the sweeper runs; 0 means every minute,
	// negative never.
	SweepInterval time.Duration
	// APIOptions are copied into Env.APIOptions before any handler, poller
	// or sweeper builds its clients, so SDK middleware (such as the
	// benchmarks' request counters) sees every AWS request the stack makes.
	APIOptions []func(*aws.Config)
}

// Stack is a running local HookSentry.
type Stack struct {
	URL       string // http://127.0.0.1:8080
	Resources Resources
	Emulators *emulator.Stack
	Env       *app.Env
	Issuer    *devauth.Issuer

	server   *http.Server
	listener net.Listener
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	stop     sync.Once
}

// StateFile is where a running stack records its endpoints, so that the CLI
// (tenant create) can reach the same emulators.
const StateFile = "stack.json"

// State is the content of StateFile.
type State struct {
	Resources
	DynamoDBEndpoint string `json:"dynamodbEndpoint"`
	KMSEndpoint      string `json:"kmsEndpoint"`
	SQSEndpoint      string `json:"sqsEndpoint"`
	GatewayURL       string `json:"gatewayUrl"`
	PID              int    `json:"pid"`
}

// Start brings up the emulators, provisions resources, and serves every
// function through the local gateway.
func Start(ctx context.Context, opts Options) (*Stack, error) {
	if opts.StateDir == "" {
		opts.StateDir = ".hooksentry"
	}
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:8080"
	}
	if opts.Names.Table == "" {
		opts.Names = DefaultNames()
	}
	logw := opts.Log
	if logw == nil {
		logw = io.Discard
	}
	if err := os.MkdirAll(opts.StateDir, 0o700); err != nil {
		return nil, fmt.Errorf("create state dir: %w", err)
	}
	emu, err := emulator.Start(ctx, emulator.Options{
		StateDir: opts.StateDir, DynamoDBPort: opts.DynamoDBPort, KMSPort: opts.KMSPort, SQSPort: opts.SQSPort,
		Stdout: opts.Log, Stderr: opts.Log,
	})
	if err != nil {
		return nil, err
	}
	st := &Stack{Emulators: emu}
	if err := st.start(ctx, opts, logw); err != nil {
		_ = st.Close()
		return nil, err
	}
	return st, nil
}

func (st *Stack) start(ctx context.Context, opts Options, logw io.Writer) error {
	// The SDK's standard variables point every client at the emulators.
	for _, kv := range st.Emulators.Env() {
		k, v, _ := strings.Cut(kv, "=")
		if err := os.Setenv(k, v); err != nil {
			return fmt.Errorf("set %s: %w", k, err)
		}
	}
	// The same configuration the functions build in Lambda.
	awsCfg, err := app.AWSFromEnvironment(os.Getenv)
	if err != nil {
		return fmt.Errorf("AWS configuration: %w", err)
	}
	awsCfg.HTTPClient = emulatorHTTPClient()
	res, err := Provision(ctx, awsCfg, opts.Names)
	if err != nil {
		return err
	}
	st.Resources = res
	// The gateway listens first: the console's sign-in settings name its
	// actual address (HOOKSENTRY_LOCAL_ADDR may pick port 0).
	st.listener, err = net.Listen("tcp", opts.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", opts.Addr, err)
	}
	st.URL = "http://" + st.listener.Addr().String()

	settings := map[string]string{
		"HOOKSENTRY_TABLE_NAME":             res.TableName,
		"HOOKSENTRY_KMS_KEY_ID":             res.KMSKeyID,
		"HOOKSENTRY_QUEUE_URL":              res.QueueURL,
		"HOOKSENTRY_DLQ_URL":                res.DLQURL,
		"HOOKSENTRY_ALLOW_PRIVATE_NETWORKS": "true",
	}
	// A developer watching make run sees every attempt, unless told not to.
	if os.Getenv("HOOKSENTRY_LOG_ATTEMPTS") == "" {
		settings["HOOKSENTRY_LOG_ATTEMPTS"] = "true"
	}
	requested := func(name string) string {
		if v, ok := opts.Settings[name]; ok {
			return v
		}
		return os.Getenv(name)
	}
	ext, err := ExternalIssuerFromSettings(requested)
	if err != nil {
		return err
	}
	st.Issuer, err = devauth.LoadOrCreateIssuer(opts.StateDir)
	if err != nil {
		return err
	}
	// With the local issuer, the console signs in against the gateway's own
	// /oauth endpoints. With an external issuer those are not served, and
	// the console's settings are the user's (HOOKSENTRY_CONSOLE_*), as in
	// a deployment.
	// The local sign-in gives a token for any tenant to whoever reaches
	// it: only on a loopback listener, never one the network can reach.
	var auth *devauth.AuthServer
	if ext == nil && loopbackURL(st.URL) {
		auth, err = devauth.NewAuthServer(st.Issuer, st.URL, nil)
		if err != nil {
			return err
		}
		for k, v := range ConsoleSettings(auth) {
			settings[k] = v
		}
	}
	for k, v := range opts.Settings {
		settings[k] = v
	}
	setting := func(name string) string {
		if v, ok := settings[name]; ok {
			return v
		}
		return os.Getenv(name)
	}
	cfg, err := config.Load(setting)
	if err != nil {
		return err
	}
	st.Env = &app.Env{Config: cfg, AWS: awsCfg, Log: app.NewLogger(logw), APIOptions: opts.APIOptions}

	handler, err := HandlerWith(ctx, st.Env, st.Issuer, ext, auth)
	if err != nil {
		return err
	}
	st.server = NewServer(handler)
	st.wg.Add(1)
	go func() {
		defer st.wg.Done()
		if err := st.server.Serve(st.listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
			st.Env.Log.Error("gateway stopped", "error", err)
		}
	}()
	var runCtx context.Context
	runCtx, st.cancel = context.WithCancel(context.Background())
	if opts.Workers >= 0 {
		p, err := NewPoller(ctx, st.Env, max(opts.Workers, 0))
		if err != nil {
			return err
		}
		st.wg.Add(1)
		go func() { defer st.wg.Done(); p.Run(runCtx) }()
	}
	if opts.SweepInterval >= 0 {
		interval := opts.SweepInterval
		if interval == 0 {
			interval = time.Minute
		}
		sw := Functions{Env: st.Env}.Sweeper()
		st.wg.Add(1)
		go func() {
			defer st.wg.Done()
			t := time.NewTicker(interval)
			defer t.Stop()
			for {
				select {
				case <-runCtx.Done():
					return
				case <-t.C:
					if _, err := sw.Sweep(runCtx); err != nil && runCtx.Err() == nil {
						st.Env.Log.Error("sweep", "error", err)
					}
				}
			}
		}()
	}
	return st.writeState(opts.StateDir)
}

// emulatorIdleConns is how many idle connections each SDK client of the
// stack keeps to its emulator.
const emulatorIdleConns = 256

// emulatorHTTPClient is the SDK's default HTTP client with a larger idle
// pool (each SDK client built from the configuration gets its own copy). A
// Lambda instance runs one invocation at a time, so the default pool of 10
// idle connections per host is plenty there; the local gateway runs every
// concurrent request in this one process on the same clients, and with 16
// ingest requests in flight the default pool closed, and then dialled
// again, a connection for about one AWS call in ten.
func emulatorHTTPClient() *awshttp.BuildableClient {
	return awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConns = emulatorIdleConns
		t.MaxIdleConnsPerHost = emulatorIdleConns
	})
}

// Handler is what the stack serves: the local gateway in front of every
// function of env (Routes), and the issuer's JWKS. The gateway accepts
// tokens of the local issuer. It serves no /oauth endpoints.
func Handler(env *app.Env, issuer *devauth.Issuer) (http.Handler, error) {
	return HandlerWith(context.Background(), env, issuer, nil, nil)
}

// HandlerWith is Handler accepting tokens of ext instead of the local
// issuer's when ext is not nil (HOOKSENTRY_JWT_ISSUER); it fails if ext's
// JWKS cannot be fetched. The local issuer's JWKS stays served: harmless,
// and `hooksentry token` keeps working against a stack without ext. auth,
// if not nil, answers the local issuer's /oauth endpoints (the console's
// sign-in), without a JWT.
func HandlerWith(ctx context.Context, env *app.Env, issuer *devauth.Issuer, ext *ExternalIssuer, auth *devauth.AuthServer) (http.Handler, error) {
	validator, err := authorizer(ctx, issuer, ext)
	if err != nil {
		return nil, err
	}
	routes, err := Routes(env)
	if err != nil {
		return nil, err
	}
	gw := &gateway.Gateway{Routes: routes, Authorizer: validator, Log: env.Log}
	// No ServeMux in front of the gateway: it would clean and redirect
	// paths such as //api, which API Gateway answers with 404.
	jwks := issuer.JWKSHandler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Path == "/.well-known/jwks.json" {
			jwks.ServeHTTP(w, r)
			return
		}
		// The API document, public like the JWKS: a deployed stack has no
		// Lambda for it (docs/openapi.yaml marks it local-only).
		if r.Method == http.MethodGet && r.URL.Path == openapi.JSONPath {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(openapi.JSON())
			return
		}
		if auth != nil && devauth.Handles(r.URL.Path) {
			auth.ServeHTTP(w, r)
			return
		}
		gw.ServeHTTP(w, r)
	}), nil
}

// NewServer returns the HTTP server the stack serves h with; the
// benchmarks serve their baselines with the same settings.
func NewServer(h http.Handler) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
}

func (st *Stack) writeState(dir string) error {
	b, err := json.MarshalIndent(State{
		Resources:        st.Resources,
		DynamoDBEndpoint: st.Emulators.DynamoDBEndpoint,
		KMSEndpoint:      st.Emulators.KMSEndpoint,
		SQSEndpoint:      st.Emulators.SQSEndpoint,
		GatewayURL:       st.URL,
		PID:              os.Getpid(),
	}, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, StateFile), b, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", StateFile, err)
	}
	return nil
}

// Routes is every HTTP route of template.yaml with the handler its function
// runs in Lambda, built with that function's wiring (HTTPFunctions).
func Routes(env *app.Env) ([]gateway.Route, error) {
	fns := Functions{Env: env}
	var routes []gateway.Route
	add := func(method, path, function string, jwt bool) error {
		h, err := fns.HTTP(function)
		if err != nil {
			return err
		}
		routes = append(routes, gateway.Route{Method: method, Path: path, Function: function, JWT: jwt, Handler: h})
		return nil
	}
	for _, r := range httpapi.Routes {
		if err := add(r.Method, r.Path, r.Function, true); err != nil {
			return nil, err
		}
	}
	if err := add(http.MethodPost, ingest.Path, "ingest", false); err != nil {
		return nil, err
	}
	for _, path := range ConsolePaths {
		if err := add(http.MethodGet, path, "console", false); err != nil {
			return nil, err
		}
	}
	return routes, nil
}

// Close stops the gateway, the workers and the emulators.
func (st *Stack) Close() error {
	var err error
	st.stop.Do(func() {
		if st.cancel != nil {
			st.cancel()
		}
		if st.server != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_ = st.server.Shutdown(ctx)
			cancel()
		} else if st.listener != nil {
			_ = st.listener.Close() // start failed between listening and serving
		}
		st.wg.Wait()
		if st.Emulators != nil {
			err = st.Emulators.Close()
		}
	})
	return err
}

// loopbackURL reports whether rawURL's host is a loopback IP address.
func loopbackURL(rawURL string) bool {
	u, err := url.Parse(rawURL)
	if err != nil {
		return false
	}
	ip := net.ParseIP(u.Hostname())
	return ip != nil && ip.IsLoopback()
}

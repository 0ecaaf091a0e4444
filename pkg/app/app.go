// Package app is HookSentry's composition root: it reads settings, builds
// the AWS configuration once per process (never per invocation), and wires
// the domain services into the handlers each Lambda function runs. Each
// function's wiring is defined once, in its package under pkg/app/fn, which
// both its functions/<name>/main.go and the local stack (pkg/local/stack)
// call, so `make run` executes exactly the code that Lambda does.
//
// The package imports no SDK service client but DynamoDB's: a function links
// (and initialises, at cold start) only the clients its fn package wires in,
// such as envelope.New for KMS or queue.New for SQS.
package app

import (
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/hooksentry/hooksentry/pkg/config"
	"github.com/hooksentry/hooksentry/pkg/delivery"
	"github.com/hooksentry/hooksentry/pkg/destination"
	"github.com/hooksentry/hooksentry/pkg/history"
	"github.com/hooksentry/hooksentry/pkg/httpapi"
	"github.com/hooksentry/hooksentry/pkg/ingest"
	"github.com/hooksentry/hooksentry/pkg/lambdahttp"
	"github.com/hooksentry/hooksentry/pkg/metrics"
	"github.com/hooksentry/hooksentry/pkg/netguard"
	"github.com/hooksentry/hooksentry/pkg/redact"
	"github.com/hooksentry/hooksentry/pkg/store"
)

// Env is what every function needs: settings, AWS configuration, a logger.
type Env struct {
	Config config.Config
	AWS    aws.Config
	Log    *slog.Logger
	// APIOptions lets tests and the benchmarks add SDK middleware (such as
	// request counters) to every client built from this Env.
	APIOptions []func(*aws.Config)
	// MetricsOutput receives the functions' EMF metric lines (pkg/metrics).
	// Start sets it to stdout, which Lambda sends to the function's log
	// group, where CloudWatch extracts the metrics. Nil discards them: the
	// local stack and the CLI's worker build their Env without it, so make
	// run's output is not filled with lines nothing reads.
	MetricsOutput io.Writer
}

// LoadEnv reads settings and the AWS configuration from the process
// environment (see AWSFromEnvironment).
func LoadEnv(ctx context.Context) (*Env, error) {
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		return nil, err
	}
	awsCfg, err := AWSFromEnvironment(os.Getenv)
	if err != nil {
		return nil, err
	}
	return &Env{Config: cfg, AWS: awsCfg, Log: NewLogger(os.Stderr)}, nil
}

// NewLogger is the functions' logger: JSON lines on w, with ingest tokens
// redacted from every line (pkg/redact), whatever attribute or error
// carries them.
func NewLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(redact.NewWriter(w), nil))
}

// RedactStandardLogger sends the standard logger (used by libraries, such
// as the SDK's or net/http's own messages) to stderr through the same
// redaction, so no dependency's log line carries an ingest token either.
func RedactStandardLogger() {
	log.SetOutput(redact.NewWriter(os.Stderr))
}

// AWSConfig returns the AWS configuration with the Env's API options
// applied; pass it to a client's NewFromConfig.
func (e *Env) AWSConfig() aws.Config {
	c := e.AWS.Copy()
	for _, o := range e.APIOptions {
		o(&c)
	}
	return c
}

// Store returns the table adapter.
func (e *Env) Store() *store.Store {
	s := store.New(dynamodb.NewFromConfig(e.AWSConfig()), e.Config.TableName)
	s.Retention = e.Config.EventRetention
	return s
}

// URLPolicy refuses IP-literal hosts in blocked ranges unless private
// networks are allowed (local mode).
func (e *Env) URLPolicy() destination.URLPolicy {
	if e.Config.AllowPrivateNetworks {
		return nil
	}
	return func(u *url.URL) error { return netguard.ValidateHost(u.Hostname()) }
}

// Drainer asks for a destination's held events to be re-driven.
type Drainer interface {
	RequestDrain(ctx context.Context, destinationID string) error
}

// ManagementDeps are the optional collaborators of management functions:
// only create and update seal credentials, only update re-activates.
type ManagementDeps struct {
	Sealer  destination.Sealer
	Drainer Drainer
}

// ManagementFunction returns the Lambda handler of one management route.
func (e *Env) ManagementFunction(name string, deps ManagementDeps) lambdahttp.Handler {
	svc := &destination.Service{Store: e.Store(), Sealer: deps.Sealer, Policy: e.URLPolicy(), Log: e.Log}
	if deps.Drainer != nil {
		// Events held while the destination was Inactive or Suspended go
		// back on the queue through a drain message.
		svc.Activated = func(ctx context.Context, d destination.Destination) error {
			return deps.Drainer.RequestDrain(ctx, d.ID)
		}
	}
	api := &httpapi.API{Destinations: svc, TenantClaim: e.Config.TenantClaim, Log: e.Log}
	return lambdahttp.Adapt(api.Handler(name), e.Log)
}

// EventsFunction returns the Lambda handler of one events route (CONTRACT
// §5); pub is nil except for the replay functions, which send messages.
func (e *Env) EventsFunction(name string, pub history.Publisher) lambdahttp.Handler {
	st := e.Store()
	destinations := &destination.Service{Store: st, Policy: e.URLPolicy(), Log: e.Log}
	events := &history.Service{Store: st, Destinations: destinations, Publisher: pub, Log: e.Log}
	api := &httpapi.API{Destinations: destinations, Events: events, TenantClaim: e.Config.TenantClaim, Log: e.Log}
	return lambdahttp.Adapt(api.Handler(name), e.Log)
}

// Metrics returns a metrics sink on MetricsOutput with the environment's
// Environment dimension. A sink aggregates counts: build one per function.
func (e *Env) Metrics() *metrics.Sink {
	w := e.MetricsOutput
	if w == nil {
		w = io.Discard
	}
	return metrics.New(w, e.Config.Environment, nil)
}

// IngestFunction returns the Lambda handler of POST /ingest/{token}.
func (e *Env) IngestFunction(q ingest.Queue, sealer destination.Sealer) lambdahttp.Handler {
	st := e.Store()
	h := &ingest.Handler{
		Tokens: st, Destinations: st, Sealer: sealer, Claims: st, Queue: q, Log: e.Log,
		Tolerance: e.Config.VerifyTolerance, Metrics: e.Metrics(),
	}
	mux := http.NewServeMux()
	mux.Handle("POST "+ingest.Path, h)
	mux.HandleFunc("/", httpapi.NotFound)
	return lambdahttp.Adapt(mux, e.Log)
}

// Worker builds the delivery consumer.
func (e *Env) Worker(sealer destination.Sealer, q delivery.Queue) (*delivery.Worker, error) {
	client, err := netguard.NewHTTPClient(netguard.ClientOptions{
		AllowPrivateNetworks: e.Config.AllowPrivateNetworks, ExtraCAFile: e.Config.ExtraCAFile,
	})
	if err != nil {
		return nil, fmt.Errorf("outbound HTTP client: %w", err)
	}
	c := e.Config
	st := e.Store()
	return &delivery.Worker{
		Store:       st,
		History:     st,
		Subscribers: st,
		Metrics:     e.Metrics(),
		Queue:       q,
		Sender:      &delivery.Sender{Client: client, Tokens: &delivery.TokenCache{Client: client}, Timeout: c.DeliveryTimeout},
		Sealer:      sealer,
		Backoff:     delivery.Backoff{Base: c.RetryBaseDelay, Max: c.RetryMaxDelay},
		Config: delivery.Config{
			MaxAttempts: c.MaxAttempts, FailureThreshold: c.BreakerFailureThreshold,
			Cooldown: c.BreakerCooldown, MaxCooldown: c.MaxCooldown, MaxSlotWait: c.MaxSlotWait,
			LogAttempts: c.LogAttempts,
		},
		Log: e.Log,
	}, nil
}

// FunctionTimeout is the deliver function's timeout (template.yaml, and
// config.DeliverFunctionTimeout); the local event source mapping gives each
// invocation the same.
func (e *Env) FunctionTimeout() time.Duration { return config.DeliverFunctionTimeout }

// Start is every function's main: it loads the environment, builds the
// handler with the function's wiring (its package's Handler in pkg/app/fn),
// and hands it to the Lambda runtime. A configuration error stops start-up
// with a message naming the function and the setting.
func Start[H any](function string, build func(env *Env) (H, error)) {
	RedactStandardLogger()
	env, err := LoadEnv(context.Background())
	var handler H
	if err == nil {
		env.MetricsOutput = os.Stdout
		handler, err = build(env)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", function, err)
		os.Exit(1)
	}
	lambda.Start(handler)
}

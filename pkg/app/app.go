// Package app is HookSentry's composition root: it reads settings, builds
// the AWS clients once per process (never per invocation), and wires the
// domain services into the handlers each Lambda function runs. The local
// gateway uses the same constructors, so `make run` executes exactly the
// code that Lambda does.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/hooksentry/hooksentry/pkg/config"
	"github.com/hooksentry/hooksentry/pkg/delivery"
	"github.com/hooksentry/hooksentry/pkg/destination"
	"github.com/hooksentry/hooksentry/pkg/envelope"
	"github.com/hooksentry/hooksentry/pkg/event"
	"github.com/hooksentry/hooksentry/pkg/httpapi"
	"github.com/hooksentry/hooksentry/pkg/ingest"
	"github.com/hooksentry/hooksentry/pkg/lambdahttp"
	"github.com/hooksentry/hooksentry/pkg/netguard"
	"github.com/hooksentry/hooksentry/pkg/queue"
	"github.com/hooksentry/hooksentry/pkg/store"
	"github.com/hooksentry/hooksentry/pkg/sweeper"
)

// Env is what every function needs: settings, AWS configuration, a logger.
type Env struct {
	Config config.Config
	AWS    aws.Config
	Log    *slog.Logger
	// APIOptions lets tests and the benchmarks add SDK middleware (such as
	// request counters) to every client built from this Env.
	APIOptions []func(*aws.Config)
}

// LoadEnv reads settings from the process environment and the standard AWS
// configuration chain (including AWS_ENDPOINT_URL_<SERVICE> overrides that
// point the SDK at the local emulators).
func LoadEnv(ctx context.Context) (*Env, error) {
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		return nil, err
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	return &Env{Config: cfg, AWS: awsCfg, Log: slog.New(slog.NewJSONHandler(os.Stderr, nil))}, nil
}

func (e *Env) awsConfig() aws.Config {
	c := e.AWS.Copy()
	for _, o := range e.APIOptions {
		o(&c)
	}
	return c
}

// DynamoDB returns a client for the table.
func (e *Env) DynamoDB() *dynamodb.Client { return dynamodb.NewFromConfig(e.awsConfig()) }

// KMS returns a KMS client.
func (e *Env) KMS() *kms.Client { return kms.NewFromConfig(e.awsConfig()) }

// Store returns the table adapter.
func (e *Env) Store() *store.Store { return store.New(e.DynamoDB(), e.Config.TableName) }

// Sealer returns the envelope sealer. Opened data keys are cached for five
// minutes so a warm delivery worker calls KMS once per destination.
func (e *Env) Sealer() *envelope.Sealer {
	return &envelope.Sealer{KMS: e.KMS(), KeyID: e.Config.KMSKeyID, CacheTTL: 5 * time.Minute, CacheSize: 4096}
}

// URLPolicy refuses IP-literal hosts in blocked ranges unless private
// networks are allowed (local mode).
func (e *Env) URLPolicy() destination.URLPolicy {
	if e.Config.AllowPrivateNetworks {
		return nil
	}
	return func(u *url.URL) error { return netguard.ValidateHost(u.Hostname()) }
}

// ManagementAPI wires the destination service behind the management routes.
func (e *Env) ManagementAPI(st *store.Store) *httpapi.API {
	svc := &destination.Service{Store: st, Sealer: e.Sealer(), Policy: e.URLPolicy()}
	if e.Config.QueueURL != "" {
		q := e.Queue(st)
		// Events held while the destination was Inactive or Suspended go
		// back on the queue through a drain message.
		svc.Activated = func(ctx context.Context, d destination.Destination) error {
			return q.Send(ctx, event.Message{DestinationID: d.ID, Drain: true})
		}
	}
	return &httpapi.API{Destinations: svc, TenantClaim: e.Config.TenantClaim, Policy: svc.Policy, Log: e.Log}
}

// ManagementFunction returns the Lambda handler of one management function.
func (e *Env) ManagementFunction(name string) lambdahttp.Handler {
	return lambdahttp.Adapt(e.ManagementAPI(e.Store()).Handler(name), e.Log)
}

// SQS returns an SQS client.
func (e *Env) SQS() *sqs.Client { return sqs.NewFromConfig(e.awsConfig()) }

// Queue returns the delivery queue, storing oversized bodies in st.
func (e *Env) Queue(st *store.Store) *queue.Queue {
	return &queue.Queue{SQS: e.SQS(), URL: e.Config.QueueURL, Events: st}
}

// IngestFunction returns the Lambda handler of POST /ingest/{token}.
func (e *Env) IngestFunction() lambdahttp.Handler {
	st := e.Store()
	h := &ingest.Handler{Tokens: st, Queue: e.Queue(st), Log: e.Log}
	mux := http.NewServeMux()
	mux.Handle("POST "+ingest.Path, h)
	mux.HandleFunc("/", httpapi.NotFound)
	return lambdahttp.Adapt(mux, e.Log)
}

// Worker builds the delivery consumer.
func (e *Env) Worker() (*delivery.Worker, error) {
	client, err := netguard.NewHTTPClient(netguard.ClientOptions{
		AllowPrivateNetworks: e.Config.AllowPrivateNetworks, ExtraCAFile: e.Config.ExtraCAFile,
	})
	if err != nil {
		return nil, fmt.Errorf("outbound HTTP client: %w", err)
	}
	st := e.Store()
	c := e.Config
	return &delivery.Worker{
		Store:   st,
		Queue:   e.Queue(st),
		Sender:  &delivery.Sender{Client: client, Tokens: &delivery.TokenCache{Client: client}, Timeout: c.DeliveryTimeout},
		Sealer:  e.Sealer(),
		Backoff: delivery.Backoff{Base: c.RetryBaseDelay, Max: c.RetryMaxDelay},
		Config: delivery.Config{
			MaxAttempts: c.MaxAttempts, FailureThreshold: c.BreakerFailureThreshold,
			Cooldown: c.BreakerCooldown, MaxCooldown: max(time.Hour, c.BreakerCooldown), MaxSlotWait: 20 * time.Second,
		},
		Log: e.Log,
	}, nil
}

// Sweeper builds the scheduled sweeper.
func (e *Env) Sweeper() *sweeper.Sweeper {
	st := e.Store()
	client := e.SQS()
	return &sweeper.Sweeper{Store: st, Queue: &queue.Queue{SQS: client, URL: e.Config.QueueURL, Events: st}, DLQ: client, DLQURL: e.Config.DLQURL, Log: e.Log}
}

// FunctionTimeout is the deliver function's timeout in template.yaml; the
// local event source mapping gives each invocation the same.
func (e *Env) FunctionTimeout() time.Duration { return 60 * time.Second }

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
	"net/url"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/hooksentry/hooksentry/pkg/config"
	"github.com/hooksentry/hooksentry/pkg/destination"
	"github.com/hooksentry/hooksentry/pkg/envelope"
	"github.com/hooksentry/hooksentry/pkg/httpapi"
	"github.com/hooksentry/hooksentry/pkg/lambdahttp"
	"github.com/hooksentry/hooksentry/pkg/netguard"
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
	return &httpapi.API{Destinations: svc, TenantClaim: e.Config.TenantClaim, Policy: svc.Policy, Log: e.Log}
}

// ManagementFunction returns the Lambda handler of one management function.
func (e *Env) ManagementFunction(name string) lambdahttp.Handler {
	return lambdahttp.Adapt(e.ManagementAPI(e.Store()).Handler(name), e.Log)
}

package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/google/uuid"

	localstack "github.com/hooksentry/hooksentry/pkg/local/stack"
	"github.com/hooksentry/hooksentry/pkg/store"
	"github.com/hooksentry/hooksentry/pkg/testkit"
)

// One local stack serves the cost and CPU benchmarks of this binary. It is
// started by the first benchmark that needs it and stopped by TestMain.
var shared struct {
	once    sync.Once
	err     error
	dir     string
	stack   *localstack.Stack
	ca      *testkit.CA
	counter *awsCounter
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.stack != nil {
		_ = shared.stack.Close()
	}
	if shared.dir != "" {
		_ = os.RemoveAll(shared.dir)
	}
	os.Exit(code)
}

// benchStack returns the shared stack: emulators and gateway, no delivery
// pollers (benchmarks start their own with localstack.NewPoller, so they
// control when delivery runs) and no sweeper. Every AWS client it builds
// counts its requests in shared.counter.
func benchStack(b *testing.B) (*localstack.Stack, *testkit.CA, *awsCounter) {
	b.Helper()
	shared.once.Do(func() {
		shared.dir, shared.err = os.MkdirTemp("", "hooksentry-bench-")
		if shared.err != nil {
			return
		}
		shared.ca = testkit.NewCA(b, shared.dir)
		shared.counter = newAWSCounter()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		opts := localstack.Options{
			StateDir: filepath.Join(shared.dir, "state"), Addr: "127.0.0.1:0", Names: localstack.DefaultNames(),
			Settings:      map[string]string{"HOOKSENTRY_EXTRA_CA_FILE": shared.ca.File},
			Workers:       -1,
			SweepInterval: -1,
			APIOptions:    []func(*aws.Config){shared.counter.Option},
		}
		if os.Getenv("HOOKSENTRY_BENCH_LOGS") != "" {
			opts.Log = os.Stderr
		}
		start := time.Now()
		shared.stack, shared.err = localstack.Start(ctx, opts)
		if shared.err == nil {
			fmt.Printf("local stack up in %s (%s)\n", time.Since(start).Round(time.Millisecond), shared.stack.URL)
		}
	})
	if shared.err != nil {
		b.Fatalf("start local stack: %v", shared.err)
	}
	return shared.stack, shared.ca, shared.counter
}

// tenantClient creates a tenant and returns an API client acting for it.
func tenantClient(b *testing.B, st *localstack.Stack) *testkit.Client {
	b.Helper()
	id := uuid.NewString()
	if err := st.Env.Store().CreateTenant(context.Background(), store.Tenant{ID: id, Name: b.Name(), CreatedAt: store.NewTenantTime(time.Now())}); err != nil {
		b.Fatal(err)
	}
	tok, err := st.Issuer.Mint(id, time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	return &testkit.Client{BaseURL: st.URL, Token: tok}
}

type createdDestination struct {
	ID          string `json:"id"`
	TenantID    string `json:"tenantId"`
	IngestToken string `json:"ingestToken"`
}

// Every benchmark destination authenticates with a bearer token, so the
// sealed-credentials path (KMS data key, cached) is part of what is measured.
const bearerToken = "bench-bearer-token-0123456789abcdef"

func createDestination(b *testing.B, c *testkit.Client, url string, limit int) createdDestination {
	b.Helper()
	return createDestinationWith(b, c, url, limit, nil)
}

// createDestinationWith creates a destination with extra members of the
// create request (such as deduplication).
func createDestinationWith(b *testing.B, c *testkit.Client, url string, limit int, extra map[string]any) createdDestination {
	b.Helper()
	body := map[string]any{
		"url": url, "serverRateLimit": limit, "authType": "BearerToken", "credentials": map[string]any{"token": bearerToken},
	}
	for k, v := range extra {
		body[k] = v
	}
	resp := c.Do(b, http.MethodPost, "/api/v1/destinations", body, nil)
	if resp.Status != http.StatusCreated {
		b.Fatalf("create destination: %d %s", resp.Status, resp.Body)
	}
	var d createdDestination
	resp.JSON(b, &d)
	return d
}

// webhookBody returns a realistic JSON webhook of exactly size bytes.
func webhookBody(size int, seq int) []byte { return testkit.OrderWebhook(size, seq, nil) }

// webhookHeaders are what a typical sender adds besides Content-Type.
func webhookHeaders() http.Header {
	return http.Header{
		"Content-Type":     {"application/json"},
		"User-Agent":       {"Acme-Webhooks/2.3"},
		"X-Acme-Signature": {"t=1767225600,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd"},
	}
}

// postIngest sends one webhook through the gateway's /ingest route.
func postIngest(client *http.Client, baseURL, token string, body []byte) (string, error) {
	req, err := http.NewRequest(http.MethodPost, baseURL+"/ingest/"+token, bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header = webhookHeaders()
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct {
		EventID string `json:"eventId"`
	}
	if resp.StatusCode != http.StatusAccepted {
		return "", fmt.Errorf("ingest answered %d", resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return "", err
	}
	return out.EventID, nil
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(p * float64(len(s)-1))
	return s[i]
}

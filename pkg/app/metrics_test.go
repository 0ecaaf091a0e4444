package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/hooksentry/hooksentry/pkg/app"
	"github.com/hooksentry/hooksentry/pkg/config"
)

// ingestRefused sends a request with a malformed token, which the ingest
// function refuses without touching the table or the queue.
func ingestRefused(t *testing.T, env *app.Env) {
	t.Helper()
	h := env.IngestFunction(nil, nil)
	resp, err := h(context.Background(), events.APIGatewayV2HTTPRequest{
		RawPath: "/ingest/nope", RouteKey: "POST /ingest/{token}", Body: "{}",
		RequestContext: events.APIGatewayV2HTTPRequestContext{HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST", Path: "/ingest/nope"}},
	})
	if err != nil || resp.StatusCode != 401 {
		t.Fatalf("ingest: %d, %v; want 401", resp.StatusCode, err)
	}
}

func TestIngestFunctionWritesMetricsToMetricsOutput(t *testing.T) {
	cfg := config.Defaults()
	cfg.Environment = "prod"
	var out bytes.Buffer
	env := &app.Env{Config: cfg, AWS: aws.Config{Region: "us-east-1"}, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), MetricsOutput: &out}
	ingestRefused(t, env)
	var line struct {
		Environment   string
		IngestRefused int
		AWS           struct{ Timestamp int64 } `json:"_aws"`
	}
	if err := json.Unmarshal(out.Bytes(), &line); err != nil {
		t.Fatalf("metrics output %q: %v", out.String(), err)
	}
	if line.Environment != "prod" || line.IngestRefused != 1 || line.AWS.Timestamp == 0 {
		t.Errorf("metrics line %s: want IngestRefused 1 in Environment prod", out.String())
	}
}

func TestMetricsWithoutOutputAreDiscarded(t *testing.T) {
	// As the local stack builds its Env: no MetricsOutput. Nothing to
	// observe but that it neither panics nor fails the request.
	env := &app.Env{Config: config.Defaults(), AWS: aws.Config{Region: "us-east-1"}, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ingestRefused(t, env)
}

package kmsjson

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

var (
	testKey  = bytes.Repeat([]byte{0xA5}, 32)
	testBlob = []byte("encrypted-data-key-blob-0123456789")
)

type seenRequest struct {
	header http.Header
	method string
	path   string
	body   map[string]any
}

// fakeKMS answers with the statuses and bodies given, one per request, then
// with a GenerateDataKey/Decrypt success; it records every request.
type fakeKMS struct {
	mu      sync.Mutex
	seen    []seenRequest
	replies []reply
}

type reply struct {
	status int
	body   string
	drop   bool // close the connection without answering
}

func (f *fakeKMS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	_ = json.Unmarshal(raw, &body)
	f.mu.Lock()
	f.seen = append(f.seen, seenRequest{header: r.Header.Clone(), method: r.Method, path: r.URL.Path, body: body})
	var rep *reply
	if len(f.replies) > 0 {
		rep = &f.replies[0]
		f.replies = f.replies[1:]
	}
	f.mu.Unlock()
	if rep != nil && rep.drop {
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.Close()
		return
	}
	if rep != nil {
		w.WriteHeader(rep.status)
		io.WriteString(w, rep.body)
		return
	}
	w.Header().Set("Content-Type", contentType)
	json.NewEncoder(w).Encode(map[string]any{
		"Plaintext": testKey, "CiphertextBlob": testBlob, "KeyId": "arn:aws:kms:eu-west-1:111122223333:key/k",
	})
}

func (f *fakeKMS) requests() []seenRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seenRequest(nil), f.seen...)
}

func newTestClient(t *testing.T, f *fakeKMS) *Client {
	t.Helper()
	srv := httptest.NewServer(f) // listens on 127.0.0.1
	t.Cleanup(srv.Close)
	c := New(aws.Config{
		Region:       "eu-west-1",
		BaseEndpoint: aws.String(srv.URL),
		HTTPClient:   srv.Client(),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret", SessionToken: "session-token"}, nil
		}),
	})
	c.sleep = func(context.Context, time.Duration) error { return nil }
	return c
}

func TestGenerateDataKeyRequest(t *testing.T) {
	f := &fakeKMS{}
	c := newTestClient(t, f)
	key, blob, err := c.GenerateDataKey(context.Background(), "alias/hooksentry", map[string]string{"tenant": "t1"})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(key, testKey) || !bytes.Equal(blob, testBlob) {
		t.Errorf("got key %x blob %q, want the server's", key, blob)
	}
	reqs := f.requests()
	if len(reqs) != 1 {
		t.Fatalf("requests: %d, want 1", len(reqs))
	}
	r := reqs[0]
	checkSigned(t, r, "TrentService.GenerateDataKey")
	want := map[string]any{"KeyId": "alias/hooksentry", "KeySpec": "AES_256", "EncryptionContext": map[string]any{"tenant": "t1"}}
	if !jsonEqual(r.body, want) {
		t.Errorf("body: got %v, want %v", r.body, want)
	}
}

func TestDecryptRequest(t *testing.T) {
	f := &fakeKMS{}
	c := newTestClient(t, f)
	key, err := c.Decrypt(context.Background(), "key-1", testBlob, map[string]string{"tenant": "t1"})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(key, testKey) {
		t.Errorf("got key %x, want the server's", key)
	}
	r := f.requests()[0]
	checkSigned(t, r, "TrentService.Decrypt")
	want := map[string]any{
		"CiphertextBlob":    base64.StdEncoding.EncodeToString(testBlob),
		"KeyId":             "key-1",
		"EncryptionContext": map[string]any{"tenant": "t1"},
	}
	if !jsonEqual(r.body, want) {
		t.Errorf("body: got %v, want %v", r.body, want)
	}
}

func checkSigned(t *testing.T, r seenRequest, target string) {
	t.Helper()
	if r.method != http.MethodPost || r.path != "/" {
		t.Errorf("request: %s %s, want POST /", r.method, r.path)
	}
	for name, want := range map[string]string{
		"Content-Type":         "application/x-amz-json-1.1",
		"X-Amz-Target":         target,
		"X-Amz-Security-Token": "session-token",
	} {
		if got := r.header.Get(name); got != want {
			t.Errorf("%s: got %q, want %q", name, got, want)
		}
	}
	auth := r.header.Get("Authorization")
	scope := "/" + time.Now().UTC().Format("20060102") + "/eu-west-1/kms/aws4_request"
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE"+scope) ||
		!strings.Contains(auth, "x-amz-target") || !strings.Contains(auth, "Signature=") {
		t.Errorf("Authorization: got %q, want a SigV4 signature for kms in eu-west-1 covering X-Amz-Target", auth)
	}
	if r.header.Get("X-Amz-Date") == "" {
		t.Errorf("no X-Amz-Date")
	}
}

func jsonEqual(got map[string]any, want map[string]any) bool {
	a, _ := json.Marshal(got)
	b, _ := json.Marshal(want)
	return bytes.Equal(a, b)
}

func TestRetries(t *testing.T) {
	throttled := reply{status: 400, body: `{"__type":"ThrottlingException","message":"Rate exceeded"}`}
	for _, tc := range []struct {
		name     string
		replies  []reply
		attempts int
		code     string // "" for success
	}{
		{"500 then success", []reply{{status: 500, body: `{"__type":"KMSInternalException"}`}}, 2, ""},
		{"503 without a body then success", []reply{{status: 503}}, 2, ""},
		{"throttled then success", []reply{throttled}, 2, ""},
		{"429 then success", []reply{{status: 429, body: "slow down"}}, 2, ""},
		{"connection dropped then success", []reply{{drop: true}}, 2, ""},
		{"throttled three times", []reply{throttled, throttled, throttled, throttled}, 3, "ThrottlingException"},
		{"400 is final", []reply{{status: 400, body: `{"__type":"com.amazonaws.kms#InvalidCiphertextException","Message":"bad"}`}}, 1, "InvalidCiphertextException"},
		{"403 is final", []reply{{status: 403, body: `{"__type":"AccessDeniedException","message":"no"}`}}, 1, "AccessDeniedException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeKMS{replies: tc.replies}
			c := newTestClient(t, f)
			_, err := c.Decrypt(context.Background(), "key-1", testBlob, nil)
			if got := len(f.requests()); got != tc.attempts {
				t.Errorf("attempts: got %d, want %d", got, tc.attempts)
			}
			if tc.code == "" {
				if err != nil {
					t.Errorf("got %v, want success", err)
				}
				return
			}
			var kerr *Error
			if !errors.As(err, &kerr) || kerr.Code != tc.code {
				t.Errorf("got %v, want code %s", err, tc.code)
			}
		})
	}
}

func TestRetryStopsWithContext(t *testing.T) {
	f := &fakeKMS{replies: []reply{{status: 500}, {status: 500}}}
	c := newTestClient(t, f)
	ctx, cancel := context.WithCancel(context.Background())
	c.sleep = func(ctx context.Context, d time.Duration) error { cancel(); return sleepCtx(ctx, d) }
	_, err := c.Decrypt(ctx, "key-1", testBlob, nil)
	if !errors.Is(err, context.Canceled) || len(f.requests()) != 1 {
		t.Errorf("got %v after %d attempts, want context.Canceled after 1", err, len(f.requests()))
	}
}

// TestErrorsHoldNoSecrets: neither the request (blob, context) nor a
// response body that is not a KMS error reaches the error text.
func TestErrorsHoldNoSecrets(t *testing.T) {
	secretBody := "<html>" + base64.StdEncoding.EncodeToString(testKey) + "</html>"
	for _, rep := range []reply{
		{status: 400, body: `{"__type":"InvalidCiphertextException"}`},
		{status: 502, body: secretBody},
		{status: 200, body: `{"Plaintext":"` + base64.StdEncoding.EncodeToString(testKey) + `",`},
	} {
		f := &fakeKMS{replies: []reply{rep, rep, rep}}
		c := newTestClient(t, f)
		_, err := c.Decrypt(context.Background(), "key-1", testBlob, map[string]string{"tenant": "t1"})
		if err == nil {
			t.Fatalf("reply %d: got nil error", rep.status)
		}
		msg := err.Error()
		for _, s := range []string{string(testBlob), base64.StdEncoding.EncodeToString(testBlob), base64.StdEncoding.EncodeToString(testKey), "html"} {
			if strings.Contains(msg, s) {
				t.Errorf("reply %d: error %q contains %q", rep.status, msg, s)
			}
		}
	}
}

func TestResponseBounded(t *testing.T) {
	f := &fakeKMS{replies: []reply{{status: 200, body: `{"Plaintext":"` + strings.Repeat("A", maxResponse) + `"}`}}}
	c := newTestClient(t, f)
	if _, err := c.Decrypt(context.Background(), "key-1", testBlob, nil); err == nil {
		t.Errorf("oversized response: got nil error")
	}
}

type endpointSource map[string]string

func (s endpointSource) GetServiceBaseEndpoint(_ context.Context, id string) (string, bool, error) {
	v, ok := s[id]
	return v, ok, nil
}

func TestEndpointResolution(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  aws.Config
		want string
	}{
		{"regional", aws.Config{Region: "eu-west-1"}, "https://kms.eu-west-1.amazonaws.com"},
		{"base endpoint", aws.Config{Region: "eu-west-1", BaseEndpoint: aws.String("http://base")}, "http://base"},
		{"config source first", aws.Config{
			Region: "eu-west-1", BaseEndpoint: aws.String("http://base"),
			ConfigSources: []any{"not a source", endpointSource{"DynamoDB": "http://ddb"}, endpointSource{"KMS": "http://kms"}},
		}, "http://kms"},
		{"source without KMS", aws.Config{Region: "eu-west-1", ConfigSources: []any{endpointSource{"SQS": "http://sqs"}}}, "https://kms.eu-west-1.amazonaws.com"},
	} {
		if got := resolveEndpoint(tc.cfg); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}

// Package kmsjson is a minimal client of the two AWS KMS operations
// HookSentry uses, GenerateDataKey and Decrypt, over KMS's JSON 1.1
// protocol, so that no function links the SDK's KMS package: its package
// initialisers (the operation schemas and the endpoint tables) cost every
// cold start about 0.6 ms, for two calls whose wire format is a small JSON
// object.
//
// Requests are signed with the SDK's SigV4 signer and sent with the
// configuration's HTTP client and credentials, to the endpoint the SDK
// client would resolve from the same aws.Config (AWS_ENDPOINT_URL_KMS for
// the local emulator).
package kmsjson

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
)

const (
	// sdkID is the name the SDK asks config sources for (and the suffix of
	// AWS_ENDPOINT_URL_KMS).
	sdkID       = "KMS"
	signingName = "kms"
	contentType = "application/x-amz-json-1.1"

	// maxAttempts and the backoff mirror the SDK's standard retryer closely
	// enough for two idempotent-in-effect calls: a throttled or failed call
	// is tried again, but a Lambda invocation is not held for long.
	maxAttempts = 3
	backoffBase = 50 * time.Millisecond
	backoffMax  = 1 * time.Second

	// maxResponse bounds what is read of a response: KMS answers these
	// operations with well under 1 KiB.
	maxResponse = 64 << 10
	// maxMessage bounds the error message kept from a response.
	maxMessage = 512

	// defaultTimeout bounds one attempt when the configuration brings no
	// HTTP client; the SDK's own default has none, relying on the context.
	defaultTimeout = 10 * time.Second
)

// Client calls KMS GenerateDataKey and Decrypt. It is safe for concurrent
// use.
type Client struct {
	endpoint    string
	region      string
	credentials aws.CredentialsProvider
	http        aws.HTTPClient
	signer      *v4.Signer
	// sleep waits between attempts; tests replace it.
	sleep func(context.Context, time.Duration) error
}

// New returns a client for the region, credentials, HTTP client and KMS
// endpoint of cfg.
func New(cfg aws.Config) *Client {
	hc := cfg.HTTPClient
	if hc == nil {
		// The SDK's buildable client: the same dialer and transport
		// settings (and connection reuse) an SDK client gets by default.
		hc = awshttp.NewBuildableClient().WithTimeout(defaultTimeout)
	}
	return &Client{
		endpoint:    resolveEndpoint(cfg),
		region:      cfg.Region,
		credentials: cfg.Credentials,
		http:        hc,
		signer:      v4.NewSigner(),
		sleep:       sleepCtx,
	}
}

// serviceEndpointSource is what the SDK clients ask each of
// aws.Config.ConfigSources for a per-service base endpoint.
type serviceEndpointSource interface {
	GetServiceBaseEndpoint(ctx context.Context, sdkID string) (string, bool, error)
}

// resolveEndpoint follows the SDK client's order: a per-service endpoint
// from the config sources, then cfg.BaseEndpoint, then the regional
// endpoint.
func resolveEndpoint(cfg aws.Config) string {
	for _, src := range cfg.ConfigSources {
		if s, ok := src.(serviceEndpointSource); ok {
			if v, found, err := s.GetServiceBaseEndpoint(context.Background(), sdkID); err == nil && found && v != "" {
				return v
			}
		}
	}
	if cfg.BaseEndpoint != nil && *cfg.BaseEndpoint != "" {
		return *cfg.BaseEndpoint
	}
	return "https://kms." + cfg.Region + ".amazonaws.com"
}

// Error is a refusal from KMS (or a failure status with no KMS error in
// the body). It carries KMS's code and message, never the request.
type Error struct {
	StatusCode int
	// Code is the exception name without its namespace, e.g.
	// InvalidCiphertextException, NotFoundException.
	Code    string
	Message string
}

func (e *Error) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("kms: %s (HTTP %d)", e.Code, e.StatusCode)
	}
	return fmt.Sprintf("kms: %s (HTTP %d): %s", e.Code, e.StatusCode, e.Message)
}

// retryable reports whether another attempt may succeed.
func (e *Error) retryable() bool {
	switch e.Code {
	case "ThrottlingException", "ThrottledException", "RequestLimitExceeded",
		"KMSInternalException", "DependencyTimeoutException":
		return true
	}
	return e.StatusCode == http.StatusTooManyRequests || e.StatusCode >= 500
}

type generateDataKeyRequest struct {
	KeyId             string            `json:"KeyId"`
	KeySpec           string            `json:"KeySpec"`
	EncryptionContext map[string]string `json:"EncryptionContext,omitempty"`
}

type decryptRequest struct {
	CiphertextBlob    []byte            `json:"CiphertextBlob"` // base64, as encoding/json writes []byte
	EncryptionContext map[string]string `json:"EncryptionContext,omitempty"`
	KeyId             string            `json:"KeyId,omitempty"`
}

type response struct {
	Plaintext      []byte `json:"Plaintext"`
	CiphertextBlob []byte `json:"CiphertextBlob"`
	KeyId          string `json:"KeyId"`
}

// GenerateDataKey returns a new AES-256 data key in plaintext and encrypted
// under keyID with the encryption context.
func (c *Client) GenerateDataKey(ctx context.Context, keyID string, encCtx map[string]string) (plaintext, encryptedKey []byte, err error) {
	var out response
	req := generateDataKeyRequest{KeyId: keyID, KeySpec: "AES_256", EncryptionContext: encCtx}
	if err := c.call(ctx, "GenerateDataKey", req, &out); err != nil {
		return nil, nil, err
	}
	if len(out.Plaintext) == 0 || len(out.CiphertextBlob) == 0 {
		clear(out.Plaintext)
		return nil, nil, errors.New("kms GenerateDataKey: response has no data key")
	}
	return out.Plaintext, out.CiphertextBlob, nil
}

// Decrypt returns the plaintext of a data key encrypted under keyID with
// the encryption context. Naming the key makes KMS refuse a blob of
// another key rather than decrypt it.
func (c *Client) Decrypt(ctx context.Context, keyID string, encryptedKey []byte, encCtx map[string]string) ([]byte, error) {
	var out response
	req := decryptRequest{CiphertextBlob: encryptedKey, EncryptionContext: encCtx, KeyId: keyID}
	if err := c.call(ctx, "Decrypt", req, &out); err != nil {
		return nil, err
	}
	if len(out.Plaintext) == 0 {
		return nil, errors.New("kms Decrypt: response has no plaintext")
	}
	return out.Plaintext, nil
}

// call sends one operation, retrying throttling, server errors and
// connection failures.
func (c *Client) call(ctx context.Context, op string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("kms %s: encode request: %w", op, err)
	}
	defer clear(body) // a Decrypt response's key is secret; the request's blob is not, but costs nothing to wipe
	sum := sha256.Sum256(body)
	payloadHash := hex.EncodeToString(sum[:])

	for attempt := 1; ; attempt++ {
		err, retry := c.attempt(ctx, op, body, payloadHash, out)
		if err == nil {
			return nil
		}
		if !retry || attempt == maxAttempts || ctx.Err() != nil {
			return fmt.Errorf("kms %s: %w", op, err)
		}
		if err := c.sleep(ctx, backoff(attempt)); err != nil {
			return fmt.Errorf("kms %s: %w", op, err)
		}
	}
}

// attempt sends the request once; retry says whether a failure may pass on
// another attempt.
func (c *Client) attempt(ctx context.Context, op string, body []byte, payloadHash string, out any) (err error, retry bool) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build request: %w", err), false
	}
	if req.URL.Path == "" {
		req.URL.Path = "/"
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("X-Amz-Target", "TrentService."+op)
	req.Header.Set("User-Agent", "hooksentry-kmsjson")

	// Retrieved per attempt so that a rotating provider is honoured as the
	// SDK does (the environment provider in Lambda returns fixed values).
	creds, err := c.credentials.Retrieve(ctx)
	if err != nil {
		return fmt.Errorf("retrieve credentials: %w", err), false
	}
	// The signer adds X-Amz-Date and, for temporary credentials such as a
	// Lambda execution role's, X-Amz-Security-Token.
	if err := c.signer.SignHTTP(ctx, creds, req, payloadHash, signingName, c.region, time.Now()); err != nil {
		return fmt.Errorf("sign request: %w", err), false
	}

	resp, err := c.http.Do(req)
	if err != nil {
		// Connection errors are worth another attempt; a cancelled or
		// expired context is not (call checks it).
		return fmt.Errorf("send request: %w", err), true
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return fmt.Errorf("read response: %w", err), true
	}
	defer clear(data) // it holds the base64 of a plaintext data key
	if len(data) > maxResponse {
		return fmt.Errorf("response larger than %d bytes", maxResponse), false
	}
	if resp.StatusCode >= 300 {
		e := parseError(resp.StatusCode, data)
		return e, e.retryable()
	}
	if err := json.Unmarshal(data, out); err != nil {
		// Not wrapped: a syntax error's text could quote the response,
		// which holds key material.
		return errors.New("decode response: malformed JSON"), false
	}
	return nil, false
}

// parseError reads KMS's {"__type": ..., "message": ...}. The type may
// carry a namespace ("com.amazonaws.kms#NotFoundException") or, from some
// servers, a trailing ":http://..." part; both are dropped.
func parseError(status int, data []byte) *Error {
	var body struct {
		Type     string `json:"__type"`
		Message  string `json:"message"`
		MessageU string `json:"Message"`
	}
	e := &Error{StatusCode: status}
	if json.Unmarshal(data, &body) == nil {
		code := body.Type
		if i := strings.LastIndexByte(code, '#'); i >= 0 {
			code = code[i+1:]
		}
		if i := strings.IndexByte(code, ':'); i >= 0 {
			code = code[:i]
		}
		e.Code = code
		e.Message = body.Message
		if e.Message == "" {
			e.Message = body.MessageU
		}
	}
	if e.Code == "" {
		e.Code = http.StatusText(status)
		if e.Code == "" {
			e.Code = fmt.Sprintf("HTTP%d", status)
		}
		e.Message = "" // no KMS error body: nothing of it is kept
	}
	if len(e.Message) > maxMessage {
		e.Message = e.Message[:maxMessage] + "…"
	}
	return e
}

// backoff is exponential with full jitter, so that throttled callers do not
// retry in step.
func backoff(attempt int) time.Duration {
	d := min(backoffBase<<(attempt-1), backoffMax)
	return time.Duration(rand.Int64N(int64(d)) + 1)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

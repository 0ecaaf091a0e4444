package delivery

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/hooksentry/hooksentry/pkg/destination"
	"github.com/hooksentry/hooksentry/pkg/event"
	"github.com/hooksentry/hooksentry/pkg/history"
)

// Result is the outcome of one delivery attempt.
type Result struct {
	Status     int           // HTTP status, 0 when no response arrived
	RetryAfter time.Duration // from the destination's Retry-After header
	Err        error         // transport error or non-2xx status
	// ErrorClass says why a failed attempt failed: one of the history.Err
	// classes (timeout, connection, tls, blocked, auth, status); empty on
	// success.
	ErrorClass string
	// ResponseBody is the start of the answer to a failed attempt, at most
	// history.MaxResponseBody bytes, with the destination's credentials
	// replaced by "[redacted]"; nil on success and without an answer.
	ResponseBody []byte
}

// OK reports whether the attempt succeeded (any 2xx).
func (r Result) OK() bool { return r.Err == nil && r.Status >= 200 && r.Status < 300 }

// Sender makes delivery attempts over the guarded outbound client.
type Sender struct {
	Client  *http.Client
	Tokens  *TokenCache
	Timeout time.Duration // per attempt
	Now     func() time.Time
}

// maxResponseDrain bounds how much of a response body is read so the
// connection can be reused; the rest is discarded with the connection.
const maxResponseDrain = 64 << 10

// Attempt posts the event to the destination once, unsigned: what tests
// of everything but signing use. The worker uses AttemptSigned.
func (s *Sender) Attempt(ctx context.Context, d destination.Destination, creds destination.Credentials, m event.Message) Result {
	return s.AttemptSigned(ctx, d, creds, destination.SigningKeys{}, m)
}

// AttemptSigned posts the event to the destination once, signed with keys
// (HookSentry-Signature; none when keys has no current key). For
// JwtBearer, a 401 triggers one fresh token and one retry within the same
// attempt.
func (s *Sender) AttemptSigned(ctx context.Context, d destination.Destination, creds destination.Credentials, keys destination.SigningKeys, m event.Message) Result {
	ctx, cancel := context.WithTimeout(ctx, s.Timeout)
	defer cancel()
	if d.AuthType != destination.AuthJwtBearer {
		return s.post(ctx, d, creds, keys, m)
	}
	token, err := s.Tokens.Token(ctx, d.ID, creds, "")
	if err != nil {
		return Result{Err: err, ErrorClass: tokenErrorClass(err)}
	}
	res := s.post(ctx, d, creds, keys, m, token)
	if res.Status == http.StatusUnauthorized {
		fresh, err := s.Tokens.Token(ctx, d.ID, creds, token)
		if err != nil {
			// The 401 stays the attempt's answer; it failed for want of
			// a token.
			res.Err, res.ErrorClass = err, tokenErrorClass(err)
			return res
		}
		res = s.post(ctx, d, creds, keys, m, fresh, token)
	}
	return res
}

// post sends m once. tokens are the JwtBearer access tokens of the
// attempt, the one to send first; all of them are redacted from a kept
// answer.
func (s *Sender) post(ctx context.Context, d destination.Destination, creds destination.Credentials, keys destination.SigningKeys, m event.Message, tokens ...string) Result {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(m.Body))
	if err != nil {
		return Result{Err: fmt.Errorf("build request: %w", stripURL(err)), ErrorClass: history.ErrConnection}
	}
	// Header values are set directly, never through Add's splitting or
	// joining, so comma-containing signatures arrive byte for byte.
	// Ingest forwards no reserved header, but the rule is applied again:
	// events accepted under an older rule (which forwarded a sender's
	// HookSentry-* headers) are retried and replayed for days.
	for _, h := range m.Headers {
		if !event.ForwardedHeader(h[0]) {
			continue
		}
		k := http.CanonicalHeaderKey(h[0])
		req.Header[k] = append(req.Header[k], h[1])
	}
	if m.ContentType != "" {
		req.Header.Set("Content-Type", m.ContentType)
	}
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", "HookSentry/1")
	}
	now := time.Now()
	if s.Now != nil {
		now = s.Now()
	}
	// HookSentry's own headers live in its namespace: the sender's
	// headers (webhook-id and webhook-timestamp among them, which
	// Standard Webhooks signatures cover) arrive as they were signed.
	req.Header.Set(event.HeaderEventID, m.EventID)
	req.Header.Set(event.HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(event.HeaderAttempt, strconv.Itoa(m.AttemptNumber()))
	if m.Verified != "" {
		req.Header.Set(event.HeaderVerified, m.Verified)
	}
	// Signed over the same id and timestamp the headers carry; each post
	// (the JwtBearer retry too) signs its own timestamp.
	if sig := signatureHeader(keys, m.EventID, now, m.Body); sig != "" {
		req.Header.Set(HeaderSignature, sig)
	}
	// The destination's auth goes last and replaces any forwarded header
	// of the same name (an ApiKey may use a name a sender also sends, such
	// as X-Api-Key): the destination authenticates with its own value,
	// never the sender's, and never with two.
	switch d.AuthType {
	case destination.AuthAPIKey:
		req.Header.Set(creds.HeaderName, creds.Value)
	case destination.AuthBearerToken:
		req.Header.Set("Authorization", "Bearer "+creds.Token)
	case destination.AuthBasic:
		req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(creds.Username+":"+creds.Password)))
	case destination.AuthJwtBearer:
		if len(tokens) > 0 {
			req.Header.Set("Authorization", "Bearer "+tokens[0])
		}
	}
	resp, err := s.Client.Do(req)
	if err != nil {
		return Result{Err: fmt.Errorf("post to destination: %w", stripURL(err)), ErrorClass: classify(err)}
	}
	defer resp.Body.Close()
	body := io.LimitReader(resp.Body, maxResponseDrain)
	res := Result{Status: resp.StatusCode}
	if !res.OK() {
		res.Err = fmt.Errorf("destination answered %d", resp.StatusCode)
		res.ErrorClass = history.ErrStatus
		res.RetryAfter = ParseRetryAfter(resp.Header.Get("Retry-After"), now)
		res.ResponseBody = keptBody(body, secrets(creds, tokens...))
	}
	_, _ = io.Copy(io.Discard, body)
	return res
}

// stripURL drops the URL from a client error: destination URLs may carry
// secrets in their query strings, and logs must not.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

package delivery

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"

	"github.com/hooksentry/hooksentry/pkg/destination"
	"github.com/hooksentry/hooksentry/pkg/history"
	"github.com/hooksentry/hooksentry/pkg/netguard"
)

// What a failed attempt tells the event's history (CONTRACT §5): why it
// failed (one of the history.Err classes) and the start of the
// destination's answer, with the destination's credentials redacted.

// classify gives a transport error of an attempt its class. Order
// matters: a refused address is blocked, not a connection error, and a TLS
// handshake that timed out is a timeout.
func classify(err error) string {
	switch {
	case errors.Is(err, netguard.ErrBlockedAddress):
		return history.ErrBlocked
	case isTimeout(err):
		return history.ErrTimeout
	case isTLS(err):
		return history.ErrTLS
	default:
		return history.ErrConnection
	}
}

// tokenErrorClass classifies a failure to obtain a JwtBearer access token:
// auth, unless the SSRF guard refused the token endpoint's address.
func tokenErrorClass(err error) string {
	if errors.Is(err, netguard.ErrBlockedAddress) {
		return history.ErrBlocked
	}
	return history.ErrAuth
}

func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	ne, ok := errors.AsType[net.Error](err)
	return ok && ne.Timeout()
}

func isTLS(err error) bool {
	if _, ok := errors.AsType[tls.RecordHeaderError](err); ok {
		return true // not TLS on the other end
	}
	if errors.Is(err, http.ErrSchemeMismatch) {
		return true // net/http's RecordHeaderError when the other end speaks plain HTTP
	}
	if _, ok := errors.AsType[tls.AlertError](err); ok {
		return true
	}
	if _, ok := errors.AsType[*tls.CertificateVerificationError](err); ok {
		return true
	}
	if _, ok := errors.AsType[x509.UnknownAuthorityError](err); ok {
		return true
	}
	if _, ok := errors.AsType[x509.HostnameError](err); ok {
		return true
	}
	if _, ok := errors.AsType[x509.CertificateInvalidError](err); ok {
		return true
	}
	// Over TCP, crypto/tls reports an alert the peer sent (a refused
	// handshake) as a *net.OpError with Op "remote error" around an
	// unexported type, not as an AlertError (that is QUIC's).
	op, ok := errors.AsType[*net.OpError](err)
	return ok && op.Op == "remote error"
}

// redactedMark replaces a credential in a kept response body.
var redactedMark = []byte("[redacted]")

// secrets lists the credential values a request to a destination carries
// or was obtained with, as they may come back in its answer (a destination
// that echoes the request headers): longest first, so a value that
// contains another is replaced whole. tokens are the JwtBearer access
// tokens the attempt sent.
func secrets(creds destination.Credentials, tokens ...string) []string {
	values := []string{creds.Value, creds.Token, creds.Password, creds.ClientSecret}
	if creds.Username != "" {
		values = append(values, base64.StdEncoding.EncodeToString([]byte(creds.Username+":"+creds.Password)))
		if creds.Password == "" {
			// An API key sent as the user name (CONTRACT §1).
			values = append(values, creds.Username)
		}
	}
	values = append(values, tokens...)
	var out []string
	for _, v := range values {
		if v == "" {
			continue
		}
		out = append(out, v)
		// As an echo in JSON may spell it: quotes, backslashes, control
		// characters and (Go's default) <, > and & escaped.
		for _, html := range []bool{true, false} {
			if q := jsonEscaped(v, html); q != v {
				out = append(out, q)
			}
		}
	}
	slices.SortFunc(out, func(a, b string) int { return cmp.Or(cmp.Compare(len(b), len(a)), strings.Compare(a, b)) })
	return slices.Compact(out)
}

func jsonEscaped(s string, escapeHTML bool) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(escapeHTML)
	if err := enc.Encode(s); err != nil {
		return s
	}
	return strings.TrimSuffix(strings.TrimSuffix(strings.TrimPrefix(b.String(), `"`), "\n"), `"`)
}

// keptBody reads the start of a failed attempt's answer from r: at most
// history.MaxResponseBody bytes, with every secret replaced by
// "[redacted]"; nil when the answer is empty. It reads as many bytes more
// as the longest secret is long, so a secret that starts within the kept
// bytes is replaced whole, never kept cut in half.
func keptBody(r io.Reader, secrets []string) []byte {
	longest := 0
	if len(secrets) > 0 {
		longest = len(secrets[0])
	}
	buf := make([]byte, history.MaxResponseBody+longest)
	n, _ := io.ReadFull(r, buf)
	if n == 0 {
		return nil
	}
	b := buf[:n]
	for _, s := range secrets {
		if bytes.Contains(b, []byte(s)) {
			b = bytes.ReplaceAll(b, []byte(s), redactedMark)
		}
	}
	return slices.Clip(b[:min(len(b), history.MaxResponseBody)])
}

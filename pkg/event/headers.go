package event

import (
	"net/http"
	"slices"
	"strings"
)

// HookSentry's own delivery headers (CONTRACT §3). The whole HookSentry-
// namespace is reserved, not only the names in use: HookSentry-Signature
// and HookSentry-Verified come with signing and inbound verification, and a
// destination must be able to trust any header of the namespace, whenever
// it was sent.
const (
	HeaderPrefix    = "HookSentry-"
	HeaderEventID   = "HookSentry-Event-Id"  // the event id, the same on every attempt and replay
	HeaderTimestamp = "HookSentry-Timestamp" // Unix seconds of this attempt
	HeaderAttempt   = "HookSentry-Attempt"   // Message.AttemptNumber()
	HeaderVerified  = "HookSentry-Verified"  // Message.Verified: the scheme the ingest request passed
)

// reservation says why a header name is reserved. This is the one
// definition of reserved headers: ingest forwards none of them
// (Forwardable), delivery copies none of them from an event
// (ForwardedHeader), and an ApiKey may use none but the credential ones
// (APIKeyHeaderAllowed).
type reservation uint8

const (
	// notReserved: the sender's header, forwarded unchanged.
	notReserved reservation = iota
	// hopByHop: describes one connection, not the message (RFC 9110
	// §7.6.1); so do the headers a Connection header names.
	hopByHop
	// perRequest: HTTP sets it for each request anew (Host,
	// Content-Length), describes the ingest exchange, which HookSentry
	// already completed (Expect: forwarded, it would make a destination
	// wait for a 100 Continue or answer 417), or HookSentry sets it from
	// the event (Content-Type, which travels beside the headers).
	perRequest
	// credential: the sender's credentials, meant for HookSentry's ingest,
	// never for the destination (CONTRACT §3, §5).
	credential
	// proxyMetadata: added by the proxies in front of HookSentry (API
	// Gateway, load balancers); they describe that hop, and the
	// destination's own proxies rewrite them.
	proxyMetadata
	// ours: the HookSentry- namespace.
	ours
)

// reservedNames are the reserved names, lower-case.
var reservedNames = map[string]reservation{
	"connection": hopByHop, "keep-alive": hopByHop, "proxy-connection": hopByHop,
	"proxy-authenticate": hopByHop, "proxy-authorization": hopByHop,
	"te": hopByHop, "trailer": hopByHop, "transfer-encoding": hopByHop, "upgrade": hopByHop,
	"host": perRequest, "content-length": perRequest, "expect": perRequest, "content-type": perRequest,
	"authorization": credential, "cookie": credential,
}

// reservedPrefixes are the reserved namespaces, lower-case. Only these:
// X-Amz-* (unlike X-Amzn-*) is a sender's, as in AWS SNS's
// x-amz-sns-message-type.
var reservedPrefixes = []struct {
	prefix string
	why    reservation
}{
	{"x-forwarded-", proxyMetadata},
	{"x-amzn-", proxyMetadata},
	{"hooksentry-", ours},
}

// maxReservedName is the length of the longest name in reservedNames.
const maxReservedName = len("proxy-authorization")

// reserved says why name (any case) is reserved, notReserved if it is not.
// It does not allocate: it runs for every header of every delivery.
func reserved(name string) reservation {
	if len(name) <= maxReservedName {
		var buf [maxReservedName]byte
		lower := buf[:len(name)]
		for i := range len(name) {
			lower[i] = lowerASCII(name[i])
		}
		if why, ok := reservedNames[string(lower)]; ok { // the conversion does not allocate in a map index
			return why
		}
	}
	for _, p := range reservedPrefixes {
		if hasPrefixFold(name, p.prefix) {
			return p.why
		}
	}
	return notReserved
}

// ForwardedHeader reports whether a sender's header of this name (any
// case) goes to the destination. Content-Type is not one of them: it
// travels beside the headers, as Message.ContentType.
func ForwardedHeader(name string) bool { return reserved(name) == notReserved }

// APIKeyHeaderAllowed reports whether a destination's ApiKey may be sent
// in the header name (any case): in none that HTTP or HookSentry sets or
// that proxies rewrite, or the key would be lost or corrupt the delivery.
// The credential headers (Authorization, Cookie) are the exception: they
// are reserved against the sender, whose credentials are never forwarded,
// and for an ApiKey destination nothing else sets them, so they can carry
// a key such as "Authorization: Token …" that BearerToken cannot. A
// name that is not reserved may also come from the sender (webhook-id,
// X-Api-Key): the sender sets the ApiKey last, so it replaces the
// forwarded header.
func APIKeyHeaderAllowed(name string) bool {
	why := reserved(name)
	return why == notReserved || why == credential
}

// Forwardable returns the headers of an inbound webhook that go to the
// destination, with values exactly as received (never split on commas):
// every header but the reserved ones and those its Connection header
// names. Content-Type travels separately.
func Forwardable(h http.Header) [][2]string {
	var connection []string
	for name, values := range h { // any spelling: h need not be canonical
		if len(name) == len("connection") && hasPrefixFold(name, "connection") {
			connection = append(connection, values...)
		}
	}
	var out [][2]string
	for name, values := range h {
		if !ForwardedHeader(name) || namedIn(connection, name) {
			continue
		}
		for _, v := range values {
			out = append(out, [2]string{name, v})
		}
	}
	// Stable: the values of a repeated header keep their arrival order
	// (an unstable sort reorders equal keys once there are more than 12
	// entries). slices rather than sort: no reflection, no allocation.
	slices.SortStableFunc(out, func(a, b [2]string) int { return strings.Compare(a[0], b[0]) })
	return out
}

// namedIn reports whether name is one of the comma-separated options of
// the Connection header values (RFC 9110 §7.6.1: a proxy removes them).
func namedIn(connection []string, name string) bool {
	for _, v := range connection {
		for opt := range strings.SplitSeq(v, ",") {
			if o := strings.TrimSpace(opt); len(o) == len(name) && hasPrefixFold(name, o) {
				return true
			}
		}
	}
	return false
}

// hasPrefixFold reports whether s begins with prefix, ASCII letters
// compared case-insensitively (header names are ASCII tokens; unlike
// strings.EqualFold, no Unicode folding: "\u212a" is not "k").
func hasPrefixFold(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := range len(prefix) {
		if lowerASCII(s[i]) != lowerASCII(prefix[i]) {
			return false
		}
	}
	return true
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

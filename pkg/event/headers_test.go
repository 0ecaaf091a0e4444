package event_test

import (
	"fmt"
	"net/http"
	"reflect"
	"testing"

	"github.com/hooksentry/hooksentry/pkg/event"
)

// TestReservedHeaders: one rule for what is never forwarded and what an
// ApiKey may not use; the credential headers are the only names in one
// set and not the other.
func TestReservedHeaders(t *testing.T) {
	for _, tc := range []struct {
		name                  string
		forwarded, apiKeyName bool
	}{
		// The sender's, whatever they look like.
		{"X-Api-Key", true, true},
		{"Stripe-Signature", true, true},
		{"webhook-id", true, true},
		{"Webhook-Timestamp", true, true},
		{"webhook-signature", true, true},
		{"svix-id", true, true},
		{"X-Amz-Sns-Message-Type", true, true},
		{"Forwarded", true, true},
		{"Via", true, true},
		{"User-Agent", true, true},
		{"X-Forwarded", true, true},
		{"HookSentry", true, true},
		{"X-HookSentry-Event-Id", true, true},
		{"Authorization-Extra", true, true},
		// Hop-by-hop.
		{"Connection", false, false},
		{"keep-alive", false, false},
		{"Proxy-Connection", false, false},
		{"Proxy-Authenticate", false, false},
		{"PROXY-AUTHORIZATION", false, false},
		{"TE", false, false},
		{"Trailer", false, false},
		{"Transfer-Encoding", false, false},
		{"Upgrade", false, false},
		// Per request, or set by HookSentry from the event.
		{"Host", false, false},
		{"content-length", false, false},
		{"Expect", false, false},
		{"Content-Type", false, false},
		// Credentials: never forwarded, free for the destination's key.
		{"Authorization", false, true},
		{"cookie", false, true},
		// Proxy metadata.
		{"X-Forwarded-For", false, false},
		{"x-forwarded-proto", false, false},
		{"X-Amzn-Trace-Id", false, false},
		// HookSentry's namespace, any case, used or not.
		{"HookSentry-Event-Id", false, false},
		{"hooksentry-timestamp", false, false},
		{"HOOKSENTRY-ATTEMPT", false, false},
		{"HookSentry-Signature", false, false},
		{"Hooksentry-Verified", false, false},
		{"HookSentry-", false, false},
	} {
		if got := event.ForwardedHeader(tc.name); got != tc.forwarded {
			t.Errorf("ForwardedHeader(%q): got %v, want %v", tc.name, got, tc.forwarded)
		}
		if got := event.APIKeyHeaderAllowed(tc.name); got != tc.apiKeyName {
			t.Errorf("APIKeyHeaderAllowed(%q): got %v, want %v", tc.name, got, tc.apiKeyName)
		}
	}
}

// TestHookSentryHeadersAreReserved: the names HookSentry sets are in its
// own reserved namespace, so no sender can forge them.
func TestHookSentryHeadersAreReserved(t *testing.T) {
	for _, name := range []string{event.HeaderEventID, event.HeaderTimestamp, event.HeaderAttempt, event.HeaderPrefix + "Verified"} {
		if event.ForwardedHeader(name) || event.APIKeyHeaderAllowed(name) {
			t.Errorf("%s: forwarded %v, ApiKey allowed %v; want neither", name, event.ForwardedHeader(name), event.APIKeyHeaderAllowed(name))
		}
	}
}

// TestForwardedHeaderDoesNotAllocate: the sender checks every header of
// every delivery.
func TestForwardedHeaderDoesNotAllocate(t *testing.T) {
	names := []string{"Stripe-Signature", "Proxy-Authorization", "X-Amzn-Trace-Id", "HookSentry-Event-Id", "X-A-Header-Name-Longer-Than-Any-Reserved-One"}
	if got := testing.AllocsPerRun(100, func() {
		for _, n := range names {
			event.ForwardedHeader(n)
		}
	}); got != 0 {
		t.Errorf("ForwardedHeader: got %v allocations per run, want 0", got)
	}
}

func TestForwardable(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   http.Header
		want [][2]string
	}{
		{"nothing", http.Header{}, nil},
		{
			"signature with commas stays one value",
			http.Header{"Stripe-Signature": {"t=1492774577,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd,v0=6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39"}},
			[][2]string{{"Stripe-Signature", "t=1492774577,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd,v0=6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39"}},
		},
		{
			"repeated header keeps every value in order",
			http.Header{"X-Multi": {"b", "a", "c"}},
			[][2]string{{"X-Multi", "b"}, {"X-Multi", "a"}, {"X-Multi", "c"}},
		},
		{
			"values are not trimmed or altered",
			http.Header{"X-Spaces": {"  a , b  "}, "X-Empty": {""}},
			[][2]string{{"X-Empty", ""}, {"X-Spaces", "  a , b  "}},
		},
		{
			"sorted by name",
			http.Header{"X-B": {"2"}, "X-A": {"1"}, "Github-Event": {"push"}},
			[][2]string{{"Github-Event", "push"}, {"X-A", "1"}, {"X-B", "2"}},
		},
		{
			"dropped: credentials, hop-by-hop, per-request, proxy metadata, our namespace, content type",
			http.Header{
				"Authorization": {"Bearer x"}, "Cookie": {"a=b"}, "Host": {"api.example"},
				"Connection": {"keep-alive"}, "Keep-Alive": {"timeout=5"}, "Proxy-Connection": {"x"},
				"Proxy-Authorization": {"Basic x"}, "Proxy-Authenticate": {"x"}, "Te": {"trailers"}, "Trailer": {"X"},
				"Transfer-Encoding": {"chunked"}, "Upgrade": {"h2c"}, "Content-Length": {"12"}, "Expect": {"100-continue"},
				"X-Forwarded-For": {"1.2.3.4"}, "X-Forwarded-Proto": {"https"}, "X-Forwarded-Port": {"443"},
				"X-Amzn-Trace-Id": {"Root=1-abc"}, "X-Amzn-Requestid": {"r"},
				"Hooksentry-Event-Id": {"forged"}, "Hooksentry-Verified": {"true"}, "Hooksentry-Signature": {"v1,forged"},
				"Content-Type": {"application/json"},
				"X-Kept":       {"yes"},
			},
			[][2]string{{"X-Kept", "yes"}},
		},
		{
			// Standard Webhooks signs webhook-id.webhook-timestamp.body:
			// changing either breaks every such sender's signature.
			"Standard Webhooks and Svix headers are the sender's",
			http.Header{
				"Webhook-Id": {"msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"}, "Webhook-Timestamp": {"1674087231"},
				"Webhook-Signature": {"v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4= v1,Ex2qAyKT1ufb3G/Q9i3uRu+F3dZiYr5gyIo4vQHKa9E="},
				"Svix-Id":           {"msg_p5jXN8AQM9LWM0D4loKWxJek"}, "Svix-Timestamp": {"1614265330"}, "Svix-Signature": {"v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="},
			},
			[][2]string{
				{"Svix-Id", "msg_p5jXN8AQM9LWM0D4loKWxJek"}, {"Svix-Signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="}, {"Svix-Timestamp", "1614265330"},
				{"Webhook-Id", "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"},
				{"Webhook-Signature", "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4= v1,Ex2qAyKT1ufb3G/Q9i3uRu+F3dZiYr5gyIo4vQHKa9E="},
				{"Webhook-Timestamp", "1674087231"},
			},
		},
		{
			// CONTRACT §3 drops X-Amzn-*, not X-Amz-*: SNS sends its
			// message type and ids in x-amz-sns-*. Forwarded and Via are
			// not on its list either.
			"X-Amz-*, Forwarded and Via are the sender's",
			http.Header{
				"X-Amz-Sns-Message-Type": {"Notification"}, "X-Amz-Sns-Message-Id": {"165545c9-2a5c-472c-8df2-7ff2be2b3b1b"},
				"Forwarded": {"for=192.0.2.60;proto=http;by=203.0.113.43"}, "Via": {"1.1 vegur"},
			},
			[][2]string{
				{"Forwarded", "for=192.0.2.60;proto=http;by=203.0.113.43"}, {"Via", "1.1 vegur"},
				{"X-Amz-Sns-Message-Id", "165545c9-2a5c-472c-8df2-7ff2be2b3b1b"}, {"X-Amz-Sns-Message-Type", "Notification"},
			},
		},
		{
			// RFC 9110 §7.6.1: the headers a Connection header names are
			// hop-by-hop too.
			"headers named by Connection are hop-by-hop",
			http.Header{"Connection": {"close, X-Hop", "x-other-hop"}, "X-Hop": {"1"}, "X-Other-Hop": {"2"}, "X-Kept": {"yes"}},
			[][2]string{{"X-Kept", "yes"}},
		},
		{
			"a lower-case Connection header names hop-by-hop headers too",
			http.Header{"connection": {"x-hop"}, "X-Hop": {"1"}, "X-Hop-Not": {"2"}},
			[][2]string{{"X-Hop-Not", "2"}},
		},
		{
			"non-canonical names are matched case-insensitively",
			http.Header{
				"authorization": {"x"}, "x-forwarded-for": {"1.2.3.4"}, "x-amzn-trace-id": {"t"}, "x-custom": {"v"},
				"hooksentry-event-id": {"forged"}, "HOOKSENTRY-VERIFIED": {"true"}, "hookSentry-attempt": {"9"},
				"webhook-id": {"msg_1"},
			},
			[][2]string{{"webhook-id", "msg_1"}, {"x-custom", "v"}},
		},
		{
			"look-alikes are kept",
			http.Header{"X-Forwarded": {"a"}, "X-Amzn": {"b"}, "Authorization-Extra": {"c"}, "X-Host": {"d"}, "Hooksentry": {"e"}, "X-Hooksentry-Id": {"f"}},
			[][2]string{{"Authorization-Extra", "c"}, {"Hooksentry", "e"}, {"X-Amzn", "b"}, {"X-Forwarded", "a"}, {"X-Hooksentry-Id", "f"}, {"X-Host", "d"}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := event.Forwardable(tc.in); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Forwardable: got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestForwardableKeepsArrivalOrderAmongManyHeaders uses enough headers that
// an unstable sort would reorder the values of a repeated header.
func TestForwardableKeepsArrivalOrderAmongManyHeaders(t *testing.T) {
	h := http.Header{}
	var values []string
	for i := range 16 {
		h.Set(fmt.Sprintf("X-Other-%02d", i), "v")
		if i < 3 {
			values = append(values, fmt.Sprintf("sig-%02d", i))
		}
	}
	h["X-Signature"] = values
	for run := range 20 { // map iteration order differs between runs
		var got []string
		for _, kv := range event.Forwardable(h) {
			if kv[0] == "X-Signature" {
				got = append(got, kv[1])
			}
		}
		if !reflect.DeepEqual(got, values) {
			t.Fatalf("run %d: X-Signature values: got %q, want %q (arrival order)", run, got, values)
		}
	}
}

// Package netguard owns HookSentry's defence against server-side request
// forgery (SSRF) and the construction of every outbound HTTP client.
//
// Webhook destinations are chosen by tenants, so any URL we POST to may
// point at our own infrastructure: loopback services, the VPC, or the cloud
// metadata endpoint that hands out credentials. The package defends in two
// places:
//
//   - ValidateURLHost rejects destinations whose host is an IP literal in a
//     blocked range (or an ambiguous numeric spelling of one) when a
//     destination is created or updated, so tenants get an early 400. It
//     judges the host as net/http will dial it: IDNA-mapped (fullwidth or
//     circled digits and dots are ASCII ones) and without trailing dots.
//     Hostnames are not resolved at that point.
//   - DialControl runs inside net.Dialer after DNS resolution and checks the
//     address actually being dialled. This is the check that matters: it
//     cannot be bypassed by DNS rebinding, by odd hostname spellings, or by a
//     name that resolves to a private address.
//
// NewTransport and NewHTTPClient build clients that always use the guarded
// dialer (unless private networks are explicitly allowed, e.g. for local
// development), never use an environment proxy (a proxy would dial on our
// behalf and make the dial-time check meaningless) and never follow
// redirects (a redirect is a second, unvalidated destination).
package netguard

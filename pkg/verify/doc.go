// Package verify owns the inbound signature schemes a destination's
// `verification` names (Stripe, GitHub, Shopify, Slack, StandardWebhooks and
// a generic Hmac): it checks that an ingest request was signed by the sender
// with the shared secret. It knows nothing about HTTP routing, storage or KMS.
//
// Everything here is a pure function of its arguments: the caller decrypts
// the secret, turns it into key bytes with Key, and passes the clock in, so
// the schemes can be tested with fixed times and known-answer vectors.
package verify

// Package kmscontext names the KMS encryption context that every value
// HookSentry seals carries. pkg/destination builds contexts from these
// names, and the IAM policies of both templates (the CDK app in infra/ and
// template.yaml) pin them: KMS refuses GenerateDataKey and Decrypt with any
// other context, so a principal that may use the key still cannot decrypt
// a ciphertext made for something else. The package imports nothing, so
// the CDK app (its own module) reads it as it reads pkg/config.
package kmscontext

// The keys of every encryption context.
const (
	TenantID      = "tenantId"
	DestinationID = "destinationId"
	Purpose       = "purpose"
)

// PurposeDestinationCredentials is the purpose of a destination's sealed
// credentials.
const PurposeDestinationCredentials = "destination-credentials"

// PurposeSigningSecret is the purpose of a destination's sealed signing
// secrets. A purpose of its own keeps the two kinds apart: a signing-secret
// ciphertext copied into the credentials attributes (or the reverse) fails
// to open instead of being used as the other.
const PurposeSigningSecret = "destination-signing-secret"

// PurposeVerificationSecret is the purpose of a destination's sealed
// inbound verification secret, which only the ingest function opens.
const PurposeVerificationSecret = "destination-verification-secret"

// Keys returns every key of a context: the exact set IAM allows.
func Keys() []string { return []string{TenantID, DestinationID, Purpose} }

// Identifying returns the keys that bind a sealed value to its owner, which
// IAM requires to be present.
func Identifying() []string { return []string{TenantID, DestinationID} }

// Purposes returns every value Purpose takes.
func Purposes() []string {
	return []string{PurposeDestinationCredentials, PurposeSigningSecret, PurposeVerificationSecret}
}

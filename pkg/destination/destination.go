// Package destination owns the Destination aggregate: its fields and rules,
// the decoding of create and update requests, listing with pagination and
// filters, ingest tokens, and the Service that applies those rules against a
// Store and a Sealer. It knows nothing about HTTP or AWS.
package destination

import (
	"strings"
	"time"

	"github.com/hooksentry/hooksentry/pkg/alert"
	"github.com/hooksentry/hooksentry/pkg/dedup"
	"github.com/hooksentry/hooksentry/pkg/kmscontext"
	"github.com/hooksentry/hooksentry/pkg/verify"
)

// Status is the delivery state of a destination.
type Status string

const (
	Active    Status = "Active"
	Inactive  Status = "Inactive"
	Suspended Status = "Suspended" // set only by the circuit breaker
)

// ParseStatus matches s case-insensitively against the three statuses.
func ParseStatus(s string) (Status, bool) {
	for _, v := range []Status{Active, Inactive, Suspended} {
		if strings.EqualFold(s, string(v)) {
			return v, true
		}
	}
	return "", false
}

// AuthType says how deliveries authenticate to the destination. The zero
// value means no authentication.
type AuthType string

const (
	AuthNone        AuthType = ""
	AuthAPIKey      AuthType = "ApiKey"
	AuthBearerToken AuthType = "BearerToken"
	AuthJwtBearer   AuthType = "JwtBearer"
	AuthBasic       AuthType = "BasicAuth"
)

// ParseAuthType matches s case-insensitively against the four auth types.
func ParseAuthType(s string) (AuthType, bool) {
	for _, v := range []AuthType{AuthAPIKey, AuthBearerToken, AuthJwtBearer, AuthBasic} {
		if strings.EqualFold(s, string(v)) {
			return v, true
		}
	}
	return "", false
}

// Rate limit bounds of CONTRACT §1.
const (
	MinRateLimit     = 1
	MaxRateLimit     = 1000
	DefaultRateLimit = 5
	MaxURLLength     = 2048
)

// Destination is a tenant's HTTPS endpoint. Credentials and signing
// secrets are held only in sealed form; TokenHash is the SHA-256 of the current ingest token.
type Destination struct {
	ID              string
	TenantID        string
	URL             string
	Status          Status
	ServerRateLimit int
	AuthType        AuthType
	CreatedAt       time.Time
	UpdatedAt       time.Time

	Sealed    *Sealed // nil when AuthType is AuthNone
	TokenHash string
	// Signing is the sealed key of the signing secret; nil for a
	// destination created before signing existed and never rotated, whose
	// deliveries carry no HookSentry-Signature. PrevSigning is the key a
	// rotation replaced, which signs too until PrevSigningUntil.
	Signing          *Sealed
	PrevSigning      *Sealed
	PrevSigningUntil time.Time
	// Verification and Deduplication are checked at ingest (CONTRACT §2);
	// nil when not configured.
	Verification  *Verification
	Deduplication *Deduplication
	// Alerts are the operational events of the tenant's other
	// destinations this one receives (CONTRACT §6); nil: none.
	Alerts  []alert.Type
	Version int64 // optimistic-concurrency counter, bumped by every write
}

// Verification is how ingest checks that a request was signed by its
// sender: the scheme's settings, and its secret sealed like credentials.
type Verification struct {
	Config verify.Config
	Secret Sealed
}

// Deduplication is the key that makes two ingest requests the same event,
// and how long an accepted key is remembered.
type Deduplication struct {
	Key    dedup.Key
	Window time.Duration
}

// ChecksAtIngest reports whether ingest must read the destination to
// accept an event for it: only then does it pay for the read.
func (d Destination) ChecksAtIngest() bool {
	return d.Verification != nil || d.Deduplication != nil
}

// Sealed is envelope-encrypted credentials: the AES-GCM ciphertext and the
// KMS-encrypted data key that opens it. Neither is useful without KMS.
type Sealed struct {
	Ciphertext   []byte
	EncryptedKey []byte
}

// Credentials is the plaintext secret of one AuthType. Only the fields of
// that type are set. It exists only in memory, between decoding a request
// and sealing, or between opening and sending a delivery.
type Credentials struct {
	HeaderName    string `json:"headerName,omitempty"`
	Value         string `json:"value,omitempty"`
	Token         string `json:"token,omitempty"`
	TokenEndpoint string `json:"tokenEndpoint,omitempty"`
	ClientID      string `json:"clientId,omitempty"`
	ClientSecret  string `json:"clientSecret,omitempty"`
	Scope         string `json:"scope,omitempty"`
	Username      string `json:"username,omitempty"`
	Password      string `json:"password,omitempty"`
}

// EncryptionContext binds sealed credentials to their tenant and
// destination, so a ciphertext copied onto another item fails to open.
func EncryptionContext(tenantID, destinationID string) map[string]string {
	return map[string]string{
		kmscontext.TenantID:      tenantID,
		kmscontext.DestinationID: destinationID,
		kmscontext.Purpose:       kmscontext.PurposeDestinationCredentials,
	}
}

// VerificationContext binds a sealed verification secret to its tenant and
// destination, under a purpose of its own: only ingest may open it.
func VerificationContext(tenantID, destinationID string) map[string]string {
	return map[string]string{
		kmscontext.TenantID:      tenantID,
		kmscontext.DestinationID: destinationID,
		kmscontext.Purpose:       kmscontext.PurposeVerificationSecret,
	}
}

// Timestamp truncates t to the millisecond precision that the API shows, so
// stored, sorted and displayed times agree.
func Timestamp(t time.Time) time.Time {
	return t.UTC().Truncate(time.Millisecond)
}

// FormatTime renders t as CONTRACT §1 requires: UTC, three fractional digits.
func FormatTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

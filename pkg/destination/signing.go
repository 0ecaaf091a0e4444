package destination

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/hooksentry/hooksentry/pkg/apperror"
	"github.com/hooksentry/hooksentry/pkg/kmscontext"
)

// SigningSecretPrefix starts every signing secret, as Standard Webhooks
// secrets do, so that the libraries of that scheme accept ours as they are.
const SigningSecretPrefix = "whsec_"

// signingKeySize is the number of random bytes of a signing secret.
const signingKeySize = 32

// SigningOverlap is how long the secret a rotation replaced keeps signing
// beside the new one (CONTRACT §1), so a destination can switch to the new
// secret without refusing deliveries in between.
const SigningOverlap = 24 * time.Hour

// SigningKeys are the plaintext HMAC keys of a destination, the bytes after
// whsec_ base64-decoded. They exist only in memory, between opening and
// signing a delivery. Current is nil for a destination created before
// signing existed and never rotated: its deliveries are not signed.
type SigningKeys struct {
	Current       []byte
	Previous      []byte    // nil when there is none or it has expired
	PreviousUntil time.Time // when Previous stops signing
}

// NewSigningSecret returns a fresh secret (whsec_ + the standard base64 of
// 32 random bytes) and its key bytes, which are what is sealed.
func NewSigningSecret(random io.Reader) (secret string, key []byte, err error) {
	if random == nil {
		random = rand.Reader
	}
	key = make([]byte, signingKeySize)
	if _, err := io.ReadFull(random, key); err != nil {
		return "", nil, fmt.Errorf("read random bytes for signing secret: %w", err)
	}
	return SigningSecretPrefix + base64.StdEncoding.EncodeToString(key), key, nil
}

// SigningKey decodes a whsec_ secret into its key bytes.
func SigningKey(secret string) ([]byte, error) {
	b64, ok := strings.CutPrefix(secret, SigningSecretPrefix)
	if !ok {
		return nil, fmt.Errorf("signing secret does not start with %s", SigningSecretPrefix)
	}
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("decode signing secret: %w", err)
	}
	return key, nil
}

// SigningContext binds a sealed signing secret to its tenant and
// destination, under a purpose of its own (see kmscontext).
func SigningContext(tenantID, destinationID string) map[string]string {
	return map[string]string{
		kmscontext.TenantID:      tenantID,
		kmscontext.DestinationID: destinationID,
		kmscontext.Purpose:       kmscontext.PurposeSigningSecret,
	}
}

// sealSigningKey seals a fresh key for d.
func (s *Service) sealSigningKey(ctx context.Context, d Destination, key []byte) (*Sealed, error) {
	sealed, err := s.Sealer.Seal(ctx, key, SigningContext(d.TenantID, d.ID))
	if err != nil {
		return nil, fmt.Errorf("seal signing secret: %w", err)
	}
	return &sealed, nil
}

// OpenSigningKeys decrypts the signing keys of d that are still valid at
// now: the current one and, during the overlap after a rotation, the
// previous one. A destination without a signing secret has none (no error).
func OpenSigningKeys(ctx context.Context, sealer Sealer, d Destination, now time.Time) (SigningKeys, error) {
	var keys SigningKeys
	if d.Signing == nil {
		return keys, nil
	}
	sc := SigningContext(d.TenantID, d.ID)
	cur, err := sealer.Open(ctx, *d.Signing, sc)
	if err != nil {
		return SigningKeys{}, fmt.Errorf("open signing secret of destination %s: %w", d.ID, err)
	}
	keys.Current = cur
	if d.PrevSigning != nil && now.Before(d.PrevSigningUntil) {
		prev, err := sealer.Open(ctx, *d.PrevSigning, sc)
		if err != nil {
			return SigningKeys{}, fmt.Errorf("open previous signing secret of destination %s: %w", d.ID, err)
		}
		keys.Previous, keys.PreviousUntil = prev, d.PrevSigningUntil
	}
	return keys, nil
}

// RotateSigningSecret gives the destination a new signing secret and
// returns it; it is shown only this once. The secret it replaces keeps
// signing beside it for SigningOverlap. A destination created before
// signing existed gets its first secret this way (with no previous one).
// The previous ciphertext is moved as it is, never opened, so rotating
// needs no Decrypt.
func (s *Service) RotateSigningSecret(ctx context.Context, tenantID, id string) (string, error) {
	for attempt := 0; ; attempt++ {
		d, err := s.owned(ctx, tenantID, id)
		if err != nil {
			return "", err
		}
		secret, key, err := NewSigningSecret(s.Random)
		if err != nil {
			return "", err
		}
		sealed, err := s.sealSigningKey(ctx, d, key)
		clear(key)
		if err != nil {
			return "", err
		}
		next := d
		next.Signing = sealed
		next.PrevSigning, next.PrevSigningUntil = nil, time.Time{}
		if d.Signing != nil {
			next.PrevSigning, next.PrevSigningUntil = d.Signing, s.now().Add(SigningOverlap)
		}
		err = s.Store.ReplaceSigningSecret(ctx, next)
		if apperror.CodeOf(err) == apperror.Conflict && attempt < 5 {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("replace signing secret: %w", err)
		}
		return secret, nil
	}
}

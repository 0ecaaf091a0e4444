package destination

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
)

// TokenPrefix starts every ingest token.
const TokenPrefix = "dst_"

// NewIngestToken returns a fresh token (dst_ + 128 random bits as lowercase
// hex) and the hash under which it is stored. The token itself is never
// stored.
func NewIngestToken(random io.Reader) (token, hash string, err error) {
	if random == nil {
		random = rand.Reader
	}
	var b [16]byte
	if _, err := io.ReadFull(random, b[:]); err != nil {
		return "", "", fmt.Errorf("read random bytes for ingest token: %w", err)
	}
	token = TokenPrefix + hex.EncodeToString(b[:])
	return token, HashIngestToken(token), nil
}

// HashIngestToken is the lookup key of a token. A plain SHA-256 suffices:
// tokens carry 128 random bits, so there is nothing to brute-force.
func HashIngestToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// WellFormedIngestToken reports whether s has the shape of a token, so
// malformed input is refused without a database read.
func WellFormedIngestToken(s string) bool {
	if len(s) != len(TokenPrefix)+32 || s[:len(TokenPrefix)] != TokenPrefix {
		return false
	}
	for _, c := range s[len(TokenPrefix):] {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// TokenOwner is what an ingest token resolves to. ChecksVersion, when not
// zero, says that the destination may have checks at ingest (verification,
// deduplication), so ingest must know them; without, ingest needs nothing
// else. It is the version of the destination's last write with checks:
// whatever of the destination ingest read at that version or later shows
// the current checks, as long as ChecksVersion stays the same (every write
// that changes the checks raises it, and one that removes them clears it).
type TokenOwner struct {
	DestinationID string
	TenantID      string
	ChecksVersion int64
}

// Checks reports whether the destination may have checks at ingest.
func (o TokenOwner) Checks() bool { return o.ChecksVersion != 0 }

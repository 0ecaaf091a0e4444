// Package envelope owns envelope encryption of secrets: a fresh AES-256 data
// key from KMS GenerateDataKey per sealed value, AES-256-GCM locally, and
// only the ciphertext plus the KMS-encrypted data key kept. The encryption
// context is passed to KMS and also bound into GCM as additional data, so a
// ciphertext moved to another tenant or destination fails to open.
//
// Opened data keys are cached (bounded, time-limited) so that a warm
// delivery worker calls KMS Decrypt once per destination, not once per event.
package envelope

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/hooksentry/hooksentry/pkg/destination"
	"github.com/hooksentry/hooksentry/pkg/kmsjson"
)

// KMS is the part of KMS the sealer uses. It is HookSentry's own interface,
// not the SDK client's, because naming the SDK's input types would link the
// SDK's KMS package (and its costly package inits) into every function;
// kmsjson implements it.
type KMS interface {
	// GenerateDataKey returns a new AES-256 data key, in plaintext and
	// encrypted under keyID with the encryption context.
	GenerateDataKey(ctx context.Context, keyID string, encCtx map[string]string) (plaintext, encryptedKey []byte, err error)
	// Decrypt returns the plaintext of a data key, which KMS releases only
	// for the key and encryption context it was encrypted with.
	Decrypt(ctx context.Context, keyID string, encryptedKey []byte, encCtx map[string]string) (plaintext []byte, err error)
}

// Sealer implements destination.Sealer with KMS.
type Sealer struct {
	KMS   KMS
	KeyID string

	// CacheTTL bounds how long an opened data key stays in memory; zero
	// disables the cache. CacheSize bounds the number of keys.
	CacheTTL  time.Duration
	CacheSize int
	Now       func() time.Time

	mu    sync.Mutex
	cache map[[32]byte]cachedKey
}

type cachedKey struct {
	key     []byte
	expires time.Time
}

var _ destination.Sealer = (*Sealer)(nil)

// ErrOpen is returned when a sealed value cannot be opened: wrong context,
// tampered ciphertext or a KMS refusal.
var ErrOpen = errors.New("cannot open sealed value")

const nonceSize = 12

// Seal encrypts plaintext under a new data key.
func (s *Sealer) Seal(ctx context.Context, plaintext []byte, encCtx map[string]string) (destination.Sealed, error) {
	dataKey, encryptedKey, err := s.KMS.GenerateDataKey(ctx, s.KeyID, encCtx)
	if err != nil {
		return destination.Sealed{}, fmt.Errorf("kms generate data key: %w", err)
	}
	defer clear(dataKey)
	aead, err := newGCM(dataKey)
	if err != nil {
		return destination.Sealed{}, err
	}
	nonce := make([]byte, nonceSize, nonceSize+len(plaintext)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return destination.Sealed{}, fmt.Errorf("read nonce: %w", err)
	}
	ct := aead.Seal(nonce, nonce, plaintext, additionalData(encCtx))
	return destination.Sealed{Ciphertext: ct, EncryptedKey: encryptedKey}, nil
}

// Open decrypts a sealed value with the same encryption context.
func (s *Sealer) Open(ctx context.Context, sealed destination.Sealed, encCtx map[string]string) ([]byte, error) {
	if len(sealed.Ciphertext) < nonceSize {
		return nil, fmt.Errorf("%w: ciphertext too short", ErrOpen)
	}
	ad := additionalData(encCtx)
	key, err := s.dataKey(ctx, sealed.EncryptedKey, encCtx, ad)
	if err != nil {
		return nil, err
	}
	aead, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	plain, err := aead.Open(nil, sealed.Ciphertext[:nonceSize], sealed.Ciphertext[nonceSize:], ad)
	if err != nil {
		return nil, fmt.Errorf("%w: authentication failed", ErrOpen)
	}
	return plain, nil
}

func (s *Sealer) dataKey(ctx context.Context, encryptedKey []byte, encCtx map[string]string, ad []byte) ([]byte, error) {
	// The cache key covers the context too: a hit must imply KMS would have
	// accepted this context for this blob.
	h := sha256.New()
	h.Write(encryptedKey)
	h.Write([]byte{0})
	h.Write(ad)
	var id [32]byte
	h.Sum(id[:0])

	now := s.clock()
	if s.CacheTTL > 0 {
		s.mu.Lock()
		c, ok := s.cache[id]
		s.mu.Unlock()
		if ok && now.Before(c.expires) {
			return c.key, nil
		}
	}
	key, err := s.KMS.Decrypt(ctx, s.KeyID, encryptedKey, encCtx)
	if err != nil {
		return nil, fmt.Errorf("%w: kms decrypt: %w", ErrOpen, err)
	}
	if s.CacheTTL > 0 {
		s.mu.Lock()
		if s.cache == nil {
			s.cache = make(map[[32]byte]cachedKey)
		}
		size := s.CacheSize
		if size <= 0 {
			size = 1024
		}
		if len(s.cache) >= size {
			for k, v := range s.cache { // evict expired first, then anything
				if now.After(v.expires) || len(s.cache) >= size {
					delete(s.cache, k)
				}
			}
		}
		s.cache[id] = cachedKey{key: key, expires: now.Add(s.CacheTTL)}
		s.mu.Unlock()
	}
	return key, nil
}

func (s *Sealer) clock() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func newGCM(key []byte) (cipher.AEAD, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("%w: data key is %d bytes, want 32", ErrOpen, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("aes: %w", err)
	}
	return cipher.NewGCM(block)
}

// additionalData is a canonical encoding of the encryption context: sorted
// key/value pairs as JSON.
func additionalData(encCtx map[string]string) []byte {
	keys := make([]string, 0, len(encCtx))
	for k := range encCtx {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	pairs := make([][2]string, len(keys))
	for i, k := range keys {
		pairs[i] = [2]string{k, encCtx[k]}
	}
	b, _ := json.Marshal(pairs)
	return b
}

// New returns a Sealer for the key, with a KMS client (kmsjson) built from
// cfg and opened data keys cached for five minutes (4,096 at most), so a
// warm delivery worker calls KMS about once per destination.
func New(cfg aws.Config, keyID string) *Sealer {
	return &Sealer{KMS: kmsjson.New(cfg), KeyID: keyID, CacheTTL: 5 * time.Minute, CacheSize: 4096}
}

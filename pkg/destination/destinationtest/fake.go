// Package destinationtest provides test doubles for package destination: an
// in-memory Store and a local Sealer, plus a conformance suite that every
// destination.Store implementation (the DynamoDB adapter and the in-memory
// fake alike) must pass.
package destinationtest

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"sync"

	"github.com/hooksentry/hooksentry/pkg/apperror"
	"github.com/hooksentry/hooksentry/pkg/destination"
)

// Store is an in-memory destination.Store with the same semantics as the
// DynamoDB adapter: versions are checked and bumped on every write, ingest
// tokens are looked up by hash, and a write to a deleted destination is
// NotFound. It is safe for concurrent use.
type Store struct {
	mu      sync.Mutex
	tenants map[string]bool
	dests   map[string]destination.Destination
	tokens  map[string]TokenRef
	resets  map[string]int
	// Err, when set, is returned by every method: a broken dependency.
	Err error
}

// TokenRef is what an ingest-token hash resolves to.
type TokenRef struct {
	DestinationID string
	TenantID      string
}

var _ destination.Store = (*Store)(nil)

// NewStore returns an empty store.
func NewStore() *Store {
	return &Store{
		tenants: map[string]bool{},
		dests:   map[string]destination.Destination{},
		tokens:  map[string]TokenRef{},
		resets:  map[string]int{},
	}
}

// AddTenant registers a tenant.
func (s *Store) AddTenant(_ context.Context, tenantID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return s.Err
	}
	s.tenants[tenantID] = true
	return nil
}

// TenantExists implements destination.Store.
func (s *Store) TenantExists(_ context.Context, tenantID string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return false, s.Err
	}
	return s.tenants[tenantID], nil
}

// CreateDestination implements destination.Store.
func (s *Store) CreateDestination(_ context.Context, d destination.Destination) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return s.Err
	}
	if _, ok := s.dests[d.ID]; ok {
		return fmt.Errorf("destination %s already exists", d.ID)
	}
	if _, ok := s.tokens[d.TokenHash]; ok {
		return errors.New("ingest token hash already exists")
	}
	s.tokens[d.TokenHash] = TokenRef{d.ID, d.TenantID}
	s.dests[d.ID] = clone(d)
	return nil
}

// GetDestination implements destination.Store.
func (s *Store) GetDestination(_ context.Context, id string) (destination.Destination, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return destination.Destination{}, s.Err
	}
	d, ok := s.dests[id]
	if !ok {
		return destination.Destination{}, apperror.New(apperror.NotFound, "Destination %q was not found.", id)
	}
	return clone(d), nil
}

// ListDestinations implements destination.Store, in creation order.
func (s *Store) ListDestinations(_ context.Context, tenantID string) ([]destination.Destination, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return nil, s.Err
	}
	var out []destination.Destination
	for _, id := range slices.Sorted(maps.Keys(s.dests)) {
		if d := s.dests[id]; d.TenantID == tenantID {
			out = append(out, clone(d))
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return out, nil
}

// UpdateDestination implements destination.Store.
func (s *Store) UpdateDestination(_ context.Context, d destination.Destination, resetBreaker bool) (destination.Destination, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return destination.Destination{}, s.Err
	}
	if err := s.checkVersion(d); err != nil {
		return destination.Destination{}, err
	}
	d.Version++
	s.dests[d.ID] = clone(d)
	if resetBreaker {
		s.resets[d.ID]++
	}
	return clone(d), nil
}

func (s *Store) checkVersion(d destination.Destination) error {
	cur, ok := s.dests[d.ID]
	if !ok {
		return apperror.New(apperror.NotFound, "Destination %q was not found.", d.ID)
	}
	if cur.Version != d.Version {
		return apperror.New(apperror.Conflict, "Destination %q was changed concurrently.", d.ID)
	}
	return nil
}

// DeleteDestination implements destination.Store.
func (s *Store) DeleteDestination(_ context.Context, d destination.Destination) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return s.Err
	}
	delete(s.tokens, d.TokenHash)
	delete(s.dests, d.ID)
	delete(s.resets, d.ID)
	return nil
}

// ReplaceIngestToken implements destination.Store.
func (s *Store) ReplaceIngestToken(_ context.Context, d destination.Destination, newHash string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return s.Err
	}
	if err := s.checkVersion(d); err != nil {
		return err
	}
	cur := s.dests[d.ID]
	delete(s.tokens, cur.TokenHash)
	s.tokens[newHash] = TokenRef{d.ID, d.TenantID}
	cur.TokenHash = newHash
	cur.Version++
	s.dests[d.ID] = cur
	return nil
}

// ReplaceSigningSecret stores d's signing secrets under its version check.
func (s *Store) ReplaceSigningSecret(_ context.Context, d destination.Destination) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return s.Err
	}
	if err := s.checkVersion(d); err != nil {
		return err
	}
	cur := s.dests[d.ID]
	cur.Signing, cur.PrevSigning, cur.PrevSigningUntil = d.Signing, d.PrevSigning, d.PrevSigningUntil
	cur.Version++
	s.dests[d.ID] = cur
	return nil
}

// ResolveIngestToken returns the destination and tenant of a token hash.
func (s *Store) ResolveIngestToken(_ context.Context, hash string) (destinationID, tenantID string, found bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return "", "", false, s.Err
	}
	ref, ok := s.tokens[hash]
	return ref.DestinationID, ref.TenantID, ok, nil
}

// LookupIngestToken returns what a token hash belongs to; ChecksVersion is
// exact here, the destination's version when it has checks (the DynamoDB
// adapter's may be stale towards having checks).
func (s *Store) LookupIngestToken(_ context.Context, hash string) (destination.TokenOwner, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return destination.TokenOwner{}, false, s.Err
	}
	ref, ok := s.tokens[hash]
	if !ok {
		return destination.TokenOwner{}, false, nil
	}
	o := destination.TokenOwner{DestinationID: ref.DestinationID, TenantID: ref.TenantID}
	if d := s.dests[ref.DestinationID]; d.ChecksAtIngest() {
		o.ChecksVersion = d.Version
	}
	return o, true, nil
}

// BreakerResets counts UpdateDestination calls that asked to reset the
// circuit breaker of a destination.
func (s *Store) BreakerResets(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.resets[id]
}

// Modify changes a stored destination behind the service's back and bumps
// its version, like a concurrent writer (the circuit breaker) would.
func (s *Store) Modify(id string, change func(*destination.Destination)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.dests[id]
	if !ok {
		return
	}
	change(&d)
	d.Version++
	s.dests[id] = d
}

func clone(d destination.Destination) destination.Destination {
	if d.Sealed != nil {
		d.Sealed = &destination.Sealed{
			Ciphertext:   slices.Clone(d.Sealed.Ciphertext),
			EncryptedKey: slices.Clone(d.Sealed.EncryptedKey),
		}
	}
	return d
}

// ErrOpen is returned by Sealer.Open for a value it cannot open.
var ErrOpen = errors.New("destinationtest: cannot open sealed value")

// Sealer is a destination.Sealer that encrypts with AES-256-GCM under one
// process-local key, binding the encryption context as additional data. Its
// ciphertexts never contain the plaintext, like the real one's.
type Sealer struct {
	once sync.Once
	aead cipher.AEAD

	mu    sync.Mutex
	seals int
	opens int
	// Err, when set, is returned by Seal and Open.
	Err error
}

var _ destination.Sealer = (*Sealer)(nil)

func (s *Sealer) init() {
	s.once.Do(func() {
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			panic(err)
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			panic(err)
		}
		s.aead, err = cipher.NewGCM(block)
		if err != nil {
			panic(err)
		}
	})
}

// Seal implements destination.Sealer.
func (s *Sealer) Seal(_ context.Context, plaintext []byte, encCtx map[string]string) (destination.Sealed, error) {
	s.init()
	s.mu.Lock()
	s.seals++
	err := s.Err
	s.mu.Unlock()
	if err != nil {
		return destination.Sealed{}, err
	}
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return destination.Sealed{}, err
	}
	ct := s.aead.Seal(slices.Clone(nonce), nonce, plaintext, contextBytes(encCtx))
	return destination.Sealed{Ciphertext: ct, EncryptedKey: []byte("fake-encrypted-key")}, nil
}

// Open implements destination.Sealer.
func (s *Sealer) Open(_ context.Context, sealed destination.Sealed, encCtx map[string]string) ([]byte, error) {
	s.init()
	s.mu.Lock()
	s.opens++
	err := s.Err
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	n := s.aead.NonceSize()
	if len(sealed.Ciphertext) < n {
		return nil, ErrOpen
	}
	plain, err := s.aead.Open(nil, sealed.Ciphertext[:n], sealed.Ciphertext[n:], contextBytes(encCtx))
	if err != nil {
		return nil, ErrOpen
	}
	return plain, nil
}

// Calls returns how often Seal and Open were called.
func (s *Sealer) Calls() (seals, opens int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seals, s.opens
}

func contextBytes(encCtx map[string]string) []byte {
	b, _ := json.Marshal(encCtx) // map keys are sorted: canonical
	return b
}

package destination

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/hooksentry/hooksentry/pkg/apperror"
	"github.com/hooksentry/hooksentry/pkg/verify"
)

// Store persists destinations, tenants and ingest-token lookups.
//
// GetDestination returns an apperror NotFound error for an unknown id.
// UpdateDestination, ReplaceIngestToken and ReplaceSigningSecret return an apperror Conflict error
// when the stored Version differs from d.Version; NotFound when the item is
// gone.
type Store interface {
	TenantExists(ctx context.Context, tenantID string) (bool, error)
	CreateDestination(ctx context.Context, d Destination) error
	GetDestination(ctx context.Context, id string) (Destination, error)
	ListDestinations(ctx context.Context, tenantID string) ([]Destination, error)
	UpdateDestination(ctx context.Context, d Destination, resetBreaker bool) (Destination, error)
	DeleteDestination(ctx context.Context, d Destination) error
	ReplaceIngestToken(ctx context.Context, d Destination, newHash string) error
	// ReplaceSigningSecret stores d's signing secrets (current, previous
	// and its expiry) if the stored Version is still d.Version.
	ReplaceSigningSecret(ctx context.Context, d Destination) error
}

// Sealer envelope-encrypts secrets under an encryption context.
type Sealer interface {
	Seal(ctx context.Context, plaintext []byte, encryptionContext map[string]string) (Sealed, error)
	Open(ctx context.Context, s Sealed, encryptionContext map[string]string) ([]byte, error)
}

// Service applies the destination rules. All fields but Store and Sealer
// are optional.
type Service struct {
	Store  Store
	Sealer Sealer
	Policy URLPolicy        // refuses URLs outside the allowed networks
	Now    func() time.Time // injected clock; time.Now when nil
	Random io.Reader        // ingest-token randomness; crypto/rand when nil
	// Activated is called after a destination becomes Active through the API,
	// so that events held while it was Inactive or Suspended are re-driven.
	Activated func(ctx context.Context, d Destination) error
	// Log receives what the caller is not told, such as a failed re-drive
	// after an activation; slog.Default() when nil.
	Log *slog.Logger
}

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return Timestamp(s.Now())
	}
	return Timestamp(time.Now())
}

// Issued holds the secrets a create shows only once.
type Issued struct {
	IngestToken   string
	SigningSecret string
}

// Create registers a destination for an existing tenant and returns it with
// its ingest token and signing secret, which are shown only this once.
func (s *Service) Create(ctx context.Context, tenantID string, in CreateInput) (Destination, Issued, error) {
	ok, err := s.Store.TenantExists(ctx, tenantID)
	if err != nil {
		return Destination{}, Issued{}, fmt.Errorf("check tenant: %w", err)
	}
	if !ok {
		return Destination{}, Issued{}, apperror.New(apperror.NotFound, "Tenant %q was not found.", tenantID)
	}
	id, err := uuid.NewRandomFromReader(s.random())
	if err != nil {
		return Destination{}, Issued{}, fmt.Errorf("generate destination id: %w", err)
	}
	token, hash, err := NewIngestToken(s.Random)
	if err != nil {
		return Destination{}, Issued{}, err
	}
	secret, key, err := NewSigningSecret(s.Random)
	if err != nil {
		return Destination{}, Issued{}, err
	}
	now := s.now()
	d := Destination{
		ID: id.String(), TenantID: tenantID, URL: in.URL, Status: Active,
		ServerRateLimit: in.ServerRateLimit, CreatedAt: now, UpdatedAt: now,
		TokenHash: hash, Version: 1,
	}
	d.Signing, err = s.sealSigningKey(ctx, d, key)
	clear(key)
	if err != nil {
		return Destination{}, Issued{}, err
	}
	if err := s.setCredentials(ctx, &d, in.AuthType, in.Credentials); err != nil {
		return Destination{}, Issued{}, err
	}
	if err := s.setVerification(ctx, &d, in.Verification); err != nil {
		return Destination{}, Issued{}, err
	}
	d.Deduplication = in.Deduplication
	d.Alerts = in.Alerts
	if err := s.Store.CreateDestination(ctx, d); err != nil {
		return Destination{}, Issued{}, fmt.Errorf("store destination: %w", err)
	}
	return d, Issued{IngestToken: token, SigningSecret: secret}, nil
}

func (s *Service) random() io.Reader {
	if s.Random != nil {
		return s.Random
	}
	return rand.Reader
}

// List returns one page of the tenant's destinations. An unknown tenant has
// no destinations, so it gets an empty page rather than an error.
func (s *Service) List(ctx context.Context, tenantID string, q ListQuery) (Page, error) {
	all, err := s.Store.ListDestinations(ctx, tenantID)
	if err != nil {
		return Page{}, fmt.Errorf("list destinations: %w", err)
	}
	return q.Apply(all), nil
}

// Get returns a destination of the tenant.
func (s *Service) Get(ctx context.Context, tenantID, id string) (Destination, error) {
	return s.owned(ctx, tenantID, id)
}

// owned loads a destination and checks the caller may see it: an unknown
// tenant is 404, another tenant's destination 403.
func (s *Service) owned(ctx context.Context, tenantID, id string) (Destination, error) {
	ok, err := s.Store.TenantExists(ctx, tenantID)
	if err != nil {
		return Destination{}, fmt.Errorf("check tenant: %w", err)
	}
	if !ok {
		return Destination{}, apperror.New(apperror.NotFound, "Tenant %q was not found.", tenantID)
	}
	parsed, err := uuid.Parse(id)
	if err != nil || len(id) != 36 {
		return Destination{}, apperror.New(apperror.NotFound, "Destination %q was not found.", id)
	}
	// UUIDs are case-insensitive (RFC 9562); ids are stored in lower case.
	d, err := s.Store.GetDestination(ctx, parsed.String())
	if err != nil {
		return Destination{}, err
	}
	if d.TenantID != tenantID {
		return Destination{}, apperror.New(apperror.Forbidden, "Destination %q belongs to another tenant.", id)
	}
	return d, nil
}

// Update applies a validated patch. body is decoded here rather than by the
// caller because credentials sent alone depend on the stored auth type.
// Concurrent writers (another PATCH, the circuit breaker) are detected by
// version and the patch is re-applied to the fresh item.
func (s *Service) Update(ctx context.Context, tenantID, id string, body []byte) (Destination, error) {
	for attempt := 0; ; attempt++ {
		cur, err := s.owned(ctx, tenantID, id)
		if err != nil {
			return Destination{}, err
		}
		p, err := ParsePatch(body, cur.AuthType, s.Policy)
		if err != nil {
			return Destination{}, err
		}
		next := cur
		if p.URL != nil {
			next.URL = *p.URL
		}
		if p.ServerRateLimit != nil {
			next.ServerRateLimit = *p.ServerRateLimit
		}
		// CONTRACT §1: becoming Active through the API resets the circuit
		// breaker, from Suspended and from Inactive alike (a destination
		// suspended and then set inactive still has its failure count).
		reset := false
		if p.Status != nil {
			reset = *p.Status == Active && cur.Status != Active
			next.Status = *p.Status
		}
		if p.RemoveAuth {
			next.AuthType, next.Sealed = AuthNone, nil
		}
		if p.Credentials != nil {
			if err := s.setCredentials(ctx, &next, *p.AuthType, p.Credentials); err != nil {
				return Destination{}, err
			}
		}
		if p.RemoveVerification {
			next.Verification = nil
		}
		if p.Verification != nil {
			if err := s.setVerification(ctx, &next, p.Verification); err != nil {
				return Destination{}, err
			}
		}
		if p.RemoveDeduplication {
			next.Deduplication = nil
		}
		if p.Deduplication != nil {
			next.Deduplication = p.Deduplication
		}
		if p.Alerts != nil {
			next.Alerts = *p.Alerts
			if len(next.Alerts) == 0 {
				next.Alerts = nil
			}
		}
		next.UpdatedAt = s.now()
		saved, err := s.Store.UpdateDestination(ctx, next, reset)
		if apperror.CodeOf(err) == apperror.Conflict && attempt < 5 {
			continue
		}
		if err != nil {
			return Destination{}, fmt.Errorf("update destination: %w", err)
		}
		if saved.Status == Active && cur.Status != Active && s.Activated != nil {
			if err := s.Activated(ctx, saved); err != nil {
				// The update stands: the sweeper's pass re-drives the held
				// events of an Active destination. Nobody else would see
				// that this one failed.
				s.log().ErrorContext(ctx, "re-drive of held events after activation failed; the sweeper will re-drive them",
					"destinationId", saved.ID, "tenantId", saved.TenantID, "error", err.Error())
			}
		}
		return saved, nil
	}
}

// Delete removes a destination; its pending events are dropped as they come
// up for delivery.
func (s *Service) Delete(ctx context.Context, tenantID, id string) error {
	d, err := s.owned(ctx, tenantID, id)
	if err != nil {
		return err
	}
	if err := s.Store.DeleteDestination(ctx, d); err != nil {
		return fmt.Errorf("delete destination: %w", err)
	}
	return nil
}

// RegenerateIngestToken replaces the ingest token; the old one stops working
// before the new one is returned.
func (s *Service) RegenerateIngestToken(ctx context.Context, tenantID, id string) (string, error) {
	for attempt := 0; ; attempt++ {
		d, err := s.owned(ctx, tenantID, id)
		if err != nil {
			return "", err
		}
		token, hash, err := NewIngestToken(s.Random)
		if err != nil {
			return "", err
		}
		err = s.Store.ReplaceIngestToken(ctx, d, hash)
		if apperror.CodeOf(err) == apperror.Conflict && attempt < 5 {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("replace ingest token: %w", err)
		}
		return token, nil
	}
}

// setCredentials seals creds for d, bound to its tenant and id.
func (s *Service) setCredentials(ctx context.Context, d *Destination, at AuthType, creds *Credentials) error {
	if at == AuthNone || creds == nil {
		d.AuthType, d.Sealed = AuthNone, nil
		return nil
	}
	plain, err := json.Marshal(creds)
	if err != nil {
		return fmt.Errorf("encode credentials: %w", err)
	}
	sealed, err := s.Sealer.Seal(ctx, plain, EncryptionContext(d.TenantID, d.ID))
	clear(plain)
	if err != nil {
		return fmt.Errorf("seal credentials: %w", err)
	}
	d.AuthType, d.Sealed = at, &sealed
	return nil
}

// setVerification seals the verification secret for d, bound to its tenant
// and id under the verification purpose; nil in removes nothing.
func (s *Service) setVerification(ctx context.Context, d *Destination, in *VerificationInput) error {
	if in == nil {
		return nil
	}
	plain := []byte(in.Secret)
	sealed, err := s.Sealer.Seal(ctx, plain, VerificationContext(d.TenantID, d.ID))
	clear(plain)
	if err != nil {
		return fmt.Errorf("seal verification secret: %w", err)
	}
	d.Verification = &Verification{Config: in.Config, Secret: sealed}
	return nil
}

// OpenVerificationKey decrypts a destination's verification secret and
// returns the HMAC key of its scheme, for ingest.
func OpenVerificationKey(ctx context.Context, sealer Sealer, d Destination) ([]byte, error) {
	if d.Verification == nil {
		return nil, errors.New("destination has no verification")
	}
	plain, err := sealer.Open(ctx, d.Verification.Secret, VerificationContext(d.TenantID, d.ID))
	if err != nil {
		return nil, fmt.Errorf("open verification secret of destination %s: %w", d.ID, err)
	}
	defer clear(plain)
	key, err := verify.Key(d.Verification.Config.Scheme, string(plain))
	if err != nil {
		return nil, fmt.Errorf("verification secret of destination %s: %w", d.ID, err)
	}
	return key, nil
}

// OpenCredentials decrypts a destination's credentials for a delivery.
func OpenCredentials(ctx context.Context, sealer Sealer, d Destination) (Credentials, error) {
	if d.AuthType == AuthNone || d.Sealed == nil {
		return Credentials{}, errors.New("destination has no credentials")
	}
	plain, err := sealer.Open(ctx, *d.Sealed, EncryptionContext(d.TenantID, d.ID))
	if err != nil {
		return Credentials{}, fmt.Errorf("open credentials of destination %s: %w", d.ID, err)
	}
	defer clear(plain)
	var c Credentials
	if err := json.Unmarshal(plain, &c); err != nil {
		return Credentials{}, fmt.Errorf("decode credentials of destination %s: %w", d.ID, err)
	}
	return c, nil
}

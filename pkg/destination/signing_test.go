package destination_test

import (
	"bytes"
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/hooksentry/hooksentry/pkg/destination"
)

var signingSecretShape = regexp.MustCompile(`^whsec_[A-Za-z0-9+/]{43}=$`)

// createSigned makes a destination and returns it with its signing secret.
func (f *fixture) createSigned(t *testing.T) (destination.Destination, string) {
	t.Helper()
	in, err := destination.ParseCreate([]byte(`{"url":"https://example.com"}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	d, issued, err := f.svc.Create(context.Background(), f.tenant, in)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	return d, issued.SigningSecret
}

func (f *fixture) keys(t *testing.T, id string, at time.Time) destination.SigningKeys {
	t.Helper()
	d, err := f.store.GetDestination(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	k, err := destination.OpenSigningKeys(context.Background(), f.sealer, d, at)
	if err != nil {
		t.Fatalf("OpenSigningKeys: %v", err)
	}
	return k
}

func mustKey(t *testing.T, secret string) []byte {
	t.Helper()
	k, err := destination.SigningKey(secret)
	if err != nil {
		t.Fatalf("SigningKey(%q): %v", secret, err)
	}
	return k
}

func TestCreateIssuesSigningSecret(t *testing.T) {
	f := newFixture(t)
	d, secret := f.createSigned(t)
	if !signingSecretShape.MatchString(secret) {
		t.Fatalf("signing secret %q: want %s", secret, signingSecretShape)
	}
	if d.Signing == nil || bytes.Contains(d.Signing.Ciphertext, mustKey(t, secret)) {
		t.Fatalf("sealed signing secret: got %+v, want a ciphertext without the key", d.Signing)
	}
	got := f.keys(t, d.ID, f.now)
	if want := mustKey(t, secret); !bytes.Equal(got.Current, want) || got.Previous != nil {
		t.Errorf("opened keys: got %+v, want current %x and no previous", got, want)
	}
	// The purpose keeps signing secrets and credentials apart.
	if _, err := f.sealer.Open(context.Background(), *d.Signing, destination.EncryptionContext(d.TenantID, d.ID)); err == nil {
		t.Errorf("signing secret opened under the credentials context")
	}
	_, other := f.createSigned(t)
	if other == secret {
		t.Errorf("two destinations got the same signing secret")
	}
}

func TestRotateSigningSecret(t *testing.T) {
	f := newFixture(t)
	d, first := f.createSigned(t)
	cs := &conflictingStore{Store: f.store, n: 1, concurrent: func(id string) {
		f.store.Modify(id, func(d *destination.Destination) { d.ServerRateLimit = 99 })
	}}
	f.svc.Store = cs
	second, err := f.svc.RotateSigningSecret(context.Background(), f.tenant, d.ID)
	if err != nil {
		t.Fatalf("RotateSigningSecret: %v", err)
	}
	if !signingSecretShape.MatchString(second) || second == first {
		t.Fatalf("rotated secret %q: want a new secret of shape %s", second, signingSecretShape)
	}
	if n := cs.rotations.Load(); n != 2 {
		t.Errorf("ReplaceSigningSecret calls: got %d, want 2 (one conflict, one success)", n)
	}
	stored, _ := f.store.GetDestination(context.Background(), d.ID)
	if stored.ServerRateLimit != 99 {
		t.Errorf("concurrent change lost: rate %d, want 99", stored.ServerRateLimit)
	}
	for _, tc := range []struct {
		name         string
		at           time.Time
		wantPrevious []byte
	}{
		{"during the overlap", f.now.Add(time.Hour), mustKey(t, first)},
		{"just before it ends", f.now.Add(destination.SigningOverlap - time.Millisecond), mustKey(t, first)},
		{"once it ended", f.now.Add(destination.SigningOverlap), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := f.keys(t, d.ID, tc.at)
			if !bytes.Equal(got.Current, mustKey(t, second)) || !bytes.Equal(got.Previous, tc.wantPrevious) {
				t.Errorf("keys: got current %x previous %x, want %x and %x", got.Current, got.Previous, mustKey(t, second), tc.wantPrevious)
			}
		})
	}

	// A second rotation within the overlap retires the first secret at once.
	f.now = f.now.Add(time.Hour)
	third, err := f.svc.RotateSigningSecret(context.Background(), f.tenant, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	got := f.keys(t, d.ID, f.now)
	if !bytes.Equal(got.Current, mustKey(t, third)) || !bytes.Equal(got.Previous, mustKey(t, second)) ||
		!got.PreviousUntil.Equal(f.now.Add(destination.SigningOverlap).Truncate(time.Millisecond)) {
		t.Errorf("after a second rotation: got %+v, want the third current, the second previous until now+24h", got)
	}
}

// TestRotateSigningSecretLegacy: a destination created before signing has
// no secret, so it signs nothing until its first rotation, which leaves no
// previous secret.
func TestRotateSigningSecretLegacy(t *testing.T) {
	f := newFixture(t)
	d, _ := f.createSigned(t)
	f.store.Modify(d.ID, func(d *destination.Destination) { d.Signing = nil })
	if got := f.keys(t, d.ID, f.now); got.Current != nil || got.Previous != nil {
		t.Fatalf("legacy destination keys: got %+v, want none", got)
	}
	secret, err := f.svc.RotateSigningSecret(context.Background(), f.tenant, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	got := f.keys(t, d.ID, f.now)
	if !bytes.Equal(got.Current, mustKey(t, secret)) || got.Previous != nil {
		t.Errorf("after the first rotation: got %+v, want only the new key", got)
	}
}

func TestSigningKey(t *testing.T) {
	for _, tc := range []struct {
		secret  string
		wantErr bool
	}{
		{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", false},
		{"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", true},
		{"whsec_not base64!", true},
	} {
		_, err := destination.SigningKey(tc.secret)
		if gotErr := err != nil; gotErr != tc.wantErr {
			t.Errorf("SigningKey(%q): got error %v, want error %v", tc.secret, err, tc.wantErr)
		}
	}
}

package envelope_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/hooksentry/hooksentry/pkg/destination"
	"github.com/hooksentry/hooksentry/pkg/envelope"
	"github.com/hooksentry/hooksentry/pkg/kmsjson"
	"github.com/hooksentry/hooksentry/pkg/local/emulator/emulatortest"
)

func TestMain(m *testing.M) {
	os.Exit(emulatortest.Run(m, nil))
}

var awsSetup = sync.OnceValues(func() (aws.Config, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return awsconfig.LoadDefaultConfig(ctx)
})

// newKey creates a fresh symmetric key in local-kms (with the SDK client,
// which tests may link) and returns the client the sealer uses in the
// functions, kmsjson.
func newKey(t *testing.T) (envelope.KMS, string) {
	t.Helper()
	cfg, err := awsSetup()
	if err != nil {
		t.Fatalf("AWS config: %v", err)
	}
	out, err := kms.NewFromConfig(cfg).CreateKey(context.Background(), &kms.CreateKeyInput{
		KeySpec: kmstypes.KeySpecSymmetricDefault, KeyUsage: kmstypes.KeyUsageTypeEncryptDecrypt,
	})
	if err != nil {
		t.Fatalf("CreateKey: %v", err)
	}
	return kmsjson.New(cfg), aws.ToString(out.KeyMetadata.KeyId)
}

// kmsCall is what one call passed to KMS.
type kmsCall struct {
	keyID  string
	encCtx map[string]string
}

// recordingKMS wraps the real client, counting calls and keeping the
// inputs, so tests can see what reaches KMS.
type recordingKMS struct {
	envelope.KMS
	mu        sync.Mutex
	generates []kmsCall
	decrypts  []kmsCall
	fail      error
}

func (r *recordingKMS) GenerateDataKey(ctx context.Context, keyID string, encCtx map[string]string) ([]byte, []byte, error) {
	r.mu.Lock()
	r.generates = append(r.generates, kmsCall{keyID, maps.Clone(encCtx)})
	fail := r.fail
	r.mu.Unlock()
	if fail != nil {
		return nil, nil, fail
	}
	return r.KMS.GenerateDataKey(ctx, keyID, encCtx)
}

func (r *recordingKMS) Decrypt(ctx context.Context, keyID string, encryptedKey []byte, encCtx map[string]string) ([]byte, error) {
	r.mu.Lock()
	r.decrypts = append(r.decrypts, kmsCall{keyID, maps.Clone(encCtx)})
	fail := r.fail
	r.mu.Unlock()
	if fail != nil {
		return nil, fail
	}
	return r.KMS.Decrypt(ctx, keyID, encryptedKey, encCtx)
}

func (r *recordingKMS) counts() (generates, decrypts int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.generates), len(r.decrypts)
}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func newSealer(t *testing.T, ttl time.Duration) (*envelope.Sealer, *recordingKMS, *clock) {
	t.Helper()
	client, keyID := newKey(t)
	rec := &recordingKMS{KMS: client}
	clk := &clock{now: time.Date(2026, 7, 3, 14, 0, 0, 0, time.UTC)}
	return &envelope.Sealer{KMS: rec, KeyID: keyID, CacheTTL: ttl, CacheSize: 16, Now: clk.Now}, rec, clk
}

var encCtx = destination.EncryptionContext("tenant-1", "dest-1")

func seal(t *testing.T, s *envelope.Sealer, plain []byte, ec map[string]string) destination.Sealed {
	t.Helper()
	sealed, err := s.Seal(context.Background(), plain, ec)
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	return sealed
}

func TestRoundTrip(t *testing.T) {
	for _, ttl := range []time.Duration{0, time.Minute} {
		s, _, _ := newSealer(t, ttl)
		for _, plain := range [][]byte{
			[]byte(`{"token":"my-secret-token"}`),
			{},
			bytes.Repeat([]byte{0, 1, 2, 255}, 5000),
		} {
			t.Run(fmt.Sprintf("ttl=%s/len=%d", ttl, len(plain)), func(t *testing.T) {
				sealed := seal(t, s, plain, encCtx)
				if len(plain) > 0 && bytes.Contains(sealed.Ciphertext, plain) {
					t.Errorf("ciphertext contains the plaintext")
				}
				if len(sealed.EncryptedKey) == 0 {
					t.Errorf("EncryptedKey is empty")
				}
				for i := range 2 { // the second open may come from the cache
					got, err := s.Open(context.Background(), sealed, maps.Clone(encCtx))
					if err != nil {
						t.Fatalf("Open #%d: %v", i+1, err)
					}
					if !bytes.Equal(got, plain) {
						t.Errorf("Open #%d: got %d bytes, want the %d sealed", i+1, len(got), len(plain))
					}
				}
			})
		}
	}
}

func TestSealUsesFreshKeyAndNonce(t *testing.T) {
	s, _, _ := newSealer(t, 0)
	a := seal(t, s, []byte("same"), encCtx)
	b := seal(t, s, []byte("same"), encCtx)
	if bytes.Equal(a.Ciphertext, b.Ciphertext) || bytes.Equal(a.EncryptedKey, b.EncryptedKey) {
		t.Errorf("sealing the same value twice gave the same ciphertext or data key")
	}
}

func TestGenerateDataKeyCarriesEncryptionContext(t *testing.T) {
	s, rec, _ := newSealer(t, time.Minute)
	sealed := seal(t, s, []byte("x"), encCtx)
	if _, err := s.Open(context.Background(), sealed, encCtx); err != nil {
		t.Fatal(err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.generates) != 1 {
		t.Fatalf("GenerateDataKey calls: got %d, want 1", len(rec.generates))
	}
	g := rec.generates[0]
	if !maps.Equal(g.encCtx, encCtx) {
		t.Errorf("GenerateDataKey encryption context: got %v, want %v", g.encCtx, encCtx)
	}
	if g.keyID != s.KeyID {
		t.Errorf("GenerateDataKey: got key %q, want %q", g.keyID, s.KeyID)
	}
	if len(rec.decrypts) != 1 || !maps.Equal(rec.decrypts[0].encCtx, encCtx) || rec.decrypts[0].keyID != s.KeyID {
		t.Errorf("Decrypt: got %+v, want 1 call with key %q and context %v", rec.decrypts, s.KeyID, encCtx)
	}
}

func TestWrongEncryptionContext(t *testing.T) {
	for _, ttl := range []time.Duration{0, time.Minute} {
		t.Run(fmt.Sprintf("ttl=%s", ttl), func(t *testing.T) {
			s, _, _ := newSealer(t, ttl)
			sealed := seal(t, s, []byte("secret"), encCtx)
			// A cached data key must not let another context through.
			if _, err := s.Open(context.Background(), sealed, encCtx); err != nil {
				t.Fatal(err)
			}
			for name, ec := range map[string]map[string]string{
				"other destination": destination.EncryptionContext("tenant-1", "dest-2"),
				"other tenant":      destination.EncryptionContext("tenant-2", "dest-1"),
				"empty":             {},
				"nil":               nil,
				"extra pair":        func() map[string]string { m := maps.Clone(encCtx); m["x"] = "y"; return m }(),
			} {
				if got, err := s.Open(context.Background(), sealed, ec); !errors.Is(err, envelope.ErrOpen) {
					t.Errorf("%s: Open: got %q, %v, want ErrOpen", name, got, err)
				}
			}
		})
	}
}

// TestOnlyKMSGuardsTheKey removes the GCM binding from the picture: the
// data key of one context, presented with another, is refused by KMS.
func TestOnlyKMSGuardsTheKey(t *testing.T) {
	s, _, _ := newSealer(t, 0)
	sealed := seal(t, s, []byte("secret"), encCtx)
	other := destination.EncryptionContext("tenant-1", "dest-2")
	_, err := s.KMS.Decrypt(context.Background(), s.KeyID, sealed.EncryptedKey, other)
	if err == nil {
		t.Errorf("KMS Decrypt of the data key with another context: got nil error, want a refusal")
	}
}

func TestTampering(t *testing.T) {
	s, _, _ := newSealer(t, time.Minute)
	orig := seal(t, s, []byte(`{"password":"p"}`), encCtx)
	flip := func(b []byte, i int) []byte {
		c := bytes.Clone(b)
		c[(i+len(c))%len(c)] ^= 0x01
		return c
	}
	for _, tc := range []struct {
		name   string
		sealed destination.Sealed
	}{
		{"nonce", destination.Sealed{Ciphertext: flip(orig.Ciphertext, 0), EncryptedKey: orig.EncryptedKey}},
		{"body", destination.Sealed{Ciphertext: flip(orig.Ciphertext, 12), EncryptedKey: orig.EncryptedKey}},
		{"tag", destination.Sealed{Ciphertext: flip(orig.Ciphertext, -1), EncryptedKey: orig.EncryptedKey}},
		{"truncated", destination.Sealed{Ciphertext: orig.Ciphertext[:len(orig.Ciphertext)-1], EncryptedKey: orig.EncryptedKey}},
		{"nonce only", destination.Sealed{Ciphertext: orig.Ciphertext[:12], EncryptedKey: orig.EncryptedKey}},
		{"too short", destination.Sealed{Ciphertext: orig.Ciphertext[:5], EncryptedKey: orig.EncryptedKey}},
		{"empty", destination.Sealed{EncryptedKey: orig.EncryptedKey}},
		// The end of the blob: local-kms starts its blobs with the key ARN,
		// which it ignores when Decrypt names the key, as the sealer does.
		{"encrypted key", destination.Sealed{Ciphertext: orig.Ciphertext, EncryptedKey: flip(orig.EncryptedKey, -1)}},
		{"no encrypted key", destination.Sealed{Ciphertext: orig.Ciphertext}},
		{"another value's key", destination.Sealed{Ciphertext: orig.Ciphertext, EncryptedKey: seal(t, s, []byte("x"), encCtx).EncryptedKey}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.Open(context.Background(), tc.sealed, encCtx)
			if !errors.Is(err, envelope.ErrOpen) {
				t.Errorf("Open: got %q, %v, want ErrOpen", got, err)
			}
		})
	}
	if _, err := s.Open(context.Background(), orig, encCtx); err != nil {
		t.Errorf("Open of the untouched value: %v", err)
	}
}

func TestCache(t *testing.T) {
	const ttl = time.Minute
	s, rec, clk := newSealer(t, ttl)
	ctx := context.Background()
	a := seal(t, s, []byte("a"), encCtx)

	open := func(sealed destination.Sealed) {
		t.Helper()
		if _, err := s.Open(ctx, sealed, encCtx); err != nil {
			t.Fatalf("Open: %v", err)
		}
	}
	wantDecrypts := func(want int) {
		t.Helper()
		if _, got := rec.counts(); got != want {
			t.Errorf("Decrypt calls: got %d, want %d", got, want)
		}
	}
	open(a)
	open(a)
	open(a)
	wantDecrypts(1)

	clk.advance(ttl - time.Millisecond)
	open(a)
	wantDecrypts(1)

	clk.advance(2 * time.Millisecond)
	open(a)
	wantDecrypts(2)

	// A different sealed value has its own data key.
	b := seal(t, s, []byte("b"), encCtx)
	open(b)
	wantDecrypts(3)
	open(a)
	open(b)
	wantDecrypts(3)
}

func TestCacheDisabled(t *testing.T) {
	s, rec, _ := newSealer(t, 0)
	a := seal(t, s, []byte("a"), encCtx)
	for range 3 {
		if _, err := s.Open(context.Background(), a, encCtx); err != nil {
			t.Fatal(err)
		}
	}
	if _, got := rec.counts(); got != 3 {
		t.Errorf("Decrypt calls without a cache: got %d, want 3", got)
	}
}

func TestCacheSizeBound(t *testing.T) {
	s, rec, _ := newSealer(t, time.Hour)
	s.CacheSize = 1
	ctx := context.Background()
	a, b := seal(t, s, []byte("a"), encCtx), seal(t, s, []byte("b"), encCtx)
	for _, v := range []destination.Sealed{a, b, a} {
		if _, err := s.Open(ctx, v, encCtx); err != nil {
			t.Fatal(err)
		}
	}
	if _, got := rec.counts(); got != 3 {
		t.Errorf("Decrypt calls with a one-entry cache: got %d, want 3 (b evicts a)", got)
	}
}

func TestConcurrentOpens(t *testing.T) {
	s, rec, _ := newSealer(t, time.Minute)
	s.CacheSize = 4
	var values []destination.Sealed
	for i := range 8 {
		values = append(values, seal(t, s, []byte{byte(i)}, encCtx))
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 8 {
		wg.Go(func() {
			for i := range 8 {
				v := (g + i) % len(values)
				got, err := s.Open(context.Background(), values[v], encCtx)
				if err != nil || len(got) != 1 || got[0] != byte(v) {
					errs <- fmt.Errorf("Open of value %d: got %v, %v", v, got, err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if _, got := rec.counts(); got < len(values) {
		t.Errorf("Decrypt calls: got %d, want at least one per value (%d)", got, len(values))
	}
}

func TestKMSFailures(t *testing.T) {
	s, rec, _ := newSealer(t, time.Minute)
	sealed := seal(t, s, []byte("x"), encCtx)
	rec.mu.Lock()
	rec.fail = errors.New("kms unavailable")
	rec.mu.Unlock()
	if _, err := s.Seal(context.Background(), []byte("y"), encCtx); err == nil {
		t.Errorf("Seal with KMS down: got nil error, want one")
	}
	if _, err := s.Open(context.Background(), sealed, encCtx); !errors.Is(err, envelope.ErrOpen) {
		t.Errorf("Open with KMS down: got %v, want ErrOpen", err)
	}
}

func TestUnknownKey(t *testing.T) {
	s, _, _ := newSealer(t, 0)
	s.KeyID = "00000000-0000-0000-0000-000000000000"
	if _, err := s.Seal(context.Background(), []byte("x"), encCtx); err == nil {
		t.Errorf("Seal with an unknown key: got nil error, want one")
	}
}

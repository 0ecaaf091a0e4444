package envelope_test

import (
	"bytes"
	"context"
	"maps"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/hooksentry/hooksentry/pkg/destination"
	"github.com/hooksentry/hooksentry/pkg/envelope"
	"github.com/hooksentry/hooksentry/pkg/kmsjson"
)

// sdkKMS puts the SDK's KMS client behind envelope.KMS. The functions no
// longer link it; it stays here as the reference that kmsjson is held to.
type sdkKMS struct{ c *kms.Client }

func (s sdkKMS) GenerateDataKey(ctx context.Context, keyID string, encCtx map[string]string) ([]byte, []byte, error) {
	out, err := s.c.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{
		KeyId: aws.String(keyID), KeySpec: kmstypes.DataKeySpecAes256, EncryptionContext: encCtx,
	})
	if err != nil {
		return nil, nil, err
	}
	return out.Plaintext, out.CiphertextBlob, nil
}

func (s sdkKMS) Decrypt(ctx context.Context, keyID string, encryptedKey []byte, encCtx map[string]string) ([]byte, error) {
	out, err := s.c.Decrypt(ctx, &kms.DecryptInput{
		KeyId: aws.String(keyID), CiphertextBlob: encryptedKey, EncryptionContext: encCtx,
	})
	if err != nil {
		return nil, err
	}
	return out.Plaintext, nil
}

// TestKMSConformance runs one suite of envelope.KMS behaviour against every
// implementation, on the same local-kms key: the SDK client and kmsjson
// must agree, and each must open what the other sealed.
func TestKMSConformance(t *testing.T) {
	cfg, err := awsSetup()
	if err != nil {
		t.Fatal(err)
	}
	_, keyID := newKey(t)
	impls := map[string]envelope.KMS{
		"sdk":     sdkKMS{kms.NewFromConfig(cfg)},
		"kmsjson": kmsjson.New(cfg),
	}
	for name, k := range impls {
		t.Run(name, func(t *testing.T) {
			testKMS(t, k, keyID)
			for other, o := range impls {
				t.Run("opens what "+other+" generated", func(t *testing.T) {
					want, blob, err := o.GenerateDataKey(context.Background(), keyID, encCtx)
					if err != nil {
						t.Fatal(err)
					}
					got, err := k.Decrypt(context.Background(), keyID, blob, encCtx)
					if err != nil || !bytes.Equal(got, want) {
						t.Errorf("Decrypt: got %d bytes, %v, want the generated key", len(got), err)
					}
				})
			}
		})
	}
}

func testKMS(t *testing.T, k envelope.KMS, keyID string) {
	ctx := context.Background()
	key, blob, err := k.GenerateDataKey(ctx, keyID, encCtx)
	if err != nil {
		t.Fatalf("GenerateDataKey: %v", err)
	}
	if len(key) != 32 {
		t.Errorf("data key: %d bytes, want 32 (AES-256)", len(key))
	}
	if len(blob) == 0 || bytes.Contains(blob, key) {
		t.Errorf("encrypted key is empty or contains the plaintext key")
	}
	key2, blob2, err := k.GenerateDataKey(ctx, keyID, encCtx)
	if err != nil {
		t.Fatalf("second GenerateDataKey: %v", err)
	}
	if bytes.Equal(key, key2) || bytes.Equal(blob, blob2) {
		t.Errorf("two GenerateDataKey calls gave the same key")
	}

	got, err := k.Decrypt(ctx, keyID, blob, maps.Clone(encCtx))
	if err != nil {
		t.Fatalf("Decrypt: %v", err)
	}
	if !bytes.Equal(got, key) {
		t.Errorf("Decrypt: got another key than GenerateDataKey returned")
	}

	for name, ec := range map[string]map[string]string{
		"other destination": destination.EncryptionContext("tenant-1", "dest-2"),
		"nil":               nil,
	} {
		if got, err := k.Decrypt(ctx, keyID, blob, ec); err == nil {
			t.Errorf("Decrypt with context %s: got %d bytes, want a refusal", name, len(got))
		}
	}
	if _, _, err := k.GenerateDataKey(ctx, "00000000-0000-0000-0000-000000000000", encCtx); err == nil {
		t.Errorf("GenerateDataKey with an unknown key: got nil error")
	}
}

package kmsjson_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/hooksentry/hooksentry/pkg/app"
	"github.com/hooksentry/hooksentry/pkg/envelope"
	"github.com/hooksentry/hooksentry/pkg/kmsjson"
	"github.com/hooksentry/hooksentry/pkg/local/emulator/emulatortest"
)

func TestMain(m *testing.M) {
	os.Exit(emulatortest.Run(m, nil))
}

var _ envelope.KMS = (*kmsjson.Client)(nil)

// localKMS returns a client configured as the functions configure theirs
// (app.AWSFromEnvironment, which emulatortest points at local-kms) and a
// fresh key, created with the SDK client.
func localKMS(t *testing.T) (*kmsjson.Client, string) {
	t.Helper()
	cfg, err := app.AWSFromEnvironment(os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	out, err := kms.NewFromConfig(cfg).CreateKey(context.Background(), &kms.CreateKeyInput{
		KeySpec: kmstypes.KeySpecSymmetricDefault, KeyUsage: kmstypes.KeyUsageTypeEncryptDecrypt,
	})
	if err != nil {
		t.Fatalf("CreateKey: %v", err)
	}
	return kmsjson.New(cfg), aws.ToString(out.KeyMetadata.KeyId)
}

var encCtx = map[string]string{"tenant": "tenant-1", "destination": "dest-1"}

func TestLocalKMSRoundTrip(t *testing.T) {
	c, keyID := localKMS(t)
	ctx := context.Background()
	key, blob, err := c.GenerateDataKey(ctx, keyID, encCtx)
	if err != nil {
		t.Fatalf("GenerateDataKey: %v", err)
	}
	if len(key) != 32 || len(blob) == 0 {
		t.Fatalf("GenerateDataKey: %d-byte key, %d-byte blob, want 32 and some", len(key), len(blob))
	}
	got, err := c.Decrypt(ctx, keyID, blob, map[string]string{"destination": "dest-1", "tenant": "tenant-1"})
	if err != nil {
		t.Fatalf("Decrypt: %v", err)
	}
	if !bytes.Equal(got, key) {
		t.Errorf("Decrypt returned another key")
	}

	_, err = c.Decrypt(ctx, keyID, blob, map[string]string{"tenant": "tenant-1", "destination": "dest-2"})
	var kerr *kmsjson.Error
	if !errors.As(err, &kerr) || kerr.Code != "InvalidCiphertextException" {
		t.Fatalf("Decrypt with a wrong context: got %v, want InvalidCiphertextException", err)
	}
	if kerr.StatusCode != 400 {
		t.Errorf("status: got %d, want 400", kerr.StatusCode)
	}
	noSecrets(t, err, key, blob)
}

func TestLocalKMSUnknownKey(t *testing.T) {
	c, _ := localKMS(t)
	_, _, err := c.GenerateDataKey(context.Background(), "00000000-0000-0000-0000-000000000000", encCtx)
	var kerr *kmsjson.Error
	if !errors.As(err, &kerr) || kerr.Code != "NotFoundException" {
		t.Fatalf("GenerateDataKey with an unknown key: got %v, want NotFoundException", err)
	}
}

// noSecrets fails if the error's text holds a key or blob, raw or base64.
func noSecrets(t *testing.T, err error, secrets ...[]byte) {
	t.Helper()
	msg := err.Error()
	for _, s := range secrets {
		if strings.Contains(msg, string(s)) || strings.Contains(msg, base64.StdEncoding.EncodeToString(s)) {
			t.Errorf("error %q contains request or response material", msg)
		}
	}
}

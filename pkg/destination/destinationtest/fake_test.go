package destinationtest_test

import (
	"context"
	"errors"
	"testing"

	"github.com/hooksentry/hooksentry/pkg/destination"
	"github.com/hooksentry/hooksentry/pkg/destination/destinationtest"
)

func TestStoreConformance(t *testing.T) {
	destinationtest.RunStoreConformance(t, destinationtest.NewStore())
}

func TestSealerRoundTrip(t *testing.T) {
	ctx := context.Background()
	var s destinationtest.Sealer
	encCtx := destination.EncryptionContext("tenant", "dest")
	sealed, err := s.Seal(ctx, []byte("secret"), encCtx)
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	got, err := s.Open(ctx, sealed, encCtx)
	if err != nil || string(got) != "secret" {
		t.Errorf("Open: got %q, %v, want %q, nil", got, err, "secret")
	}
	_, err = s.Open(ctx, sealed, destination.EncryptionContext("tenant", "other"))
	if !errors.Is(err, destinationtest.ErrOpen) {
		t.Errorf("Open with another context: got %v, want ErrOpen", err)
	}
}

package destination_test

import (
	"slices"
	"testing"

	"github.com/hooksentry/hooksentry/pkg/destination"
	"github.com/hooksentry/hooksentry/pkg/kmscontext"
)

// TestEncryptionContextIsWhatIAMAllows: the context sealed credentials
// carry has exactly the keys, and a purpose, that the templates' KMS
// conditions allow (they are built from pkg/kmscontext); any other context
// would be refused by KMS in AWS only, where the emulator does not look.
func TestEncryptionContextIsWhatIAMAllows(t *testing.T) {
	ctx := destination.EncryptionContext("tenant-1", "dest-1")
	var keys []string
	for k := range ctx {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	wantKeys := kmscontext.Keys()
	slices.Sort(wantKeys)
	if !slices.Equal(keys, wantKeys) {
		t.Errorf("keys: got %v, want %v", keys, wantKeys)
	}
	if got := ctx[kmscontext.Purpose]; !slices.Contains(kmscontext.Purposes(), got) {
		t.Errorf("purpose: got %q, want one of %v", got, kmscontext.Purposes())
	}
	for k, want := range map[string]string{kmscontext.TenantID: "tenant-1", kmscontext.DestinationID: "dest-1"} {
		if got := ctx[k]; got != want {
			t.Errorf("%s: got %q, want %q", k, got, want)
		}
	}
	for _, k := range kmscontext.Identifying() {
		if !slices.Contains(wantKeys, k) {
			t.Errorf("identifying key %s is not a context key", k)
		}
	}
}

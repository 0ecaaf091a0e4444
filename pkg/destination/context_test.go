package destination_test

import (
	"slices"
	"testing"

	"github.com/hooksentry/hooksentry/pkg/destination"
	"github.com/hooksentry/hooksentry/pkg/kmscontext"
)

// TestEncryptionContextIsWhatIAMAllows: the contexts sealed credentials and
// signing secrets carry have exactly the keys, and a purpose, that the
// templates' KMS conditions allow (they are built from pkg/kmscontext); any
// other context would be refused by KMS in AWS only, where the emulator
// does not look. Each kind has its own purpose.
func TestEncryptionContextIsWhatIAMAllows(t *testing.T) {
	for _, tc := range []struct {
		name        string
		ctx         map[string]string
		wantPurpose string
	}{
		{"credentials", destination.EncryptionContext("tenant-1", "dest-1"), kmscontext.PurposeDestinationCredentials},
		{"signing secret", destination.SigningContext("tenant-1", "dest-1"), kmscontext.PurposeSigningSecret},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var keys []string
			for k := range tc.ctx {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			wantKeys := kmscontext.Keys()
			slices.Sort(wantKeys)
			if !slices.Equal(keys, wantKeys) {
				t.Errorf("keys: got %v, want %v", keys, wantKeys)
			}
			if got := tc.ctx[kmscontext.Purpose]; got != tc.wantPurpose || !slices.Contains(kmscontext.Purposes(), got) {
				t.Errorf("purpose: got %q, want %q, one of %v", got, tc.wantPurpose, kmscontext.Purposes())
			}
			for k, want := range map[string]string{kmscontext.TenantID: "tenant-1", kmscontext.DestinationID: "dest-1"} {
				if got := tc.ctx[k]; got != want {
					t.Errorf("%s: got %q, want %q", k, got, want)
				}
			}
			for _, k := range kmscontext.Identifying() {
				if !slices.Contains(wantKeys, k) {
					t.Errorf("identifying key %s is not a context key", k)
				}
			}
		})
	}
}

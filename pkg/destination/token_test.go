package destination_test

import (
	"bytes"
	"errors"
	"regexp"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/hooksentry/hooksentry/pkg/destination"
)

var tokenPattern = regexp.MustCompile(`^dst_[0-9a-f]{32}$`)

func TestNewIngestToken(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		token, hash, err := destination.NewIngestToken(nil)
		if err != nil {
			t.Fatalf("NewIngestToken: %v", err)
		}
		if !tokenPattern.MatchString(token) {
			t.Errorf("token %q: want dst_ + 32 lowercase hex", token)
		}
		if hash == token || strings.Contains(hash, token[4:]) {
			t.Errorf("hash %q reveals token %q", hash, token)
		}
		if got := destination.HashIngestToken(token); got != hash {
			t.Errorf("HashIngestToken: got %q, want the hash NewIngestToken returned, %q", got, hash)
		}
		if !destination.WellFormedIngestToken(token) {
			t.Errorf("WellFormedIngestToken(%q): got false, want true", token)
		}
		if seen[token] {
			t.Fatalf("token %q generated twice", token)
		}
		seen[token] = true
	}
}

func TestNewIngestTokenUsesRandom(t *testing.T) {
	token, _, err := destination.NewIngestToken(bytes.NewReader(bytes.Repeat([]byte{0xab}, 16)))
	if err != nil {
		t.Fatalf("NewIngestToken: %v", err)
	}
	if want := "dst_" + strings.Repeat("ab", 16); token != want {
		t.Errorf("token: got %q, want %q", token, want)
	}
	if _, _, err := destination.NewIngestToken(iotest.ErrReader(errors.New("no entropy"))); err == nil {
		t.Errorf("NewIngestToken with a failing reader: got nil error, want one")
	}
	if _, _, err := destination.NewIngestToken(bytes.NewReader(make([]byte, 15))); err == nil {
		t.Errorf("NewIngestToken with 15 random bytes: got nil error, want one")
	}
}

func TestHashIngestToken(t *testing.T) {
	a, b := destination.HashIngestToken("dst_"+strings.Repeat("0", 32)), destination.HashIngestToken("dst_"+strings.Repeat("0", 31)+"1")
	if a == b {
		t.Errorf("different tokens have the same hash %q", a)
	}
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(a) {
		t.Errorf("hash %q: want 64 lowercase hex characters", a)
	}
}

func TestWellFormedIngestToken(t *testing.T) {
	for _, tc := range []struct {
		token string
		want  bool
	}{
		{"dst_" + strings.Repeat("0", 32), true},
		{"dst_0123456789abcdef0123456789abcdef", true},
		{"dst_0123456789ABCDEF0123456789abcdef", false},
		{"dst_" + strings.Repeat("0", 31), false},
		{"dst_" + strings.Repeat("0", 33), false},
		{"DST_" + strings.Repeat("0", 32), false},
		{"dsx_" + strings.Repeat("0", 32), false},
		{"dst-" + strings.Repeat("0", 32), false},
		{strings.Repeat("0", 36), false},
		{"dst_" + strings.Repeat("g", 32), false},
		{"dst_" + strings.Repeat("0", 31) + " ", false},
		{"dst_" + strings.Repeat("0", 30) + "é", false},
		{"", false},
		{"dst_", false},
	} {
		if got := destination.WellFormedIngestToken(tc.token); got != tc.want {
			t.Errorf("WellFormedIngestToken(%q): got %v, want %v", tc.token, got, tc.want)
		}
	}
}

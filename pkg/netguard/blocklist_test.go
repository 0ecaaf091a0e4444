package netguard

import (
	"errors"
	"net/netip"
	"testing"
)

func TestIsBlocked(t *testing.T) {
	blocked := []string{
		"127.0.0.1",
		"127.255.255.254",
		"::1",
		"10.0.0.1",
		"172.16.5.4",
		"172.31.255.255",
		"192.168.1.1",
		"169.254.169.254",
		"169.254.1.1",
		"fd00:ec2::254",
		"fd20:ce::254",
		"100.100.100.200",
		"192.0.0.192",
		"100.64.0.1",
		"0.0.0.0",
		"0.1.2.3",
		"::",
		"224.0.0.1",
		"239.255.255.250",
		"255.255.255.255",
		"240.0.0.1",
		"192.0.0.1",
		"198.18.0.1",
		"198.19.255.255",
		"192.0.2.1",
		"203.0.113.7",
		"ff02::1",
		"fe80::1",
		"fe80::1%eth0",
		"fec0::1",
		"fc00::1",
		"fd12:3456::1",
		"2001:db8::1",
		"100::1",
		"::ffff:127.0.0.1",
		"::ffff:169.254.169.254",
		"::ffff:10.1.2.3",
		"::127.0.0.1",        // IPv4-compatible, embedded loopback
		"::8.8.8.8",          // IPv4-compatible is deprecated, blocked regardless
		"64:ff9b::7f00:1",    // NAT64 of 127.0.0.1
		"64:ff9b::a9fe:a9fe", // NAT64 of 169.254.169.254
		"64:ff9b:1::808:808", // local-use NAT64 prefix
		"2002:7f00:1::",      // 6to4 of 127.0.0.1
		"2002:a9fe:a9fe::1",  // 6to4 of 169.254.169.254
		// Teredo, server 65.54.227.120, client 127.0.0.1 (stored inverted).
		"2001:0:4136:e378:8000:63bf:80ff:fffe",
		"4000::1", // outside 2000::/3
		// 2001::/23, IETF protocol assignments (RFC 2928), outside the
		// Teredo /32 and the ranges with rules of their own.
		"2001:1::1",     // PCP anycast
		"2001:3::1",     // AMT
		"2001:4:112::1", // AS112-v6
		"2001:5::1",     // LISP EID space
		"2001:10::1",    // deprecated ORCHID
		"2001:20::1",    // ORCHIDv2
		"2001:1ff::1",   // unassigned, the last /32 of the block
		"2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff",
	}
	for _, s := range blocked {
		t.Run(s, func(t *testing.T) {
			reason, got := IsBlocked(netip.MustParseAddr(s))
			if !got {
				t.Fatalf("IsBlocked(%s) = false, want true", s)
			}
			if reason == "" {
				t.Errorf("IsBlocked(%s) gave an empty reason", s)
			}
		})
	}

	allowed := []string{
		"8.8.8.8",
		"1.1.1.1",
		"93.184.216.34",
		"172.32.0.1",
		"100.128.0.1",
		"192.0.1.1",
		"2606:4700:4700::1111",
		"2a00:1450:4001:82b::200e",
		"::ffff:8.8.8.8",
		"64:ff9b::808:808", // NAT64 of 8.8.8.8
		"2002:808:808::1",  // 6to4 of 8.8.8.8
		// Teredo, server 65.54.227.120, client 8.8.8.8 (stored inverted).
		"2001:0:4136:e378:8000:63bf:f7f7:f7f7",
		"2001:200::1",          // the first address after 2001::/23
		"2001:4860:4860::8888", // Google Public DNS
	}
	for _, s := range allowed {
		t.Run(s, func(t *testing.T) {
			reason, got := IsBlocked(netip.MustParseAddr(s))
			if got {
				t.Fatalf("IsBlocked(%s) = true (%s), want false", s, reason)
			}
		})
	}
}

func TestIsBlockedInvalid(t *testing.T) {
	if _, got := IsBlocked(netip.Addr{}); !got {
		t.Errorf("IsBlocked(zero Addr) = false, want true")
	}
}

func TestDialControl(t *testing.T) {
	tests := []struct {
		address string
		wantErr bool
	}{
		{"127.0.0.1:80", true},
		{"[::1]:443", true},
		{"[fe80::1%eth0]:443", true},
		{"169.254.169.254:80", true},
		{"[2001:10::1]:443", true},
		{"not-an-address", true},
		{"8.8.8.8:443", false},
		{"[2606:4700:4700::1111]:443", false},
	}
	for _, tt := range tests {
		t.Run(tt.address, func(t *testing.T) {
			err := DialControl("tcp", tt.address, nil)
			if got := errors.Is(err, ErrBlockedAddress); got != tt.wantErr {
				t.Fatalf("DialControl(%q) = %v, want blocked %v", tt.address, err, tt.wantErr)
			}
		})
	}
}

func TestValidateURLHost(t *testing.T) {
	tests := []struct {
		url     string
		wantErr error // nil means the URL must be accepted
	}{
		{"https://127.0.0.1/hook", ErrBlockedAddress},
		{"https://127.0.0.1:8443/hook", ErrBlockedAddress},
		{"https://127.0.0.1./hook", ErrBlockedAddress},
		{"https://10.0.0.1/hook", ErrBlockedAddress},
		{"http://169.254.169.254/latest/meta-data/", ErrBlockedAddress},
		{"https://[::1]/hook", ErrBlockedAddress},
		{"https://[::1]:8443/hook", ErrBlockedAddress},
		{"https://[::ffff:127.0.0.1]/hook", ErrBlockedAddress},
		{"https://[::ffff:7f00:1]/hook", ErrBlockedAddress},
		{"https://[fd00:ec2::254]/hook", ErrBlockedAddress},
		{"https://[fe80::1%25eth0]/hook", ErrBlockedAddress},
		{"https://[2606:4700:4700::1111%25eth0]/hook", ErrBlockedAddress},
		{"https://[64:ff9b::7f00:1]/hook", ErrBlockedAddress},
		{"https://[2001:10::1]/hook", ErrBlockedAddress},
		{"https://[2001:1ff::1]/hook", ErrBlockedAddress},
		{"https://localhost/hook", ErrBlockedAddress},
		{"https://LOCALHOST:8080/hook", ErrBlockedAddress},
		{"https://api.localhost/hook", ErrBlockedAddress},
		{"http://2130706433/", ErrAmbiguousHost},
		{"http://0x7f.0.0.1/", ErrAmbiguousHost},
		{"http://0x7f000001/", ErrAmbiguousHost},
		{"http://017700000001/", ErrAmbiguousHost},
		{"http://0177.0.0.1/", ErrAmbiguousHost},
		{"http://127.1/", ErrAmbiguousHost},
		{"http://010.0.0.1/", ErrAmbiguousHost},
		{"http://134744072/", ErrAmbiguousHost}, // 8.8.8.8, still ambiguous
		// Unicode spellings: net/http maps a non-ASCII host with IDNA
		// (UTS #46) before it dials, so these are 127.0.0.1 and localhost.
		{"https://１２７．０．０．１/hook", ErrBlockedAddress},                         // fullwidth digits and dots
		{"https://①②⑦.⓪.⓪.①/hook", ErrBlockedAddress},                         // circled digits
		{"https://127。0。0。1/hook", ErrBlockedAddress},                         // ideographic full stops
		{"https://１６９．２５４．１６９．２５４/latest", ErrBlockedAddress},                 // metadata
		{"https://%EF%BC%91%EF%BC%92%EF%BC%97.0.0.1/hook", ErrBlockedAddress}, // percent-encoded fullwidth
		{"https://127.0.0.1．/hook", ErrBlockedAddress},                        // fullwidth trailing dot
		{"https://ｌｏｃａｌｈｏｓｔ/hook", ErrBlockedAddress},
		{"https://０ｘ７ｆ.0.0.1/", ErrAmbiguousHost},
		{"https://１２７.１/", ErrAmbiguousHost},
		{"https://⑴.example/", ErrInvalidHost}, // no valid IDNA mapping: net/http could not send it either
		// Trailing dots: any number of them spell the same address.
		{"https://127.0.0.1../hook", ErrBlockedAddress},
		{"https://127.0.0.1.../hook", ErrBlockedAddress},
		{"https://10.0.0.1..:8443/hook", ErrBlockedAddress},
		{"http://2130706433../", ErrAmbiguousHost},
		{"https://localhost../", ErrBlockedAddress},
		{"https://example.com/hook", nil},
		{"https://bücher.example/hook", nil},
		{"https://ｅｘａｍｐｌｅ.com/hook", nil},
		{"https://例え.テスト/hook", nil},
		{"https://８.８.８.８/hook", nil},
		{"https://8.8.8.8../hook", nil},
		{"https://example.com./hook", nil},
		{"https://hooks.example.com:8443/a?b=c", nil},
		{"https://1e100.net/", nil},
		{"https://123.example/", nil},
		{"https://0x.example.com/", nil},
		{"https://8.8.8.8/hook", nil},
		{"https://93.184.216.34:443/hook", nil},
		{"https://[2606:4700:4700::1111]/hook", nil},
		{"https://[2606:4700:4700::1111]:8443/hook", nil},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			err := ValidateURLHost(tt.url)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("ValidateURLHost(%q) = %v, want nil", tt.url, err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ValidateURLHost(%q) = %v, want %v", tt.url, err, tt.wantErr)
			}
		})
	}
}

func TestValidateURLHostMalformed(t *testing.T) {
	for _, raw := range []string{"https:///nohost", "http://[::1/", "://x", "https://[fe80::1%eth0]/"} {
		t.Run(raw, func(t *testing.T) {
			if err := ValidateURLHost(raw); err == nil {
				t.Fatalf("ValidateURLHost(%q) = nil, want error", raw)
			}
		})
	}
}

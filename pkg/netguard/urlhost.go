package netguard

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strings"
)

// ErrAmbiguousHost is wrapped when a host is a numeric IPv4 spelling other
// than canonical dotted decimal, such as "2130706433", "0x7f.0.0.1",
// "017700000001" or "127.1".
var ErrAmbiguousHost = errors.New("netguard: ambiguous numeric host")

// ValidateURLHost is the create/update-time check for a destination URL. It
// refuses hosts that are IP literals in a blocked range, zoned IPv6 literals,
// numeric hosts that are not canonical dotted-decimal IPv4, and the
// "localhost" names. Other hostnames are not resolved and are accepted;
// DialControl checks whatever they resolve to at connect time.
func ValidateURLHost(rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return fmt.Errorf("netguard: invalid URL: %w", err)
	}
	return ValidateHost(u.Hostname())
}

// ValidateHost applies the ValidateURLHost rules to a bare host as returned
// by url.URL.Hostname (no port, no brackets, zone already unescaped).
func ValidateHost(host string) error {
	if host == "" {
		return errors.New("netguard: URL has no host")
	}
	// A single trailing dot is a fully qualified spelling of the same name
	// or address ("127.0.0.1." dials 127.0.0.1 with many resolvers).
	h := strings.ToLower(strings.TrimSuffix(host, "."))

	if ip, err := netip.ParseAddr(h); err == nil {
		if ip.Zone() != "" {
			// Zones only mean something on a local link.
			return fmt.Errorf("%w: %q has an IPv6 zone", ErrBlockedAddress, host)
		}
		if reason, blocked := IsBlocked(ip); blocked {
			return fmt.Errorf("%w: %s: %s", ErrBlockedAddress, ip, reason)
		}
		return nil
	}

	// Go's URL parser accepts these as ordinary hostnames, but inet_aton
	// based resolvers and browsers (WHATWG URL "ends in a number") read them
	// as IPv4 addresses: "2130706433" and "0x7f.0.0.1" are 127.0.0.1. No real
	// DNS name has a numeric final label, so refuse them all rather than try
	// to predict every resolver's interpretation. DialControl would still
	// refuse the dial if one slipped through.
	if endsInNumber(h) {
		return fmt.Errorf("%w: %q is not a canonical dotted-decimal IPv4 address", ErrAmbiguousHost, host)
	}

	// RFC 6761: these names always resolve to loopback.
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return fmt.Errorf("%w: %q always resolves to loopback", ErrBlockedAddress, host)
	}
	return nil
}

// endsInNumber reports whether the last dot-separated label of host is a
// decimal, octal or hexadecimal number.
func endsInNumber(host string) bool {
	last := host[strings.LastIndex(host, ".")+1:]
	if last == "" {
		return false
	}
	digits := "0123456789"
	if strings.HasPrefix(last, "0x") {
		// "0x" on its own is zero to the WHATWG parser.
		last = last[2:]
		digits = "0123456789abcdef"
	}
	for _, r := range last {
		if !strings.ContainsRune(digits, r) {
			return false
		}
	}
	return true
}

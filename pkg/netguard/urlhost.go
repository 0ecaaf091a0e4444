package netguard

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strings"

	"golang.org/x/net/idna"
)

// ErrAmbiguousHost is wrapped when a host is a numeric IPv4 spelling other
// than canonical dotted decimal, such as "2130706433", "0x7f.0.0.1",
// "017700000001" or "127.1".
var ErrAmbiguousHost = errors.New("netguard: ambiguous numeric host")

// ErrInvalidHost is wrapped when a non-ASCII host has no IDNA (UTS #46)
// mapping: net/http could not send a request to it either.
var ErrInvalidHost = errors.New("netguard: invalid host")

// ValidateURLHost is the create/update-time check for a destination URL. It
// refuses hosts that are IP literals in a blocked range, zoned IPv6 literals,
// numeric hosts that are not canonical dotted-decimal IPv4, and the
// "localhost" names, in any spelling that maps to them (see canonicalHost),
// and non-ASCII hosts that have no IDNA mapping. Other hostnames are not
// resolved and are accepted; DialControl checks whatever they resolve to at
// connect time.
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
	h, err := canonicalHost(host)
	if err != nil {
		return err
	}
	if h == "" {
		return fmt.Errorf("netguard: URL host %q is only dots", host)
	}

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

// canonicalHost returns host as it is dialled, so that the checks see the
// address and not one of its spellings. A non-ASCII host is mapped with the
// IDNA Lookup profile (UTS #46), which net/http applies to such hosts
// before it resolves them: fullwidth digits and dots, circled digits and
// ideographic full stops become ASCII ("１２７．０．０．１" is 127.0.0.1).
// ASCII hosts are left to the rules below, as net/http leaves them (the
// profile would also refuse names with "_", which resolve fine). Trailing
// dots go: "127.0.0.1." and "127.0.0.1.." name the same address for
// resolvers that accept them.
func canonicalHost(host string) (string, error) {
	h := host
	if !isASCII(h) {
		mapped, err := idna.Lookup.ToASCII(h)
		if err != nil {
			return "", fmt.Errorf("%w: %q has no IDNA mapping: %w", ErrInvalidHost, host, err)
		}
		h = mapped
	}
	return strings.TrimRight(strings.ToLower(h), "."), nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
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

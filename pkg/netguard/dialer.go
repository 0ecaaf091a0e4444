package netguard

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"time"
)

// ErrBlockedAddress is wrapped by every error that refuses a destination
// because of where it points.
var ErrBlockedAddress = errors.New("netguard: destination address is blocked")

// DialControl is a net.Dialer Control function. It runs after DNS
// resolution, immediately before connect(2), with the literal IP being
// dialled, so a hostname that resolves (or re-resolves, as in DNS
// rebinding) to a blocked address is refused. The returned error wraps
// ErrBlockedAddress and names the address.
func DialControl(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		// Fail closed: if we cannot tell where we are going, do not go.
		return fmt.Errorf("%w: cannot parse dialled address %q (%s): %v",
			ErrBlockedAddress, address, network, err)
	}
	if reason, blocked := IsBlocked(ap.Addr()); blocked {
		return fmt.Errorf("%w: %s: %s", ErrBlockedAddress, address, reason)
	}
	return nil
}

// newDialer returns the dialer used by NewTransport. The guard is installed
// unless private networks are explicitly allowed.
func newDialer(allowPrivateNetworks bool) *net.Dialer {
	d := &net.Dialer{
		Timeout:   10 * time.Second,
		KeepAlive: 30 * time.Second,
	}
	if !allowPrivateNetworks {
		d.Control = DialControl
	}
	return d
}

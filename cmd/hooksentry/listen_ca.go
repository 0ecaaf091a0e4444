package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// The local certificate authority of `hooksentry listen`. Deliveries go over
// HTTPS only (CONTRACT §1: destination URLs are https), so the receiver on
// the developer's laptop needs a certificate the local stack's delivery
// workers trust. `hooksentry run` adds this CA to HOOKSENTRY_EXTRA_CA_FILE
// of the stack it starts, and `listen` issues its server certificate from
// it: no setting to remember.
//
// The CA is name-constrained to localhost and loopback addresses, so even if
// its key leaked from the state directory it could not vouch for any other
// host; and only the local stack trusts it, never the system.

const (
	// listenCAFile is the CA certificate (PEM), the file the stack trusts.
	listenCAFile = "listen-ca.pem"
	// listenCAKeyFile holds the CA certificate and its private key (0600).
	listenCAKeyFile = "listen-ca-key.pem"
	// deliveryCABundle is written by run when HOOKSENTRY_EXTRA_CA_FILE is
	// set: that file's certificates followed by the listen CA.
	deliveryCABundle = "delivery-ca-bundle.pem"
)

type listenCA struct {
	cert    *x509.Certificate
	certPEM []byte
	key     *ecdsa.PrivateKey
}

// loadOrCreateListenCA reads the CA from dir, or creates it there; created
// says it did not exist (so a stack started earlier does not trust it yet).
func loadOrCreateListenCA(dir string) (ca *listenCA, created bool, err error) {
	keyPath := filepath.Join(dir, listenCAKeyFile)
	ca, err = readListenCA(keyPath)
	if errors.Is(err, os.ErrNotExist) {
		ca, err = newListenCA()
		if err != nil {
			return nil, false, err
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, false, err
		}
		keyDER, err := x509.MarshalECPrivateKey(ca.key)
		if err != nil {
			return nil, false, err
		}
		data := append(append([]byte(nil), ca.certPEM...), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})...)
		// Written beside and linked into place: two commands starting at
		// once (run and listen) agree on one CA, the first to link wins.
		tmp, err := os.CreateTemp(dir, listenCAKeyFile+".*")
		if err != nil {
			return nil, false, err
		}
		_, werr := tmp.Write(data)
		cerr := tmp.Close()
		if werr == nil {
			werr = cerr
		}
		if werr == nil {
			werr = os.Link(tmp.Name(), keyPath)
		}
		os.Remove(tmp.Name())
		switch {
		case werr == nil:
			created = true
		case errors.Is(werr, os.ErrExist):
			if ca, err = readListenCA(keyPath); err != nil {
				return nil, false, err
			}
		default:
			return nil, false, fmt.Errorf("write %s: %w", keyPath, werr)
		}
	} else if err != nil {
		return nil, false, err
	}
	// The certificate alone, rewritten every time so that it always matches
	// the key (rename replaces it atomically).
	certPath := filepath.Join(dir, listenCAFile)
	if cur, err := os.ReadFile(certPath); err != nil || !bytes.Equal(cur, ca.certPEM) {
		if err := writeAtomic(certPath, ca.certPEM); err != nil {
			return nil, false, err
		}
	}
	return ca, created, nil
}

func readListenCA(path string) (*listenCA, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	ca := &listenCA{}
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		switch b.Type {
		case "CERTIFICATE":
			if ca.cert, err = x509.ParseCertificate(b.Bytes); err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			ca.certPEM = pem.EncodeToMemory(b)
		case "EC PRIVATE KEY":
			if ca.key, err = x509.ParseECPrivateKey(b.Bytes); err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
		}
	}
	if ca.cert == nil || ca.key == nil {
		return nil, fmt.Errorf("%s: want a certificate and an EC private key; delete it to create a new CA", path)
	}
	return ca, nil
}

func newListenCA() (*listenCA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 126))
	if err != nil {
		return nil, err
	}
	_, v4, _ := net.ParseCIDR("127.0.0.0/8")
	_, v6, _ := net.ParseCIDR("::1/128")
	tmpl := &x509.Certificate{
		SerialNumber:                serial,
		Subject:                     pkix.Name{CommonName: "HookSentry local listen CA"},
		NotBefore:                   time.Now().Add(-time.Hour),
		NotAfter:                    time.Now().AddDate(10, 0, 0),
		IsCA:                        true,
		KeyUsage:                    x509.KeyUsageCertSign,
		BasicConstraintsValid:       true,
		MaxPathLenZero:              true,
		PermittedDNSDomainsCritical: true,
		PermittedDNSDomains:         []string{"localhost"},
		PermittedIPRanges:           []*net.IPNet{v4, v6},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &listenCA{cert: cert, key: key, certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}, nil
}

// serverConfig is a TLS configuration with a fresh certificate for
// 127.0.0.1, ::1 and localhost, signed by the CA. It lives in memory only,
// for as long as listen runs.
func (ca *listenCA) serverConfig() (*tls.Config, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 126))
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().AddDate(0, 0, 30),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return nil, err
	}
	return &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der, ca.cert.Raw}, PrivateKey: key}},
		MinVersion:   tls.VersionTLS12,
	}, nil
}

// deliveryTrustFile is the HOOKSENTRY_EXTRA_CA_FILE that run gives its
// stack: the listen CA of dir, plus the certificates of extra (the user's
// HOOKSENTRY_EXTRA_CA_FILE) when it is set, bundled in dir.
func deliveryTrustFile(dir, extra string) (string, error) {
	ca, _, err := loadOrCreateListenCA(dir)
	if err != nil {
		return "", fmt.Errorf("listen CA: %w", err)
	}
	if extra == "" {
		return filepath.Join(dir, listenCAFile), nil
	}
	user, err := os.ReadFile(extra)
	if err != nil {
		return "", fmt.Errorf("HOOKSENTRY_EXTRA_CA_FILE: %w", err)
	}
	bundle := append(append(bytes.TrimRight(user, "\n"), '\n'), ca.certPEM...)
	path := filepath.Join(dir, deliveryCABundle)
	if err := writeAtomic(path, bundle); err != nil {
		return "", err
	}
	return path, nil
}

func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	_, werr := tmp.Write(data)
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), path)
	}
	if werr != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, werr)
	}
	return nil
}

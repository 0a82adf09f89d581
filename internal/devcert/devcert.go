// Package devcert makes short-lived self-signed certificates that browsers
// accept for WebTransport without a certificate authority.
//
// # Why
//
// A browser reaches a development relay over WebTransport only if it trusts
// the server's certificate. Instead of installing a local CA, a page can pin
// the certificate with WebTransport's serverCertificateHashes option, and
// Chromium accepts a pinned certificate only when it is ECDSA (P-256) and
// valid for at most 14 days in total — backdating included. Anything else
// fails with nothing more than "Opening handshake failed" in JavaScript.
// New therefore makes exactly such a certificate: NotBefore one hour in the
// past (to absorb clock skew) and NotAfter 13 days ahead.
//
// Web clients such as @moq/net learn the hash by fetching
// /certificate.sha256 over plain HTTP on the relay's port; Handler serves
// that file, with CORS headers so that a page from any origin may read it.
package devcert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"time"
)

// MaxValidity is the longest total validity (NotAfter - NotBefore) that
// Chromium accepts for a certificate pinned with serverCertificateHashes.
const MaxValidity = 14 * 24 * time.Hour

// Backdate is how far before its creation a certificate becomes valid,
// so that a peer whose clock is slightly behind still accepts it.
const Backdate = time.Hour

// Lifetime is how long after its creation a certificate stays valid.
// Backdate + Lifetime stays within MaxValidity.
const Lifetime = 13 * 24 * time.Hour

// DefaultHosts are the names a certificate covers when New gets none.
var DefaultHosts = []string{"127.0.0.1", "::1", "localhost"}

// Cert is a self-signed development certificate and its key.
type Cert struct {
	// TLS is the certificate chain (one certificate) and private key,
	// ready for tls.Config.Certificates.
	TLS tls.Certificate
	// Leaf is the parsed certificate.
	Leaf *x509.Certificate
	// Hash is the SHA-256 of the certificate's DER encoding: the value a
	// browser pins with serverCertificateHashes.
	Hash [sha256.Size]byte
}

// New makes a certificate for hosts (DNS names or IP addresses; DefaultHosts
// when none are given), valid from now-Backdate to now+Lifetime.
func New(hosts ...string) (*Cert, error) {
	return NewAt(time.Now(), hosts...)
}

// NewAt is New with an explicit creation time.
func NewAt(now time.Time, hosts ...string) (*Cert, error) {
	if len(hosts) == 0 {
		hosts = DefaultHosts
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("devcert: serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "moqgo development certificate"},
		NotBefore:             now.Add(-Backdate),
		NotAfter:              now.Add(Lifetime),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	for _, h := range hosts {
		if h == "" {
			return nil, errors.New("devcert: empty host name")
		}
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("devcert: key: %w", err)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("devcert: create: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("devcert: parse: %w", err)
	}
	return &Cert{
		TLS:  tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf},
		Leaf: leaf,
		Hash: sha256.Sum256(der),
	}, nil
}

// Fingerprint returns Hash as lower-case hex, the format of
// /certificate.sha256.
func (c *Cert) Fingerprint() string {
	return hex.EncodeToString(c.Hash[:])
}

// TLSConfig returns a server TLS configuration presenting the certificate.
// Callers add NextProtos as their transport needs.
func (c *Cert) TLSConfig() *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{c.TLS}, MinVersion: tls.VersionTLS13}
}

// ClientTLSConfig returns a client TLS configuration that trusts only this
// certificate, for Go clients dialing a development server.
func (c *Cert) ClientTLSConfig() *tls.Config {
	pool := x509.NewCertPool()
	pool.AddCert(c.Leaf)
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS13}
}

// PEM returns the certificate and the private key PEM-encoded, for writing
// to files that other tools read.
func (c *Cert) PEM() (certPEM, keyPEM []byte, err error) {
	keyDER, err := x509.MarshalPKCS8PrivateKey(c.TLS.PrivateKey)
	if err != nil {
		return nil, nil, fmt.Errorf("devcert: key: %w", err)
	}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.TLS.Certificate[0]})
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	return certPEM, keyPEM, nil
}

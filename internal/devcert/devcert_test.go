package devcert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestNewBrowserPinnable(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	c, err := NewAt(now)
	if err != nil {
		t.Fatal(err)
	}
	leaf := c.Leaf
	if got := leaf.NotAfter.Sub(leaf.NotBefore); got > MaxValidity {
		t.Errorf("total validity %v exceeds %v: Chromium would refuse the pinned certificate", got, MaxValidity)
	}
	if !leaf.NotBefore.Before(now) || !leaf.NotAfter.After(now) {
		t.Errorf("certificate not valid at creation: %v..%v, now %v", leaf.NotBefore, leaf.NotAfter, now)
	}
	pub, ok := leaf.PublicKey.(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		t.Errorf("public key is %T, want ECDSA P-256", leaf.PublicKey)
	}
	if leaf.SignatureAlgorithm != x509.ECDSAWithSHA256 {
		t.Errorf("signature algorithm %v, want ECDSA-SHA256", leaf.SignatureAlgorithm)
	}
	if !slices.Contains(leaf.DNSNames, "localhost") {
		t.Errorf("DNS names %v lack localhost", leaf.DNSNames)
	}
	for _, ip := range []string{"127.0.0.1", "::1"} {
		if err := leaf.VerifyHostname(ip); err != nil {
			t.Errorf("default certificate does not cover %s: %v", ip, err)
		}
	}
	want := sha256.Sum256(c.TLS.Certificate[0])
	if c.Hash != want {
		t.Errorf("Hash is not the SHA-256 of the DER")
	}
	if got := c.Fingerprint(); got != hex.EncodeToString(want[:]) || len(got) != 64 {
		t.Errorf("Fingerprint() = %q, want lower-case hex of the DER hash", got)
	}
}

func TestNewHosts(t *testing.T) {
	c, err := New("relay.example", "10.1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Leaf.VerifyHostname("relay.example"); err != nil {
		t.Error(err)
	}
	if err := c.Leaf.VerifyHostname("10.1.2.3"); err != nil {
		t.Error(err)
	}
	if err := c.Leaf.VerifyHostname("localhost"); err == nil {
		t.Error("certificate for explicit hosts also covers localhost")
	}
	if _, err := New("ok", ""); err == nil {
		t.Error("New accepted an empty host name")
	}
}

func TestNewIsFreshEachTime(t *testing.T) {
	a, err := New()
	if err != nil {
		t.Fatal(err)
	}
	b, err := New()
	if err != nil {
		t.Fatal(err)
	}
	if a.Hash == b.Hash {
		t.Error("two certificates share a hash")
	}
}

// TestTLSHandshake runs a real TLS handshake on loopback: the client trusts
// only this certificate and must accept it for 127.0.0.1.
func TestTLSHandshake(t *testing.T) {
	c, err := New()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", c.TLSConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan error, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		defer conn.Close()
		done <- conn.(*tls.Conn).Handshake()
	}()
	cfg := c.ClientTLSConfig()
	cfg.ServerName = "127.0.0.1"
	conn, err := tls.Dial("tcp", ln.Addr().String(), cfg)
	if err != nil {
		t.Fatalf("client refused the development certificate: %v", err)
	}
	state := conn.ConnectionState()
	conn.Close()
	if err := <-done; err != nil {
		t.Fatalf("server handshake: %v", err)
	}
	got := sha256.Sum256(state.PeerCertificates[0].Raw)
	if got != c.Hash {
		t.Error("peer certificate hash differs from Cert.Hash")
	}
}

func TestPEMRoundTrip(t *testing.T) {
	c, err := New()
	if err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM, err := c.PEM()
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatalf("PEM output does not load: %v", err)
	}
	if sha256.Sum256(pair.Certificate[0]) != c.Hash {
		t.Error("PEM certificate differs")
	}
	if b, _ := pem.Decode(keyPEM); b == nil || b.Type != "PRIVATE KEY" {
		t.Errorf("key PEM block %v, want PRIVATE KEY", b)
	}
}

func TestHandler(t *testing.T) {
	c, err := New()
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(FingerprintPath, c.Handler())
	srv := httptest.NewServer(mux)
	defer srv.Close()
	client := srv.Client()
	defer client.CloseIdleConnections()

	req, _ := http.NewRequest(http.MethodGet, srv.URL+FingerprintPath, nil)
	req.Header.Set("Origin", "http://127.0.0.1:1")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET status %d", resp.StatusCode)
	}
	if string(body) != c.Fingerprint() {
		t.Errorf("body %q, want %q", body, c.Fingerprint())
	}
	if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "*" {
		t.Errorf("Access-Control-Allow-Origin %q, want *", got)
	}
	if got := resp.Header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", got)
	}

	// CORS preflight.
	req, _ = http.NewRequest(http.MethodOptions, srv.URL+FingerprintPath, nil)
	req.Header.Set("Origin", "http://127.0.0.1:1")
	req.Header.Set("Access-Control-Request-Method", "GET")
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("preflight: status %d, allow-origin %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
	}

	resp, err = client.Post(srv.URL+FingerprintPath, "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST status %d, want 405", resp.StatusCode)
	}
}

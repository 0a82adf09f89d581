// Package exutil holds what the examples share: a self-signed certificate
// for local runs and a server on a loopback port for their one-process
// demos.
package exutil

import (
	"crypto/tls"
	"net"

	"github.com/moqgo/moqgo/internal/testcert"
	"github.com/moqgo/moqgo/moqt"
)

// SelfSigned returns a server TLS config with a fresh ECDSA P-256
// certificate for localhost and a client TLS config that trusts it.
func SelfSigned() (server, client *tls.Config, err error) { return testcert.New() }

// ServeLoopback runs srv on a fresh loopback UDP port with a self-signed
// certificate (it sets srv.TLSConfig). It returns the port's host:port, a
// client TLS config that trusts the certificate, and stop, which closes the
// server and waits for Serve to return.
func ServeLoopback(srv *moqt.Server) (addr string, client *tls.Config, stop func(), err error) {
	srvTLS, cliTLS, err := SelfSigned()
	if err != nil {
		return "", nil, nil, err
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return "", nil, nil, err
	}
	srv.TLSConfig = srvTLS
	done := make(chan error, 1)
	go func() { done <- srv.Serve(pc) }()
	stop = func() {
		srv.Close()
		<-done
		pc.Close()
	}
	return pc.LocalAddr().String(), cliTLS, stop, nil
}

// InsecureTLS returns a client TLS config that accepts any certificate,
// for the examples' -url mode against a server started with -serve (whose
// certificate is self-signed). Never use it against a real server.
func InsecureTLS() *tls.Config { return &tls.Config{InsecureSkipVerify: true} }

// ListenAndServe serves mux on the UDP address addr with a fresh
// self-signed certificate, for the examples' -serve mode.
func ListenAndServe(addr string, mux *moqt.TrackMux) error {
	srvTLS, _, err := SelfSigned()
	if err != nil {
		return err
	}
	return (&moqt.Server{Addr: addr, TLSConfig: srvTLS, TrackMux: mux}).ListenAndServe()
}

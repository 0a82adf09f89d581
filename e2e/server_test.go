package e2e

import (
	"errors"
	"net"
	"net/http"
	"strconv"
	"testing"

	"github.com/moqgo/moqgo/internal/devcert"
	"github.com/moqgo/moqgo/moqt"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// moqServer is a moqt.Server on loopback as a browser reaches it.
type moqServer struct {
	// URL is what the page connects to: http://127.0.0.1:port/path, so that
	// @moq/net fetches the certificate hash first.
	URL string
	// Addr is the UDP address, for Go clients.
	Addr string
	// Cert is the server's development certificate.
	Cert *devcert.Cert
	// Sessions receives every accepted session with its setup request
	// (unless the server came with its own SetupHandler, such as a relay).
	Sessions chan accepted
}

type accepted struct {
	Session *moqt.Session
	Request *moqt.SetupRequest
}

// startServer starts srv (its TLSConfig is set here, and its SetupHandler
// too unless set, so that Sessions receives every session) on a loopback
// UDP port, and serves the certificate fingerprint over TCP on the
// same port number.
func startServer(t *testing.T, srv *moqt.Server) *moqServer {
	t.Helper()
	cert, err := devcert.New()
	if err != nil {
		t.Fatal(err)
	}
	ms := &moqServer{Cert: cert, Sessions: make(chan accepted, 16)}
	srv.TLSConfig = cert.TLSConfig()
	if srv.SetupHandler == nil {
		mux := srv.TrackMux
		srv.SetupHandler = moqt.SetupHandlerFunc(func(w moqt.SetupResponseWriter, r *moqt.SetupRequest) {
			s, err := w.Accept(mux)
			if err == nil {
				ms.Sessions <- accepted{s, r}
			}
		})
	}
	pc, ln := listenPair(t)
	port := pc.LocalAddr().(*net.UDPAddr).Port
	ms.Addr = pc.LocalAddr().String()
	ms.URL = "http://127.0.0.1:" + strconv.Itoa(port) + "/e2e"

	hmux := http.NewServeMux()
	hmux.Handle(devcert.FingerprintPath, cert.Handler())
	hs := &http.Server{Handler: hmux}
	httpDone := make(chan error, 1)
	go func() { httpDone <- hs.Serve(ln) }()
	done := make(chan error, 1)
	go func() { done <- srv.Serve(pc) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-done; !errors.Is(err, moqt.ErrServerClosed) {
			t.Errorf("moqt Serve: %v", err)
		}
		pc.Close()
		hs.Close()
		if err := <-httpDone; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("fingerprint server: %v", err)
		}
	})
	return ms
}

// listenPair binds a UDP socket and a TCP listener with the same port number
// on 127.0.0.1, retrying when the TCP port is taken.
func listenPair(t *testing.T) (net.PacketConn, net.Listener) {
	t.Helper()
	for range 20 {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			return pc, ln
		}
		pc.Close()
	}
	t.Fatal("no port free for both UDP and TCP on 127.0.0.1")
	return nil, nil
}

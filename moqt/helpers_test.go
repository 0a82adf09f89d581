package moqt

import (
	"context"
	"crypto/tls"
	"net"
	"testing"
	"time"

	"github.com/moqgo/moqgo/internal/testcert"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testCert returns TLS configs for a server with a fresh self-signed ECDSA
// P-256 certificate and for a client trusting it.
func testCert(t testing.TB) (server, client *tls.Config) {
	t.Helper()
	server, client, err := testcert.New()
	if err != nil {
		t.Fatal(err)
	}
	return server, client
}

// testEnv is a running Server and a Client that trusts it.
type testEnv struct {
	srv    *Server
	client *Client
	addr   string
	done   chan error
}

// startServer starts srv on a loopback port and returns a client for it.
func startServer(t testing.TB, srv *Server) *testEnv {
	t.Helper()
	srvTLS, cliTLS := testCert(t)
	srv.TLSConfig = srvTLS
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	env := &testEnv{
		srv:    srv,
		client: &Client{TLSConfig: cliTLS},
		addr:   pc.LocalAddr().String(),
		done:   make(chan error, 1),
	}
	go func() { env.done <- srv.Serve(pc) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-env.done; err != ErrServerClosed {
			t.Errorf("Serve: %v", err)
		}
		pc.Close()
	})
	return env
}

// schedModes are the two ways a publisher writes its streams, for tests
// that run both: through the send scheduler (the default) and straight to
// the transport (Config.DisableScheduler).
var schedModes = []struct {
	name   string
	direct bool
}{{"scheduler", false}, {"DisableScheduler", true}}

// transports are the URL schemes every end-to-end test runs over.
var transports = []string{"moqt", "https"}

func (e *testEnv) url(scheme, path string) string { return scheme + "://" + e.addr + path }

// dial dials the server, closing the session at the end of the test.
func (e *testEnv) dial(t testing.TB, scheme string, mux *TrackMux) *Session {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := e.client.Dial(ctx, e.url(scheme, "/moq"), mux)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

package relay

import (
	"testing"

	"github.com/moqgo/moqgo/internal/testcert"
	"github.com/moqgo/moqgo/moqt"
)

// TestAuthFailsClosed: with an Authorizer configured, a session the relay
// did not accept through its own ServeSetup (here a server whose setup
// handler accepts every session with the relay's mux) gets no grants:
// SUBSCRIBE is refused with UNAUTHORIZED rather than served.
func TestAuthFailsClosed(t *testing.T) {
	srvTLS, cliTLS, err := testcert.New()
	if err != nil {
		t.Fatal(err)
	}
	r := New(Config{Auth: &JWTAuth{HMACKey: []byte("k")}})
	t.Cleanup(func() { r.Close() })
	bypass := moqt.SetupHandlerFunc(func(w moqt.SetupResponseWriter, _ *moqt.SetupRequest) {
		_, _ = w.Accept(r.Mux())
	})
	e := serve(t, &moqt.Server{TLSConfig: srvTLS, SetupHandler: bypass}, cliTLS)
	for _, scheme := range transports {
		sess := e.dial(t, scheme, nil)
		if _, err := sess.Subscribe("/any", "t", nil); !isSubscribeError(err, moqt.SubscribeErrorUnauthorized) {
			t.Errorf("%s: Subscribe on a session the relay never authorized = %v, want UNAUTHORIZED", scheme, err)
		}
	}
}

package e2e

import (
	"context"
	"testing"

	"github.com/moqgo/moqgo/moqt"
	"github.com/moqgo/moqgo/relay"
)

// startRelay runs a relay.Relay behind a moqt.Server the way `moq relay`
// does (cmd/moq/relayserver.go): MoQ over UDP, the development
// certificate's fingerprint over TCP on the same port number.
func startRelay(t *testing.T, cfg relay.Config) (*relay.Relay, *moqServer) {
	t.Helper()
	r := relay.New(cfg)
	t.Cleanup(func() { r.Close() }) // after the server's cleanup below
	srv := startServer(t, &moqt.Server{SetupHandler: r, Config: &moqt.Config{MaxRequests: 1000}})
	return r, srv
}

// dialRelay opens a raw-QUIC moqgo session to srv serving mux, closed at
// the end of the test.
func dialRelay(t *testing.T, ctx context.Context, srv *moqServer, mux *moqt.TrackMux) *moqt.Session {
	t.Helper()
	c := &moqt.Client{TLSConfig: srv.Cert.ClientTLSConfig()}
	sess, err := c.Dial(ctx, "moqt://"+srv.Addr+"/e2e", mux)
	if err != nil {
		t.Fatalf("Go client: dial the relay: %v", err)
	}
	t.Cleanup(func() { sess.Close() })
	return sess
}

// checkVersion fails the test unless a page's "connected" report names
// draft-14, and logs what the browser negotiated.
func checkVersion(t *testing.T, ctx context.Context, p *page, who string) {
	t.Helper()
	var c struct{ Version string }
	p.next(ctx, "connected", &c)
	t.Logf("%s negotiated %q with the relay", who, c.Version)
	if c.Version != wantVersion {
		t.Errorf("%s negotiated %q with the relay, want %q", who, c.Version, wantVersion)
	}
}

// TestRelaySubscribeEarly: the browser watches a broadcast path through
// the relay before any publisher has announced it; a Go publisher then
// announces it to the relay, and the browser sees it come online,
// subscribes, and receives every frame.
func TestRelaySubscribeEarly(t *testing.T) {
	r, srv := startRelay(t, relay.Config{})
	p := newPage(t)
	ctx := testContext(t)
	p.open(query("subscribe-early", srv.URL))
	checkVersion(t, ctx, p, "the subscribing browser")
	p.next(ctx, "watching", nil)
	if st := r.Stats(); len(st.Viewers) != 0 || st.Tracks != 0 {
		t.Fatalf("relay already routes broadcasts before the publisher came: %+v", st)
	}

	mux, served := goPublisher(t)
	dialRelay(t, ctx, srv, mux).PublishNamespaces()
	browserReceived(t, ctx, p, served)
	p.finish(ctx)
}

// TestRelayDiscover: one browser publishes a broadcast to the relay and
// another, knowing only a prefix, discovers it from the relay's
// announcements and receives every frame of its track.
func TestRelayDiscover(t *testing.T) {
	_, srv := startRelay(t, relay.Config{})
	ctx := testContext(t)

	sub := newPage(t)
	q := query("discover", srv.URL)
	q.Set("prefix", "e2e")
	sub.open(q)
	checkVersion(t, ctx, sub, "the subscribing browser")
	sub.next(ctx, "watching", nil)

	pub := newPage(t)
	pub.open(query("publish", srv.URL))
	checkVersion(t, ctx, pub, "the publishing browser")
	pub.next(ctx, "published", nil)

	var d struct{ Path string }
	sub.next(ctx, "discovered", &d)
	if want := "room"; d.Path != want {
		t.Errorf("discovered %q under prefix e2e, want %q", d.Path, want)
	}
	var r struct{ Groups map[int][]string }
	sub.next(ctx, "frames", &r)
	checkFrames(t, r.Groups)
	sub.finish(ctx)
	pub.release("received")
	pub.finish(ctx)
}

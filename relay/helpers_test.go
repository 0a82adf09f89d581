package relay

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moqgo/moqgo/internal/testcert"
	"github.com/moqgo/moqgo/moqt"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// transports are the URL schemes every end-to-end test runs over.
var transports = []string{"moqt", "https"}

// env is a relay served by a moqt.Server on a loopback port.
type env struct {
	relay  *Relay
	srv    *moqt.Server
	addr   string
	cliTLS *tls.Config
}

// startRelay runs a relay with cfg on loopback until the test ends.
func startRelay(t testing.TB, cfg Config) *env {
	t.Helper()
	return startRelayWith(t, cfg, nil)
}

// startRelayWith is startRelay with the server's session config.
func startRelayWith(t testing.TB, cfg Config, sessCfg *moqt.Config) *env {
	t.Helper()
	srvTLS, cliTLS, err := testcert.New()
	if err != nil {
		t.Fatal(err)
	}
	r := New(cfg)
	t.Cleanup(func() { r.Close() }) // after the server's cleanup
	srv := &moqt.Server{TLSConfig: srvTLS, SetupHandler: r, Config: sessCfg}
	e := serve(t, srv, cliTLS)
	e.relay = r
	return e
}

// startDirect serves mux without a relay (for comparisons).
func startDirect(t testing.TB, mux *moqt.TrackMux) *env {
	t.Helper()
	srvTLS, cliTLS, err := testcert.New()
	if err != nil {
		t.Fatal(err)
	}
	return serve(t, &moqt.Server{TLSConfig: srvTLS, TrackMux: mux}, cliTLS)
}

// serve runs srv on a loopback port until the test ends.
func serve(t testing.TB, srv *moqt.Server, cliTLS *tls.Config) *env {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(pc) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-done; err != moqt.ErrServerClosed {
			t.Errorf("Serve: %v", err)
		}
		pc.Close()
	})
	return &env{srv: srv, addr: pc.LocalAddr().String(), cliTLS: cliTLS}
}

// dial opens a session to the relay over scheme, serving mux (which may
// be nil), and closes it at the end of the test.
func (e *env) dial(t testing.TB, scheme string, mux *moqt.TrackMux) *moqt.Session {
	t.Helper()
	return e.dialToken(t, scheme, mux, nil, "")
}

func (e *env) dialToken(t testing.TB, scheme string, mux *moqt.TrackMux, token []byte, query string) *moqt.Session {
	t.Helper()
	s, err := e.tryDial(scheme, mux, token, query)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func (e *env) tryDial(scheme string, mux *moqt.TrackMux, token []byte, query string) (*moqt.Session, error) {
	return e.dialClient(&moqt.Client{AuthorizationToken: token}, scheme, mux, query)
}

// dialClient dials with c, which gets the relay's TLS trust.
func (e *env) dialClient(c *moqt.Client, scheme string, mux *moqt.TrackMux, query string) (*moqt.Session, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c.TLSConfig = e.cliTLS
	return c.Dial(ctx, scheme+"://"+e.addr+"/moq"+query, mux)
}

// testLogger logs to the test's log when MOQ_TEST_LOG is set.
func testLogger(t testing.TB) *slog.Logger {
	if os.Getenv("MOQ_TEST_LOG") == "" {
		return nil
	}
	w := &tlog{t: t}
	t.Cleanup(func() {
		w.mu.Lock()
		w.done = true
		w.mu.Unlock()
	})
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tlog struct {
	t    testing.TB
	mu   sync.Mutex
	done bool
}

func (w *tlog) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimSpace(string(p)))
	}
	return len(p), nil
}

func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// waitAnnounced waits until the relay routes path (its publisher's
// announcement arrived).
func waitAnnounced(t testing.TB, ctx context.Context, r *Relay, path moqt.BroadcastPath) {
	t.Helper()
	for {
		r.mu.Lock()
		o := r.routeLocked(path)
		changed := r.changed
		r.mu.Unlock()
		if o != nil {
			return
		}
		select {
		case <-changed:
		case <-ctx.Done():
			t.Fatalf("%s was never announced", path)
		}
	}
}

// feed is a publisher's track that writes the groups the test pushes.
type feed struct {
	groups  chan func(*moqt.TrackWriter) error
	served  chan *moqt.TrackWriter
	release chan struct{}
}

func newFeed() *feed {
	return &feed{groups: make(chan func(*moqt.TrackWriter) error), served: make(chan *moqt.TrackWriter, 16), release: make(chan struct{})}
}

// publish announces path on a new session over scheme; every subscription
// to it is served by f.
func (f *feed) publish(t testing.TB, e *env, scheme string, path moqt.BroadcastPath) *moqt.Session {
	t.Helper()
	mux := moqt.NewTrackMux()
	mux.PublishFunc(context.Background(), path, f.serve)
	return e.dial(t, scheme, mux) // a client announces proactively
}

func (f *feed) serve(tw *moqt.TrackWriter) {
	if err := tw.WriteInfo(moqt.Info{}); err != nil {
		return
	}
	f.served <- tw
	for {
		select {
		case w := <-f.groups:
			if err := w(tw); err != nil {
				return
			}
		case <-f.release:
			tw.Close()
			return
		case <-tw.Context().Done():
			return
		}
	}
}

// push makes the publisher run w on its (single) subscription.
func (f *feed) push(t testing.TB, ctx context.Context, w func(*moqt.TrackWriter) error) {
	t.Helper()
	select {
	case f.groups <- w:
	case <-ctx.Done():
		t.Fatal("publisher not serving")
	}
}

// frame is the payload of object i of group g: distinct and checkable.
func frame(g moqt.GroupSequence, sub, i uint64, size int) []byte {
	b := make([]byte, size)
	s := fmt.Sprintf("g%d.s%d.o%d|", g, sub, i)
	for j := range b {
		b[j] = s[j%len(s)]
	}
	return b
}

// writeGroup writes group g: objects frames of size bytes in subgroup 0.
func writeGroup(g moqt.GroupSequence, objects, size int) func(*moqt.TrackWriter) error {
	return func(tw *moqt.TrackWriter) error {
		gw, err := tw.OpenGroup(g)
		if err != nil {
			return err
		}
		for i := 0; i < objects; i++ {
			if err := gw.WriteFrame(moqt.NewFrame(frame(g, 0, uint64(i), size))); err != nil {
				return err
			}
		}
		return gw.Close()
	}
}

// readAll reads the rest of a group's objects.
func readAll(gr *moqt.GroupReader) ([]*moqt.Object, error) {
	var out []*moqt.Object
	for {
		o, err := gr.ReadObject()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, o)
	}
}

// readGroup accepts the next group and reads it whole.
func readGroup(t testing.TB, ctx context.Context, tr *moqt.TrackReader) (moqt.GroupSequence, []*moqt.Object) {
	t.Helper()
	gr, err := tr.AcceptGroup(ctx)
	if err != nil {
		t.Fatalf("AcceptGroup: %v", err)
	}
	objs, err := readAll(gr)
	if err != nil {
		t.Fatalf("group %d: %v", gr.GroupSequence(), err)
	}
	return gr.GroupSequence(), objs
}

func isSubscribeError(err error, code moqt.SubscribeErrorCode) bool {
	var se *moqt.SubscribeError
	return errors.As(err, &se) && se.Code == code
}

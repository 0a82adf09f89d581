package moqt

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/moqgo/moqgo/internal/wire"
	"github.com/quic-go/quic-go"
)

// rawPublisher is a MoQT server written with internal/wire on a bare QUIC
// listener, so that a test decides exactly what reaches a moqgo client and
// in which order.
type rawPublisher struct {
	t    *testing.T
	conn *quic.Conn
	ctrl *quic.Stream
	br   *bufio.Reader
}

// newRawPublisher starts a raw QUIC listener, dials it with a moqgo Client
// configured with cfg and completes the setup by hand. It returns the raw
// side and the client's session.
func newRawPublisher(t *testing.T, cfg *Config) (*rawPublisher, *Session) {
	t.Helper()
	srvTLS, cliTLS := testCert(t)
	srvTLS.NextProtos = []string{wire.ALPN}
	ln, err := quic.ListenAddr("127.0.0.1:0", srvTLS, &quic.Config{EnableDatagrams: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	ctx := testContext(t)
	type dialed struct {
		s   *Session
		err error
	}
	dc := make(chan dialed, 1)
	go func() {
		c := &Client{TLSConfig: cliTLS, Config: cfg}
		s, err := c.Dial(ctx, "moqt://"+ln.Addr().(*net.UDPAddr).String()+"/raw", nil)
		dc <- dialed{s, err}
	}()
	conn, err := ln.Accept(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.CloseWithError(0, "") })
	ctrl, err := conn.AcceptStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p := &rawPublisher{t: t, conn: conn, ctrl: ctrl, br: bufio.NewReader(ctrl)}
	if _, ok := p.read().(*wire.ClientSetup); !ok {
		t.Fatal("first message is not CLIENT_SETUP")
	}
	ss := &wire.ServerSetup{SelectedVersion: wire.Draft14}
	ss.Params.SetMaxRequestID(100)
	p.write(ss)
	d := <-dc
	if d.err != nil {
		t.Fatal(d.err)
	}
	t.Cleanup(func() { d.s.Close() })
	return p, d.s
}

func (p *rawPublisher) read() wire.Message {
	p.t.Helper()
	m, _, err := wire.ReadMessage(p.br, wire.Draft14, nil)
	if err != nil {
		p.t.Fatalf("raw publisher: read: %v", err)
	}
	return m
}

func (p *rawPublisher) write(m wire.Message) {
	p.t.Helper()
	b, err := wire.AppendMessage(nil, m, wire.Draft14)
	if err != nil {
		p.t.Fatal(err)
	}
	if _, err := p.ctrl.Write(b); err != nil {
		p.t.Fatalf("raw publisher: write: %v", err)
	}
}

// openGroup opens a subgroup stream for alias and group with one object
// holding payload. The stream is finished only if fin is set.
func (p *rawPublisher) openGroup(alias, group uint64, payload string, fin bool) *quic.SendStream {
	p.t.Helper()
	st, err := p.conn.OpenUniStreamSync(testContext(p.t))
	if err != nil {
		p.t.Fatal(err)
	}
	var sw wire.SubgroupWriter
	sw.Reset(wire.SubgroupHeader{TrackAlias: alias, GroupID: group, IDMode: wire.SubgroupIDZero, PublisherPriority: 1}, wire.Draft14)
	b, err := sw.AppendHeader(nil)
	if err == nil {
		b, err = sw.AppendObject(b, &wire.Object{GroupID: group, PayloadLength: uint64(len(payload))})
	}
	if err != nil {
		p.t.Fatal(err)
	}
	if _, err := st.Write(append(b, payload...)); err != nil {
		p.t.Fatal(err)
	}
	if fin {
		st.Close()
	}
	return st
}

// stoppedWith returns the error code of the peer's STOP_SENDING on st, or
// false if st ended otherwise.
func stoppedWith(st *quic.SendStream) (uint64, bool) {
	var se *quic.StreamError
	if errors.As(context.Cause(st.Context()), &se) && se.Remote {
		return uint64(se.ErrorCode), true
	}
	return 0, false
}

// pendingStreams returns how many data streams s holds for unknown aliases.
func pendingStreams(s *Session) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pendingStr
}

// waitUntil polls cond until it holds, failing the test after 10s. It waits
// for state the test cannot be told about otherwise (a stream parked inside
// the session).
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		<-tick.C
	}
}

type subscribed struct {
	tr  *TrackReader
	err error
}

// subscribeRaw subscribes in the background and returns the SUBSCRIBE the
// raw publisher received.
func subscribeRaw(p *rawPublisher, s *Session) (*wire.Subscribe, chan subscribed) {
	p.t.Helper()
	done := make(chan subscribed, 1)
	go func() {
		tr, err := s.Subscribe("/live", "video", nil)
		done <- subscribed{tr, err}
	}()
	m, ok := p.read().(*wire.Subscribe)
	if !ok {
		p.t.Fatal("expected SUBSCRIBE")
	}
	return m, done
}

// readGroupPayload accepts the next group and returns its sequence and its
// single frame.
func readGroupPayload(t *testing.T, tr *TrackReader) (GroupSequence, string) {
	t.Helper()
	gr, err := tr.AcceptGroup(testContext(t))
	if err != nil {
		t.Fatalf("AcceptGroup: %v", err)
	}
	f, err := gr.ReadFrame()
	if err != nil {
		t.Fatalf("ReadFrame: %v", err)
	}
	if _, err := gr.ReadFrame(); err != io.EOF {
		t.Fatalf("second ReadFrame: %v, want io.EOF", err)
	}
	return gr.GroupSequence(), string(f.Bytes())
}

// TestStreamBeforeSubscribeOK: a subgroup stream that arrives before the
// SUBSCRIBE_OK naming its track alias is held and delivered once the
// SUBSCRIBE_OK arrives.
func TestStreamBeforeSubscribeOK(t *testing.T) {
	p, s := newRawPublisher(t, nil)
	sub, done := subscribeRaw(p, s)
	p.openGroup(7, 3, "early", true)
	waitUntil(t, "the stream is held", func() bool { return pendingStreams(s) == 1 })
	p.write(&wire.SubscribeOK{RequestID: sub.RequestID, TrackAlias: 7, GroupOrder: wire.GroupOrderAscending})
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if g, payload := readGroupPayload(t, r.tr); g != 3 || payload != "early" {
		t.Fatalf("got group %d %q, want 3 \"early\"", g, payload)
	}
	waitUntil(t, "nothing is held", func() bool { return pendingStreams(s) == 0 })
}

// TestPendingStreamLimit: beyond Config.MaxPendingStreams, a stream for an
// unknown alias is refused with STOP_SENDING; the held ones are delivered
// and the session is unaffected.
func TestPendingStreamLimit(t *testing.T) {
	p, s := newRawPublisher(t, &Config{MaxPendingStreams: 2, PendingStreamTimeout: time.Minute})
	sub, done := subscribeRaw(p, s)
	var streams []*quic.SendStream
	for g := uint64(0); g < 3; g++ {
		streams = append(streams, p.openGroup(7, g, string(rune('a'+g)), false))
	}
	refused := -1
	waitUntil(t, "one stream is refused", func() bool {
		for i, st := range streams {
			if _, ok := stoppedWith(st); ok {
				refused = i
				return true
			}
		}
		return false
	})
	if code, _ := stoppedWith(streams[refused]); code != uint64(GroupErrorCancelled) {
		t.Errorf("STOP_SENDING code %#x, want %#x", code, GroupErrorCancelled)
	}
	waitUntil(t, "two streams are held", func() bool { return pendingStreams(s) == 2 })
	for i, st := range streams {
		if _, ok := stoppedWith(st); ok && i != refused {
			t.Fatalf("stream %d refused as well as stream %d", i, refused)
		}
		st.Close()
	}
	p.write(&wire.SubscribeOK{RequestID: sub.RequestID, TrackAlias: 7, GroupOrder: wire.GroupOrderAscending})
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	got := map[GroupSequence]string{}
	for range 2 {
		g, payload := readGroupPayload(t, r.tr)
		got[g] = payload
	}
	for g := range GroupSequence(3) {
		_, ok := got[g]
		if ok == (int(g) == refused) {
			t.Errorf("group %d delivered = %v (refused stream %d)", g, ok, refused)
		} else if ok && got[g] != string(rune('a'+g)) {
			t.Errorf("group %d payload %q", g, got[g])
		}
	}
	// The session still works: a later group is delivered directly.
	p.openGroup(7, 9, "later", true)
	if g, payload := readGroupPayload(t, r.tr); g != 9 || payload != "later" {
		t.Fatalf("got group %d %q, want 9 \"later\"", g, payload)
	}
	if err := s.Err(); err != nil {
		t.Fatalf("session ended: %v", err)
	}
}

// TestPendingStreamTimeout: a stream held longer than
// Config.PendingStreamTimeout is refused with STOP_SENDING; the session and
// the subscription keep working.
func TestPendingStreamTimeout(t *testing.T) {
	p, s := newRawPublisher(t, &Config{PendingStreamTimeout: 50 * time.Millisecond})
	sub, done := subscribeRaw(p, s)
	st := p.openGroup(7, 1, "stale", false)
	select {
	case <-st.Context().Done():
	case <-testContext(t).Done():
		t.Fatal("held stream was never refused")
	}
	if code, ok := stoppedWith(st); !ok || code != uint64(GroupErrorCancelled) {
		t.Fatalf("stream ended with %v, want STOP_SENDING %#x", context.Cause(st.Context()), GroupErrorCancelled)
	}
	p.write(&wire.SubscribeOK{RequestID: sub.RequestID, TrackAlias: 7, GroupOrder: wire.GroupOrderAscending})
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	p.openGroup(7, 2, "fresh", true)
	if g, payload := readGroupPayload(t, r.tr); g != 2 || payload != "fresh" {
		t.Fatalf("got group %d %q, want 2 \"fresh\"", g, payload)
	}
	if err := s.Err(); err != nil {
		t.Fatalf("session ended: %v", err)
	}
}

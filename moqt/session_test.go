package moqt

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/moqgo/moqgo/internal/transport"
	"github.com/moqgo/moqgo/internal/wire"
	"github.com/quic-go/quic-go"
)

// acceptingServer returns a server whose accepted sessions are sent on the
// returned channel.
func acceptingServer(mux *TrackMux) (*Server, chan *Session) {
	ch := make(chan *Session, 4)
	return &Server{SetupHandler: SetupHandlerFunc(func(w SetupResponseWriter, r *SetupRequest) {
		s, err := w.Accept(mux)
		if err == nil {
			ch <- s
		}
	})}, ch
}

func TestAnnouncements(t *testing.T) {
	for _, scheme := range transports {
		t.Run(scheme, func(t *testing.T) {
			ctx := testContext(t)
			srv, sessions := acceptingServer(nil)
			env := startServer(t, srv)

			// The client publishes; the server discovers.
			mux := NewTrackMux()
			xCtx, endX := context.WithCancel(context.Background())
			defer endX()
			mux.Publish(xCtx, "/live/x", TrackHandlerFunc(holdTrack))
			mux.Publish(context.Background(), "/other/z", TrackHandlerFunc(holdTrack))
			env.dial(t, scheme, mux)
			ss := <-sessions

			ar, err := ss.AcceptAnnounce("/live")
			if err != nil {
				t.Fatal(err)
			}
			a, err := ar.ReceiveAnnouncement(ctx)
			if err != nil || a.BroadcastPath != "/live/x" || !a.IsActive() {
				t.Fatalf("first announcement: %v, %v", a, err)
			}
			yCtx, endY := context.WithCancel(context.Background())
			defer endY()
			mux.Publish(yCtx, "/live/y", TrackHandlerFunc(holdTrack))
			b, err := ar.ReceiveAnnouncement(ctx)
			if err != nil || b.BroadcastPath != "/live/y" {
				t.Fatalf("second announcement: %v, %v", b, err)
			}
			endX()
			select {
			case <-a.Done():
			case <-ctx.Done():
				t.Fatal("announcement did not end after PUBLISH_NAMESPACE_DONE")
			}
			if !b.IsActive() {
				t.Error("/live/y ended too")
			}
			// The announced broadcast can be subscribed to from the server.
			tr, err := ss.Subscribe(b.BroadcastPath, "t", nil)
			if err != nil {
				t.Fatal(err)
			}
			tr.Close()
			if err := ar.Close(); err != nil {
				t.Error(err)
			}
			if _, err := ar.ReceiveAnnouncement(ctx); !errors.Is(err, ErrClosed) {
				t.Errorf("after Close: %v", err)
			}
		})
	}
}

func TestSetupHandler(t *testing.T) {
	for _, scheme := range transports {
		t.Run(scheme, func(t *testing.T) {
			srv := &Server{SetupHandler: SetupHandlerFunc(func(w SetupResponseWriter, r *SetupRequest) {
				if r.Path != "/moq" || r.Authority == "" || r.Protocol != map[string]string{"moqt": "quic", "https": "webtransport"}[scheme] {
					w.Reject(ErrCodeInvalidPath, "bad path "+r.Path)
					return
				}
				if !bytes.Equal(r.AuthorizationToken, []byte("secret")) {
					w.Reject(ErrCodeUnauthorized, "bad token")
					return
				}
				w.Accept(nil)
			})}
			env := startServer(t, srv)
			ctx := testContext(t)

			env.client.AuthorizationToken = []byte("wrong")
			_, err := env.client.Dial(ctx, env.url(scheme, "/moq"), nil)
			var se *SessionError
			if !errors.As(err, &se) || se.Code != ErrCodeUnauthorized || !se.Remote {
				t.Errorf("wrong token: %v", err)
			}
			env.client.AuthorizationToken = []byte("secret")
			s := env.dial(t, scheme, nil)
			if s.Protocol() != map[string]string{"moqt": "quic", "https": "webtransport"}[scheme] {
				t.Errorf("Protocol = %s", s.Protocol())
			}
		})
	}
}

func TestVersionNegotiationFailed(t *testing.T) {
	for _, scheme := range transports {
		t.Run(scheme, func(t *testing.T) {
			env := startServer(t, &Server{})
			env.client.Config = &Config{Versions: []Version{0xff000001}}
			_, err := env.client.Dial(testContext(t), env.url(scheme, "/"), nil)
			var se *SessionError
			if !errors.As(err, &se) || se.Code != ErrCodeVersionNegotiationFailed {
				t.Fatalf("Dial: %v, want VERSION_NEGOTIATION_FAILED", err)
			}
		})
	}
}

func TestRequestIDFlowControl(t *testing.T) {
	for _, scheme := range transports {
		t.Run(scheme, func(t *testing.T) {
			mux := NewTrackMux()
			mux.PublishFunc(context.Background(), "/f", holdTrack)
			env := startServer(t, &Server{TrackMux: mux, Config: &Config{MaxRequests: 2}})
			sess := env.dial(t, scheme, nil)
			first, err := sess.Subscribe("/f", "1", nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := sess.Subscribe("/f", "2", nil); err != nil {
				t.Fatal(err)
			}
			third := make(chan error, 1)
			go func() {
				tr, err := sess.Subscribe("/f", "3", nil)
				if err == nil {
					tr.Close()
				}
				third <- err
			}()
			// The third request is blocked until a request ends.
			select {
			case err := <-third:
				t.Fatalf("third Subscribe returned early: %v", err)
			case <-time.After(100 * time.Millisecond):
			}
			first.Close()
			if err := <-third; err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestGoAwayOnShutdown(t *testing.T) {
	for _, scheme := range transports {
		t.Run(scheme, func(t *testing.T) {
			env := startServer(t, &Server{})
			sess := env.dial(t, scheme, nil)
			ctx := testContext(t)
			done := make(chan error, 1)
			go func() { done <- env.srv.Shutdown(ctx) }()
			select {
			case <-sess.GoAway():
			case <-ctx.Done():
				t.Fatal("no GOAWAY")
			}
			sess.Close()
			if err := <-done; err != nil {
				t.Fatalf("Shutdown: %v", err)
			}
		})
	}
}

// TestMalformedPeer checks that a peer sending garbage on its control
// stream is closed with PROTOCOL_VIOLATION while another session keeps
// working.
func TestMalformedPeer(t *testing.T) {
	mux := NewTrackMux()
	mux.PublishFunc(context.Background(), "/ok", func(tw *TrackWriter) {
		writeGroups(tw, 0, 1, 1)
		tw.Close()
	})
	env := startServer(t, &Server{TrackMux: mux})
	ctx := testContext(t)
	good := env.dial(t, "moqt", nil)

	tests := []struct {
		name  string
		bytes func(t *testing.T) []byte
	}{
		{"garbage first message", func(*testing.T) []byte { return []byte{0x20, 0x00, 0x02, 0x05, 0x00} }},
		{"garbage after setup", func(t *testing.T) []byte {
			b, err := wire.AppendMessage(nil, &wire.ClientSetup{SupportedVersions: []wire.Version{wire.Draft14}}, wire.Draft14)
			if err != nil {
				t.Fatal(err)
			}
			// SUBSCRIBE with a truncated payload.
			return append(b, 0x03, 0x00, 0x03, 0x00, 0x01, 0xff)
		}},
		{"unknown message after setup", func(t *testing.T) []byte {
			b, _ := wire.AppendMessage(nil, &wire.ClientSetup{SupportedVersions: []wire.Version{wire.Draft14}}, wire.Draft14)
			return append(b, 0x3f, 0x00, 0x00)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, err := env.dialRaw(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.CloseWithError(0, "")
			str, err := conn.OpenStreamSync(ctx)
			if err != nil {
				t.Fatal(err)
			}
			str.Write(tt.bytes(t))
			select {
			case <-conn.Context().Done():
			case <-ctx.Done():
				t.Fatal("malformed peer was not closed")
			}
			var ae *quic.ApplicationError
			if err := context.Cause(conn.Context()); !errors.As(err, &ae) || ae.ErrorCode != quic.ApplicationErrorCode(ErrCodeProtocolViolation) {
				t.Errorf("close error %v, want PROTOCOL_VIOLATION", err)
			}
			// The well-behaved session is unaffected.
			tr, err := good.Subscribe("/ok", "t", nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tr.AcceptGroup(ctx); err != nil {
				t.Fatal(err)
			}
			tr.Close()
		})
	}
}

// TestTooManyRequests checks that a peer ignoring MAX_REQUEST_ID is closed
// with TOO_MANY_REQUESTS.
func TestTooManyRequests(t *testing.T) {
	env := startServer(t, &Server{Config: &Config{MaxRequests: 1}})
	ctx := testContext(t)
	conn, err := env.dialRaw(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseWithError(0, "")
	c := transport.NewQUIC(conn)
	str, err := c.OpenStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := wire.AppendMessage(nil, &wire.ClientSetup{SupportedVersions: []wire.Version{wire.Draft14}}, wire.Draft14)
	for id := uint64(0); id < 6; id += 2 {
		b, _ = wire.AppendMessage(b, &wire.SubscribeNamespace{RequestID: id, NamespacePrefix: wire.Namespace{"p", string(rune('a' + id))}}, wire.Draft14)
	}
	str.Write(b)
	<-conn.Context().Done()
	var ae *quic.ApplicationError
	if err := context.Cause(conn.Context()); !errors.As(err, &ae) || ae.ErrorCode != quic.ApplicationErrorCode(ErrCodeTooManyRequests) {
		t.Errorf("close error %v, want TOO_MANY_REQUESTS", err)
	}
}

// dialRaw opens a bare QUIC connection with the MoQT ALPN, to play a
// misbehaving peer.
func (e *testEnv) dialRaw(ctx context.Context) (*quic.Conn, error) {
	tlsConf := e.client.TLSConfig.Clone()
	tlsConf.NextProtos = []string{wire.ALPN}
	return quic.DialAddr(ctx, e.addr, tlsConf, nil)
}

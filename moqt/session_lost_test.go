package moqt

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/moqgo/moqgo/internal/netsim"
)

// TestSessionLost: a session whose connection fails under it (here the
// path goes silent and QUIC's idle timeout ends it) reports the transport
// failure in SessionError.Err, not a clean close by the peer: before, it
// read "session closed by peer: code 0x0", which a caller checking the
// code took for a NO_ERROR close. A subscription on it fails the same way.
func TestSessionLost(t *testing.T) {
	for _, scheme := range transports {
		t.Run(scheme, func(t *testing.T) {
			mux := NewTrackMux()
			mux.PublishFunc(context.Background(), "/lost", func(tw *TrackWriter) {
				if tw.WriteInfo(Info{}) == nil {
					<-tw.Context().Done()
				}
			})
			env := startServer(t, &Server{TrackMux: mux})
			proxy, err := netsim.New(env.addr, netsim.Config{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { proxy.Close() })
			cut := *env
			cut.addr = proxy.Addr().String()
			cut.client = &Client{TLSConfig: env.client.TLSConfig, QUICConfig: &quic.Config{MaxIdleTimeout: 300 * time.Millisecond}}
			sess := cut.dial(t, scheme, nil)
			tr, err := sess.Subscribe("/lost", "t", nil)
			if err != nil {
				t.Fatal(err)
			}
			proxy.SetLinks(netsim.Link{Loss: 1}, netsim.Link{Loss: 1})

			ctx := testContext(t)
			select {
			case <-sess.Context().Done():
			case <-ctx.Done():
				t.Fatal("the session outlived its silent path")
			}
			var se *SessionError
			if err := context.Cause(sess.Context()); !errors.As(err, &se) {
				t.Fatalf("session ended with %v (%T), want a *SessionError", err, err)
			}
			if se.Err == nil || se.Code != 0 || se.Remote {
				t.Fatalf("session ended with %#v, want Err set, no code, not remote", se)
			}
			// Raw QUIC keeps quic-go's error; webtransport-go may report
			// the same failure as an HTTP/3 error of its own.
			var idle *quic.IdleTimeoutError
			if scheme == "moqt" && !errors.As(se, &idle) {
				t.Errorf("Err = %v (%T), want quic-go's idle timeout", se.Err, se.Err)
			}
			if msg := se.Error(); !strings.Contains(msg, "session lost") || strings.Contains(msg, "by peer") {
				t.Errorf("Error() = %q, want it to say the session was lost", msg)
			}
			for {
				if _, err := tr.AcceptGroup(ctx); err != nil {
					var got *SessionError
					if !errors.As(err, &got) || got.Err == nil {
						t.Errorf("AcceptGroup after the loss: %v, want the session's loss", err)
					}
					break
				}
			}
		})
	}
}

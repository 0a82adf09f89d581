package moqt

import (
	"context"
	"testing"
	"time"

	"github.com/quic-go/quic-go"
)

// TestIdleSessionStaysUp: a session with nothing to send (a quiet chat
// track, a subscriber waiting for its first group) outlives QUIC's idle
// timeout, because moqt sends keep-alives (Config.KeepAlive) on both
// ends; with them disabled on both, the same session dies of the idle
// timeout, which is how every quiet session used to end after 30 s.
func TestIdleSessionStaysUp(t *testing.T) {
	const idle = 300 * time.Millisecond // the client's; it becomes the session's
	for _, scheme := range transports {
		for _, keep := range []bool{true, false} {
			name := scheme + "/keepalive"
			if !keep {
				name = scheme + "/disabled"
			}
			t.Run(name, func(t *testing.T) {
				mux := NewTrackMux()
				mux.PublishFunc(context.Background(), "/quiet", func(tw *TrackWriter) {
					if tw.WriteInfo(Info{}) == nil {
						<-tw.Context().Done() // nothing to say
					}
				})
				var cfg *Config
				if !keep {
					cfg = &Config{KeepAlive: -1}
				}
				env := startServer(t, &Server{TrackMux: mux, Config: cfg})
				env.client.QUICConfig = &quic.Config{MaxIdleTimeout: idle}
				env.client.Config = cfg
				sess := env.dial(t, scheme, nil)
				if _, err := sess.Subscribe("/quiet", "t", nil); err != nil {
					t.Fatal(err)
				}
				select {
				case <-sess.Context().Done():
					if keep {
						t.Fatalf("the idle session ended: %v", context.Cause(sess.Context()))
					}
				case <-time.After(5 * idle):
					if !keep {
						t.Fatal("without keep-alives the idle session outlived 5× its idle timeout: the test does not test")
					}
				}
			})
		}
	}
}

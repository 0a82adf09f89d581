package moqt

import (
	"strings"
	"testing"
)

// A request whose message cannot be encoded fails with a clear error and
// does not consume a Request ID: the next request is accepted by the peer
// (a burned ID would make the peer close the session with
// INVALID_REQUEST_ID).
func TestUnencodableRequestKeepsRequestID(t *testing.T) {
	for _, scheme := range transports {
		t.Run(scheme, func(t *testing.T) {
			srv, sessions := acceptingServer(nil)
			env := startServer(t, srv)
			mux := NewTrackMux()
			mux.Publish(testContext(t), "/live/x", TrackHandlerFunc(holdTrack))
			env.dial(t, scheme, mux)
			ss := <-sessions

			for _, prefix := range []BroadcastPath{"/", ""} {
				if _, err := ss.AcceptAnnounce(prefix); err == nil || !strings.Contains(err.Error(), "§9.28") {
					t.Fatalf("AcceptAnnounce(%q) = %v, want an error citing §9.28", prefix, err)
				}
			}
			// 33 namespace fields: encoding fails inside sendRequest.
			long := BroadcastPath(strings.Repeat("/a", 33))
			if _, err := ss.Subscribe(long, "t", nil); err == nil || !strings.Contains(err.Error(), "cannot send SUBSCRIBE") {
				t.Fatalf("Subscribe(33 fields) = %v, want an encoding error", err)
			}
			ar, err := ss.AcceptAnnounce("/live")
			if err != nil {
				t.Fatalf("AcceptAnnounce after the failures: %v", err)
			}
			a, err := ar.ReceiveAnnouncement(testContext(t))
			if err != nil || a.BroadcastPath != "/live/x" {
				t.Fatalf("announcement: %v, %v", a, err)
			}
			if err := ss.Context().Err(); err != nil {
				t.Fatalf("session ended: %v", err)
			}
		})
	}
}

package relay

import (
	"context"
	"testing"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/moqgo/moqgo/internal/netsim"
	"github.com/moqgo/moqgo/moqt"
)

// waitSessions waits until the relay holds n sessions and returns its
// counters then.
func waitSessions(t *testing.T, ctx context.Context, r *Relay, n int) Stats {
	t.Helper()
	for {
		r.mu.Lock()
		got, changed := len(r.sessions), r.changed
		r.mu.Unlock()
		if got == n {
			return r.Stats()
		}
		select {
		case <-changed:
		case <-ctx.Done():
			t.Fatalf("the relay holds %d sessions, want %d", got, n)
		}
	}
}

// TestSessionsLost: a session whose path goes silent ends at the relay by
// idle timeout and is counted in Stats.SessionsLost (the
// moq_relay_sessions_lost_total metric); one its client closes is not.
// quic-go holds a peer's idle timeout to at least 5 s, so the relay's end
// takes that long.
func TestSessionsLost(t *testing.T) {
	e := startRelay(t, Config{})
	ctx := testContext(t)

	closed := e.dial(t, "moqt", nil)
	waitSessions(t, ctx, e.relay, 1)
	closed.Close()
	if st := waitSessions(t, ctx, e.relay, 0); st.SessionsLost != 0 {
		t.Fatalf("a session its client closed counted as lost: %+v", st)
	}

	proxy, err := netsim.New(e.addr, netsim.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { proxy.Close() })
	cut := *e
	cut.addr = proxy.Addr().String()
	// The client's short idle timeout becomes the relay's too (at least 5 s).
	sess, err := cut.dialClient(&moqt.Client{QUICConfig: &quic.Config{MaxIdleTimeout: 300 * time.Millisecond}}, "moqt", nil, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sess.Close() })
	waitSessions(t, ctx, e.relay, 1)
	proxy.SetLinks(netsim.Link{Loss: 1}, netsim.Link{Loss: 1})
	if st := waitSessions(t, ctx, e.relay, 0); st.SessionsLost != 1 || st.Sessions != 0 {
		t.Fatalf("after the path went silent: %+v, want 1 session lost and none open", st)
	}
}

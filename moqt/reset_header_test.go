package moqt

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"
)

// TestResetKeepsHeader: a group reset right after its first write still
// reaches the subscriber as that group, with the reset's code, because the
// stream header is delivered reliably (RESET_STREAM_AT with the header in
// its reliable size, draft-14 §Closing Subgroup Streams). The subscriber
// can then account for every stream PUBLISH_DONE counts and end the
// subscription at once, instead of waiting PendingStreamTimeout (here a
// minute, far past the test's deadline) for streams it never identified.
// Raw QUIC only: webtransport-go offers no reliable reset to applications,
// so over WebTransport such a stream may arrive without its header.
func TestResetKeepsHeader(t *testing.T) {
	const groups = 20
	for _, c := range []struct {
		size     int  // joined to the header, or written after it
		deadline bool // a write deadline makes the write queue (as a relay's do)
	}{{100, false}, {8 << 10, false}, {100, true}, {8 << 10, true}} {
		size := c.size
		mux := NewTrackMux()
		mux.PublishFunc(context.Background(), "/reset", func(tw *TrackWriter) {
			defer tw.Close()
			payload := NewFrame(make([]byte, size))
			for g := GroupSequence(0); g < groups; g++ {
				gw, err := tw.OpenGroup(g)
				if err != nil {
					t.Error(err)
					return
				}
				if c.deadline {
					_ = gw.SetWriteDeadline(time.Now().Add(time.Minute))
				}
				if err := gw.WriteFrame(payload); err != nil {
					t.Error(err)
					return
				}
				gw.CancelWrite(0x15)
			}
		})
		env := startServer(t, &Server{TrackMux: mux})
		env.client.Config = &Config{PendingStreamTimeout: time.Minute}
		sess := env.dial(t, "moqt", nil)
		ctx := testContext(t)
		tr, err := sess.Subscribe("/reset", "t", nil)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[GroupSequence]bool{}
		for {
			gr, err := tr.AcceptGroup(ctx)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("payload %d B, deadline %v: AcceptGroup after %d groups: %v", size, c.deadline, len(seen), err)
			}
			for {
				_, err := gr.ReadFrame()
				if err == nil {
					continue
				}
				var ge *GroupError
				if !errors.As(err, &ge) || ge.Code != 0x15 {
					t.Errorf("payload %d B, deadline %v: group %d ended with %v, want reset code 0x15", size, c.deadline, gr.GroupSequence(), err)
				}
				break
			}
			seen[gr.GroupSequence()] = true
		}
		if len(seen) != groups {
			t.Errorf("payload %d B, deadline %v: %d of %d reset groups identified", size, c.deadline, len(seen), groups)
		}
	}
}

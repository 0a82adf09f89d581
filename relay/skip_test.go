package relay

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/moqgo/moqgo/moqt"
	"github.com/quic-go/quic-go"
)

// TestSkipSparesGroupInProgress: when a subscriber's backlog is full, the
// relay abandons the oldest group of which nothing was sent yet, not the
// group whose stream is partly sent: the subscriber gets that group whole,
// then the newest, and the skipped groups as canceled, empty ones or not
// at all; and it gets the end of the track at once, the skipped groups'
// streams reset after their header (RESET_STREAM_AT) and so accounted for.
func TestSkipSparesGroupInProgress(t *testing.T) {
	const groups, objects, size = 4, 20, 1024
	skipped := make(chan struct{}, groups)
	log := slog.New(&msgHandler{msg: "group skipped: backlog full", seen: skipped})
	e := startRelayWith(t, Config{MaxBacklogGroups: 2, StallTimeout: time.Minute, Logger: log}, nil)
	ctx := testContext(t)
	f := newFeed()
	f.publish(t, e, "moqt", "/live")
	waitAnnounced(t, ctx, e.relay, "/live")

	// A 4 KiB stream window: group 0 sends its first 4 KiB, then waits
	// for the subscriber to read, which it does not yet; groups 1 to 3
	// queue behind it in the relay. The subscriber would wait a minute
	// after PUBLISH_DONE for a stream it cannot identify: the skipped
	// groups' streams are reset after their header (RESET_STREAM_AT), so
	// it need not.
	sess, err := e.dialClient(&moqt.Client{
		QUICConfig: &quic.Config{
			InitialStreamReceiveWindow: 4 << 10, MaxStreamReceiveWindow: 4 << 10,
			InitialConnectionReceiveWindow: 64 << 10, MaxConnectionReceiveWindow: 64 << 10,
		},
		Config: &moqt.Config{PendingStreamTimeout: time.Minute},
	}, "moqt", nil, "")
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	tr, err := sess.Subscribe("/live", "video", &moqt.TrackConfig{Filter: moqt.FilterAbsoluteStart})
	if err != nil {
		t.Fatal(err)
	}
	f.push(t, ctx, writeGroup(0, objects, size))
	gr, err := tr.AcceptGroup(ctx) // group 0 has begun
	if err != nil {
		t.Fatal(err)
	}
	// All of group 0 is at the relay, so its sender keeps the session's
	// one transport write blocked on the window: on a loaded machine its
	// objects could trickle in, and the scheduler then began group 1 in
	// a gap, which leaves no group in the backlog unsent.
	waitIngested(t, ctx, carriedTrack(t, e.relay, "/live", "video"), 0)
	for g := moqt.GroupSequence(1); g < groups; g++ {
		f.push(t, ctx, writeGroup(g, objects, size))
	}
	for range groups - 2 { // groups 2 and 3 each overflow the backlog
		select {
		case <-skipped:
		case <-ctx.Done():
			t.Fatal("backlog overflow not logged")
		}
	}
	close(f.release)                    // the publisher ends the track
	got := map[moqt.GroupSequence]int{} // objects, or -1 if canceled
	for {
		objs, err := readAll(gr)
		var ge *moqt.GroupError
		switch {
		case err == nil:
			got[gr.GroupSequence()] = len(objs)
		case errors.As(err, &ge) && ge.Code == moqt.GroupErrorCancelled && len(objs) == 0:
			got[gr.GroupSequence()] = -1
		default:
			t.Fatalf("group %d: %d objects, %v", gr.GroupSequence(), len(objs), err)
		}
		if gr, err = tr.AcceptGroup(ctx); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	// A skipped group whose stream was open shows up as a canceled one,
	// its stream reset after the header; PUBLISH_DONE's stream count was
	// met without waiting (a minute) for streams the subscriber could not
	// identify.
	if got[0] != objects || got[groups-1] != objects || len(got) > groups {
		t.Fatalf("objects per group %v, want groups 0 and %d whole (%d objects), the others canceled (-1) or absent", got, groups-1, objects)
	}
	for g, n := range got {
		if g != 0 && g != groups-1 && n != -1 {
			t.Fatalf("skipped group %d delivered %d objects", g, n)
		}
	}
}

// waitIngested waits until the relay has received all of group seq's
// first subgroup (its end included).
func waitIngested(t *testing.T, ctx context.Context, tk *track, seq moqt.GroupSequence) {
	t.Helper()
	var sg *subgroup
	tk.mu.Lock()
	for _, g := range tk.groups {
		if g.seq == seq && len(g.subgroups) > 0 {
			sg = g.subgroups[0]
		}
	}
	tk.mu.Unlock()
	if sg == nil {
		t.Fatalf("the relay has no group %d", seq)
	}
	for i := 0; ; {
		c := sg.next(i)
		switch {
		case c.done:
			return
		case c.wake != nil:
			select {
			case <-c.wake:
			case <-ctx.Done():
				t.Fatalf("group %d: %d objects at the relay, not its end", seq, i)
			}
		default:
			i += len(c.objs)
		}
	}
}

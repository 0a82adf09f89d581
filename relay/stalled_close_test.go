package relay

import (
	"io"
	"testing"
	"time"

	"github.com/moqgo/moqgo/moqt"
)

// TestStalledSubscriberClose: when a track ends, ending a subscriber that
// reads nothing can take a long time (its groups are flushed, bounded by
// StallTimeout and moqt's CloseTimeout, both a minute here); the other
// subscriber gets every group and the end of the track meanwhile, well
// within the test's 30 seconds.
func TestStalledSubscriberClose(t *testing.T) {
	const groups, objects, size = 10, 20, 1024
	e := startRelayWith(t, Config{StallTimeout: time.Minute}, &moqt.Config{CloseTimeout: time.Minute})
	ctx := testContext(t)
	f := newFeed()
	f.publish(t, e, "moqt", "/live")
	waitAnnounced(t, ctx, e.relay, "/live")

	stalledSess := e.dialNarrow(t, 4<<10, 16<<10)
	if _, err := stalledSess.Subscribe("/live", "video", &moqt.TrackConfig{Filter: moqt.FilterAbsoluteStart}); err != nil {
		t.Fatal(err)
	}
	tr, err := e.dial(t, "https", nil).Subscribe("/live", "video", &moqt.TrackConfig{Filter: moqt.FilterAbsoluteStart})
	if err != nil {
		t.Fatal(err)
	}
	for g := range moqt.GroupSequence(groups) {
		f.push(t, ctx, writeGroup(g, objects, size))
	}
	close(f.release) // the publisher ends the track
	got := 0
	for {
		gr, err := tr.AcceptGroup(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("after %d groups: %v (held up by the stalled subscriber?)", got, err)
		}
		objs, err := readAll(gr)
		if err != nil || len(objs) != objects {
			t.Fatalf("group %d: %d objects, %v", gr.GroupSequence(), len(objs), err)
		}
		got++
	}
	if got != groups {
		t.Fatalf("got %d groups, want %d", got, groups)
	}
}

package relay

import (
	"testing"

	"github.com/moqgo/moqgo/moqt"
)

// TestUpstreamUpdate: the relay's one upstream subscription follows its
// subscribers with SUBSCRIBE_UPDATE: its subscriber priority is the most
// urgent any of them asked for, it is paused (Forward 0) only while all of
// them are and resumed when one resumes, and a subscriber leaving gives
// the others' priority back.
func TestUpstreamUpdate(t *testing.T) {
	e := startRelay(t, Config{})
	ctx := testContext(t)
	f := newFeed()
	f.publish(t, e, "moqt", "/live")
	waitAnnounced(t, ctx, e.relay, "/live")
	a, err := e.dial(t, "moqt", nil).Subscribe("/live", "video", &moqt.TrackConfig{Priority: 200})
	if err != nil {
		t.Fatal(err)
	}
	var tw *moqt.TrackWriter // the publisher's side of the upstream subscription
	select {
	case tw = <-f.served:
	case <-ctx.Done():
		t.Fatal("no upstream subscription")
	}
	want := func(step string, priority uint8, paused bool) {
		t.Helper()
		for {
			c := tw.TrackConfig()
			if c.Priority == priority && c.Paused == paused {
				return
			}
			select {
			case <-tw.Updated():
			case <-ctx.Done():
				t.Fatalf("%s: upstream priority %d, paused %v; want %d, %v", step, c.Priority, c.Paused, priority, paused)
			}
		}
	}
	want("one subscriber", 200, false)
	b, err := e.dial(t, "https", nil).Subscribe("/live", "video", &moqt.TrackConfig{Priority: 10})
	if err != nil {
		t.Fatal(err)
	}
	want("a more urgent one joins", 10, false)
	if err := a.Update(&moqt.TrackConfig{Priority: 200, Paused: true}); err != nil {
		t.Fatal(err)
	}
	if err := b.Update(&moqt.TrackConfig{Priority: 10, Paused: true}); err != nil {
		t.Fatal(err)
	}
	want("both paused", 10, true)
	if err := a.Update(&moqt.TrackConfig{Priority: 200}); err != nil {
		t.Fatal(err)
	}
	want("one resumes", 10, false)
	b.Close()
	want("the urgent one leaves", 200, false)
}

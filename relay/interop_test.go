package relay

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/moqgo/moqgo/moqt"
)

// TestInteropFirstSubscriberGetsEveryGroup pins what the browser suite
// (e2e TestRelaySubscribeEarly) found: @moq/net joins a live track on
// draft-14 only with the Largest Object filter. When its SUBSCRIBE opens
// the relay's upstream subscription and the publisher writes groups at once,
// those groups arrive after the SUBSCRIBE did, so all of them are the
// subscriber's; the relay used to choose the start when it got round to
// activating the subscriber, and then skipped whatever had been cached in
// between. Each round subscribes to a fresh track, so that each is a first
// subscriber racing its own publisher.
func TestInteropFirstSubscriberGetsEveryGroup(t *testing.T) {
	const groups = 4
	e := startRelay(t, Config{})
	ctx := testContext(t)
	mux := moqt.NewTrackMux()
	mux.PublishFunc(ctx, "/live", func(tw *moqt.TrackWriter) {
		for g := range moqt.GroupSequence(groups) {
			if err := writeGroup(g, 2, 100)(tw); err != nil {
				return
			}
		}
		<-tw.Context().Done() // live: the track stays open while watched
	})
	e.dial(t, "moqt", mux).PublishNamespaces()
	waitAnnounced(t, ctx, e.relay, "/live")
	sub := e.dial(t, "moqt", nil)
	for round := range 20 {
		name := moqt.TrackName(fmt.Sprintf("track%d", round))
		tr, err := sub.Subscribe("/live", name, &moqt.TrackConfig{Filter: moqt.FilterLatestObject})
		if err != nil {
			t.Fatalf("Subscribe %s: %v", name, err)
		}
		// On loopback the groups follow the SUBSCRIBE_OK within
		// milliseconds; seconds without one means the relay skipped it.
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		var got []moqt.GroupSequence
		for len(got) < groups {
			gr, err := tr.AcceptGroup(rctx)
			if err != nil {
				break
			}
			objs, err := readAll(gr)
			if err != nil || len(objs) != 2 {
				t.Fatalf("%s group %d: %d objects, %v", name, gr.GroupSequence(), len(objs), err)
			}
			got = append(got, gr.GroupSequence())
		}
		cancel()
		tr.Close()
		slices.Sort(got)
		if want := []moqt.GroupSequence{0, 1, 2, 3}; !slices.Equal(got, want) {
			t.Fatalf("round %d: first subscriber (latest object) got groups %v, want %v: groups written after its SUBSCRIBE arrived were skipped", round, got, want)
		}
	}
}

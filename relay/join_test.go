package relay

import (
	"io"
	"slices"
	"testing"

	"github.com/moqgo/moqgo/moqt"
)

// startFed starts a relay with cfg, a publisher of /live "video" over
// scheme, and a probe subscriber that receives every group from 0; push
// writes a group and returns once the probe received it (so the relay has
// it cached).
func startFed(t *testing.T, cfg Config, scheme string) (*env, *feed, func(g moqt.GroupSequence)) {
	t.Helper()
	e := startRelay(t, cfg)
	ctx := testContext(t)
	f := newFeed()
	f.publish(t, e, scheme, "/live")
	waitAnnounced(t, ctx, e.relay, "/live")
	probe, err := e.dial(t, scheme, nil).Subscribe("/live", "video", &moqt.TrackConfig{Filter: moqt.FilterAbsoluteStart})
	if err != nil {
		t.Fatal(err)
	}
	push := func(g moqt.GroupSequence) {
		t.Helper()
		f.push(t, ctx, writeGroup(g, 5, 200))
		if got, objs := readGroup(t, ctx, probe); got != g || len(objs) != 5 {
			t.Fatalf("probe got group %d with %d objects, want %d with 5", got, len(objs), g)
		}
	}
	return e, f, push
}

// TestLateJoinFilters: a late joiner starts at a group boundary chosen by
// its filter, from the relay's cache.
func TestLateJoinFilters(t *testing.T) {
	for _, scheme := range transports {
		t.Run(scheme, func(t *testing.T) {
			e, _, push := startFed(t, Config{CacheGroups: 3}, scheme)
			ctx := testContext(t)
			for g := moqt.GroupSequence(0); g < 5; g++ {
				push(g)
			}
			sess := e.dial(t, scheme, nil)
			sub := func(c moqt.TrackConfig) *moqt.TrackReader {
				tr, err := sess.Subscribe("/live", "video", &c)
				if err != nil {
					t.Fatalf("Subscribe %+v: %v", c, err)
				}
				return tr
			}
			latest := sub(moqt.TrackConfig{Filter: moqt.FilterLatestObject})
			next := sub(moqt.TrackConfig{Filter: moqt.FilterNextGroupStart})
			abs := sub(moqt.TrackConfig{Filter: moqt.FilterAbsoluteStart, StartGroup: 3})
			rng := sub(moqt.TrackConfig{Filter: moqt.FilterAbsoluteRange, StartGroup: 2, EndGroup: 3})

			if info := latest.Info(); !info.ContentExists || info.LatestGroup != 4 || info.LatestObject != 4 {
				t.Errorf("SUBSCRIBE_OK info = %+v, want largest 4/4", info)
			}
			g, objs := readGroup(t, ctx, latest)
			if g != 4 || len(objs) != 5 || objs[0].ID != 0 {
				t.Errorf("latest-object joiner starts at group %d with %d objects, want all of group 4", g, len(objs))
			}
			var got []moqt.GroupSequence
			for range 2 {
				g, objs := readGroup(t, ctx, rng)
				if len(objs) != 5 {
					t.Errorf("range: group %d has %d objects", g, len(objs))
				}
				got = append(got, g)
			}
			slices.Sort(got)
			if !slices.Equal(got, []moqt.GroupSequence{2, 3}) {
				t.Errorf("absolute range 2..3 got groups %v", got)
			}
			if _, err := rng.AcceptGroup(ctx); err != io.EOF {
				t.Errorf("after its range: %v, want io.EOF (PUBLISH_DONE)", err)
			}

			push(5)
			if g, _ := readGroup(t, ctx, next); g != 5 {
				t.Errorf("next-group joiner starts at group %d, want 5", g)
			}
			if g, _ := readGroup(t, ctx, latest); g != 5 {
				t.Errorf("latest-object joiner's second group is %d, want 5", g)
			}
			got = got[:0]
			for range 3 {
				g, _ := readGroup(t, ctx, abs)
				got = append(got, g)
			}
			slices.Sort(got)
			if !slices.Equal(got, []moqt.GroupSequence{3, 4, 5}) {
				t.Errorf("absolute start 3 got groups %v", got)
			}
		})
	}
}

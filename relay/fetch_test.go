package relay

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/moqgo/moqgo/moqt"
)

// TestFetchFromCache: FETCH and joining FETCH are answered from the
// relay's cache, objects of all subgroups merged by ID within a group;
// ranges the cache lost go to the publisher.
func TestFetchFromCache(t *testing.T) {
	for _, scheme := range transports {
		t.Run(scheme, func(t *testing.T) {
			e := startRelay(t, Config{CacheGroups: 3})
			ctx := testContext(t)
			f := newFeed()
			f.publish(t, e, scheme, "/live")
			waitAnnounced(t, ctx, e.relay, "/live")
			sess := e.dial(t, scheme, nil)
			probe, err := sess.Subscribe("/live", "video", &moqt.TrackConfig{Filter: moqt.FilterAbsoluteStart})
			if err != nil {
				t.Fatal(err)
			}
			for g := moqt.GroupSequence(0); g < 5; g++ {
				f.push(t, ctx, writeLayered(g))
				for range 2 { // both subgroups reached the probe: cached
					readGroup(t, ctx, probe)
				}
			}

			fr, err := sess.Fetch(ctx, "/live", "video", &moqt.FetchConfig{Start: moqt.Location{Group: 2, Object: 2}, End: moqt.Location{Group: 3}})
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			var want []moqt.TrackObject
			for g := moqt.GroupSequence(2); g <= 3; g++ {
				ls := layeredGroup(g)
				for _, id := range []uint64{0, 1, 2, 3, 5, 6, 8} {
					if g == 2 && id < 2 {
						continue
					}
					for _, l := range ls {
						for _, o := range l.objs {
							if o.ID == id {
								want = append(want, moqt.TrackObject{Group: g, Subgroup: l.sub, PublisherPriority: l.priority, Object: o})
							}
						}
					}
				}
			}
			for i := 0; ; i++ {
				o, err := fr.ReadObject()
				if err == io.EOF {
					if i != len(want) {
						t.Errorf("fetch ended after %d objects, want %d", i, len(want))
					}
					break
				}
				if err != nil {
					t.Fatalf("fetch object %d: %v", i, err)
				}
				if i >= len(want) {
					t.Fatalf("extra object %d/%d", o.Group, o.ID)
				}
				w := want[i]
				if o.Group != w.Group || o.ID != w.ID || o.Subgroup != w.Subgroup || o.Status != w.Status || !bytes.Equal(o.Frame.Bytes(), w.Frame.Bytes()) {
					t.Errorf("object %d = %d/%d sub %d status %d, want %d/%d sub %d status %d", i, o.Group, o.ID, o.Subgroup, o.Status, w.Group, w.ID, w.Subgroup, w.Status)
				}
			}

			// A joining fetch of the 2 groups before a new subscription.
			tr, jf, err := sess.SubscribeJoining("/live", "video", 2, nil)
			if err != nil {
				t.Fatalf("SubscribeJoining: %v", err)
			}
			defer tr.Close()
			groups := map[moqt.GroupSequence]int{}
			for {
				o, err := jf.ReadObject()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("joining fetch: %v", err)
				}
				groups[o.Group]++
			}
			if len(groups) == 0 {
				t.Errorf("joining fetch returned nothing")
			}
			for g, n := range groups {
				if g < 3 || g > 4 || (g == 3 && n != 7) {
					t.Errorf("joining fetch: group %d with %d objects", g, n)
				}
			}

			info, err := sess.TrackStatus(ctx, "/live", "video")
			if err != nil || !info.ContentExists || info.LatestGroup != 4 || info.LatestObject != 8 {
				t.Errorf("TrackStatus = %+v, %v; want largest 4/8", info, err)
			}
			// A track the relay does not carry: the publisher answers (its
			// handler does not implement TRACK_STATUS).
			if _, err := sess.TrackStatus(ctx, "/live", "other"); !isSubscribeError(err, moqt.SubscribeErrorNotSupported) {
				t.Errorf("forwarded TrackStatus = %v, want the publisher's NOT_SUPPORTED", err)
			}
			if _, err := sess.TrackStatus(ctx, "/nowhere", "x"); !isSubscribeError(err, moqt.SubscribeErrorTrackDoesNotExist) {
				t.Errorf("TrackStatus without a publisher = %v, want TRACK_DOES_NOT_EXIST", err)
			}
			// Evicted groups are asked of the publisher, whose handler does
			// not implement FETCH (fetch_upstream_test.go has one that does).
			if _, err := sess.Fetch(ctx, "/live", "video", &moqt.FetchConfig{Start: moqt.Location{Group: 0}, End: moqt.Location{Group: 1}}); !isFetchError(err, moqt.SubscribeErrorNotSupported) {
				t.Errorf("FETCH of evicted groups = %v, want the publisher's NOT_SUPPORTED", err)
			}
			if _, err := sess.Fetch(ctx, "/live", "video", &moqt.FetchConfig{Start: moqt.Location{Group: 9}, End: moqt.Location{Group: 9}}); !isFetchError(err, moqt.FetchErrorInvalidRange) {
				t.Errorf("FETCH after the largest object = %v, want INVALID_RANGE", err)
			}
			if _, err := sess.Fetch(ctx, "/live", "nothing", &moqt.FetchConfig{End: moqt.Location{Group: 1}}); !isFetchError(err, moqt.SubscribeErrorNotSupported) {
				t.Errorf("FETCH of a track the relay does not carry = %v, want the publisher's NOT_SUPPORTED", err)
			}
			if n := e.relay.Stats().UpstreamFetches; n != 2 {
				t.Errorf("UpstreamFetches = %d, want 2", n)
			}
		})
	}
}

func isFetchError(err error, code moqt.SubscribeErrorCode) bool {
	var fe *moqt.FetchError
	return errors.As(err, &fe) && fe.Code == code
}

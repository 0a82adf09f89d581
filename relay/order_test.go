package relay

import (
	"io"
	"testing"

	"github.com/moqgo/moqgo/moqt"
)

// orderGroups is how many one-object groups TestDownstreamGroupOrder's
// publisher writes back to back.
const orderGroups = 30

// TestDownstreamGroupOrder: one-object groups written back to back reach
// a downstream subscriber's AcceptGroup in the order the publisher opened
// them, for every pair of transports. The relay used to offer a group to
// its subscribers when the group's first object arrived, on a goroutine
// per group, and each subscriber opened its streams on a goroutine per
// group too, so upstream groups 0, 1, 2 could go out as 1, 0, 2.
func TestDownstreamGroupOrder(t *testing.T) {
	for _, pubScheme := range transports {
		for _, subScheme := range transports {
			t.Run(pubScheme+"-to-"+subScheme, func(t *testing.T) {
				// A burst beyond MaxBacklogGroups has its oldest groups
				// skipped: that limit is not under test.
				e := startRelay(t, Config{Logger: testLogger(t), MaxBacklogGroups: 2 * orderGroups})
				ctx := testContext(t)
				f := newFeed()
				f.publish(t, e, pubScheme, "/live/order")
				waitAnnounced(t, ctx, e.relay, "/live/order")
				tr, err := e.dial(t, subScheme, nil).Subscribe("/live/order", "video", &moqt.TrackConfig{Filter: moqt.FilterAbsoluteStart})
				if err != nil {
					t.Fatal(err)
				}
				f.push(t, ctx, func(tw *moqt.TrackWriter) error {
					for g := moqt.GroupSequence(0); g < orderGroups; g++ {
						if err := writeGroup(g, 1, 16)(tw); err != nil {
							return err
						}
					}
					return nil
				})
				close(f.release)
				var got []moqt.GroupSequence
				for {
					gr, err := tr.AcceptGroup(ctx)
					if err == io.EOF {
						break
					}
					if err != nil {
						t.Fatalf("AcceptGroup after %v: %v", got, err)
					}
					got = append(got, gr.GroupSequence())
					if objs, err := readAll(gr); err != nil || len(objs) != 1 {
						t.Fatalf("group %d: %d objects, %v", gr.GroupSequence(), len(objs), err)
					}
				}
				if len(got) != orderGroups {
					t.Fatalf("got %d groups, want %d: %v", len(got), orderGroups, got)
				}
				for i, g := range got {
					if g != moqt.GroupSequence(i) {
						t.Fatalf("downstream group %d at position %d, want upstream order: %v", g, i, got)
					}
				}
			})
		}
	}
}

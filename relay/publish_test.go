package relay

import (
	"io"
	"testing"

	"github.com/moqgo/moqgo/moqt"
)

// TestPushedTrack: a track a publisher pushes with PUBLISH is routed and
// fanned out like an announced one, and ends with PUBLISH_DONE.
func TestPushedTrack(t *testing.T) {
	for _, scheme := range transports {
		t.Run(scheme, func(t *testing.T) {
			e := startRelay(t, Config{})
			ctx := testContext(t)
			pub := e.dial(t, scheme, nil)
			tw, err := pub.Publish(ctx, "/pushed", "video", nil)
			if err != nil {
				t.Fatalf("Publish: %v", err)
			}
			waitAnnounced(t, ctx, e.relay, "/pushed")
			var readers []*moqt.TrackReader
			for _, s := range transports {
				tr, err := e.dial(t, s, nil).Subscribe("/pushed", "video", &moqt.TrackConfig{Filter: moqt.FilterAbsoluteStart})
				if err != nil {
					t.Fatalf("Subscribe: %v", err)
				}
				readers = append(readers, tr)
			}
			if err := writeGroup(3, 4, 100)(tw); err != nil {
				t.Fatal(err)
			}
			for _, tr := range readers {
				if g, objs := readGroup(t, ctx, tr); g != 3 || len(objs) != 4 {
					t.Errorf("got group %d with %d objects, want 3 with 4", g, len(objs))
				}
			}
			tw.Close()
			for _, tr := range readers {
				if _, err := tr.AcceptGroup(ctx); err != io.EOF {
					t.Errorf("after the pushed track ended: %v, want io.EOF", err)
				}
			}
		})
	}
}

// TestPushedTrackRefused: a PUBLISH outside the session's publish grants
// is refused with PUBLISH_ERROR UNAUTHORIZED, never accepted first.
func TestPushedTrackRefused(t *testing.T) {
	e := startRelay(t, Config{Auth: &JWTAuth{HMACKey: []byte("k"), Anonymous: &Grants{Subscribe: []moqt.BroadcastPath{"/public"}}}})
	sess := e.dial(t, "moqt", nil)
	tw, err := sess.Publish(testContext(t), "/public/cam", "video", nil)
	if !isSubscribeError(err, moqt.SubscribeErrorUnauthorized) {
		if tw != nil {
			tw.Close()
		}
		t.Fatalf("Publish without a publish grant = %v, want PUBLISH_ERROR UNAUTHORIZED", err)
	}
}

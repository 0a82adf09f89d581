package relay

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/moqgo/moqgo/moqt"
)

// TestPublisherLoss: when the publisher's session ends, subscribers get
// PUBLISH_DONE (their session stays up), and a republish under the same
// path is picked up by new subscriptions.
func TestPublisherLoss(t *testing.T) {
	for _, scheme := range transports {
		t.Run(scheme, func(t *testing.T) {
			e := startRelay(t, Config{})
			ctx := testContext(t)
			f := newFeed()
			pub := f.publish(t, e, scheme, "/live")
			waitAnnounced(t, ctx, e.relay, "/live")
			sess := e.dial(t, scheme, nil)
			tr, err := sess.Subscribe("/live", "video", nil)
			if err != nil {
				t.Fatal(err)
			}
			f.push(t, ctx, writeGroup(0, 3, 10))
			if g, objs := readGroup(t, ctx, tr); g != 0 || len(objs) != 3 {
				t.Fatalf("got group %d with %d objects", g, len(objs))
			}
			pub.Close()
			if _, err := tr.AcceptGroup(ctx); err != io.EOF {
				t.Fatalf("after the publisher left: %v, want io.EOF from PUBLISH_DONE", err)
			}
			if sess.Err() != nil {
				t.Fatalf("subscriber session ended: %v", sess.Err())
			}

			f2 := newFeed()
			f2.publish(t, e, scheme, "/live")
			waitAnnounced(t, ctx, e.relay, "/live")
			tr2, err := sess.Subscribe("/live", "video", nil)
			if err != nil {
				t.Fatalf("Subscribe after republish: %v", err)
			}
			f2.push(t, ctx, writeGroup(7, 2, 10))
			if g, objs := readGroup(t, ctx, tr2); g != 7 || len(objs) != 2 {
				t.Fatalf("after republish got group %d with %d objects", g, len(objs))
			}
		})
	}
}

// TestSubscribeBeforePublisher: without WaitForPublisher an unknown path is
// refused at once; with it, the subscription waits for the publisher.
func TestSubscribeBeforePublisher(t *testing.T) {
	t.Run("refused", func(t *testing.T) {
		e := startRelay(t, Config{})
		_, err := e.dial(t, "moqt", nil).Subscribe("/nobody", "video", nil)
		if !isSubscribeError(err, moqt.SubscribeErrorTrackDoesNotExist) {
			t.Fatalf("Subscribe = %v, want TRACK_DOES_NOT_EXIST", err)
		}
	})
	t.Run("waits", func(t *testing.T) {
		e := startRelay(t, Config{WaitForPublisher: 20 * time.Second})
		ctx := testContext(t)
		sess := e.dial(t, "https", nil)
		type result struct {
			tr  *moqt.TrackReader
			err error
		}
		res := make(chan result, 1)
		go func() {
			tr, err := sess.Subscribe("/later/room", "video", nil)
			res <- result{tr, err}
		}()
		// The subscription is pending at the relay before the publisher
		// arrives: wait until the relay holds it.
		waitPending(t, ctx, e.relay, 1)
		if st := e.relay.Stats(); st.Waiting != 1 {
			t.Errorf("Stats().Waiting = %d, want 1", st.Waiting)
		}
		f := newFeed()
		f.publish(t, e, "moqt", "/later")
		r := <-res
		if r.err != nil {
			t.Fatalf("Subscribe: %v", r.err)
		}
		f.push(t, ctx, writeGroup(1, 2, 10))
		if g, _ := readGroup(t, ctx, r.tr); g != 1 {
			t.Fatalf("got group %d", g)
		}
	})
}

// TestLongestPrefixRouting: a SUBSCRIBE goes to the publisher of the
// longest announced prefix of its path.
func TestLongestPrefixRouting(t *testing.T) {
	e := startRelay(t, Config{})
	ctx := testContext(t)
	outer, inner := newFeed(), newFeed()
	outer.publish(t, e, "moqt", "/a")
	inner.publish(t, e, "https", "/a/b")
	waitAnnounced(t, ctx, e.relay, "/a")
	waitAnnounced(t, ctx, e.relay, "/a/b")
	sess := e.dial(t, "moqt", nil)
	for _, c := range []struct {
		path moqt.BroadcastPath
		want *feed
	}{{"/a/b/c", inner}, {"/a/b", inner}, {"/a/x", outer}, {"/a", outer}} {
		if _, err := sess.Subscribe(c.path, "t", nil); err != nil {
			t.Fatalf("Subscribe %s: %v", c.path, err)
		}
		select {
		case tw := <-c.want.served:
			if tw.BroadcastPath != c.path {
				t.Errorf("publisher got %s, want %s", tw.BroadcastPath, c.path)
			}
		case <-ctx.Done():
			t.Fatalf("%s was not routed to the expected publisher", c.path)
		}
	}
	if _, err := sess.Subscribe("/ab", "t", nil); !isSubscribeError(err, moqt.SubscribeErrorTrackDoesNotExist) {
		t.Errorf("/ab (not under /a) = %v, want TRACK_DOES_NOT_EXIST", err)
	}
}

// TestNamespaceDiscovery: SUBSCRIBE_NAMESPACE gets the matching
// announcements already made and later ones, and their end.
func TestNamespaceDiscovery(t *testing.T) {
	for _, scheme := range transports {
		t.Run(scheme, func(t *testing.T) {
			e := startRelay(t, Config{})
			ctx := testContext(t)
			newFeed().publish(t, e, "moqt", "/live/one")
			newFeed().publish(t, e, "moqt", "/other")
			waitAnnounced(t, ctx, e.relay, "/live/one")
			waitAnnounced(t, ctx, e.relay, "/other")
			sess := e.dial(t, scheme, nil)
			ar, err := sess.AcceptAnnounce("/live")
			if err != nil {
				t.Fatal(err)
			}
			a, err := ar.ReceiveAnnouncement(ctx)
			if err != nil || a.BroadcastPath != "/live/one" {
				t.Fatalf("replayed announcement = %v, %v; want /live/one", a, err)
			}
			two := e.dial(t, "https", moqtMux("/live/two"))
			a2, err := ar.ReceiveAnnouncement(ctx)
			if err != nil || a2.BroadcastPath != "/live/two" {
				t.Fatalf("new announcement = %v, %v; want /live/two", a2, err)
			}
			two.Close()
			select {
			case <-a2.Done():
			case <-ctx.Done():
				t.Fatal("announcement did not end after its publisher left")
			}
			nothing, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
			defer cancel()
			if a, err := ar.ReceiveAnnouncement(nothing); err == nil {
				t.Errorf("unexpected announcement %s outside the prefix", a.BroadcastPath)
			}
		})
	}
}

func moqtMux(path moqt.BroadcastPath) *moqt.TrackMux {
	mux := moqt.NewTrackMux()
	mux.PublishFunc(context.Background(), path, func(tw *moqt.TrackWriter) { tw.Close() })
	return mux
}

// TestLinger: one upstream subscription serves subscribers that come and
// go within the linger time; after it, the relay unsubscribes upstream.
func TestLinger(t *testing.T) {
	e := startRelay(t, Config{Linger: time.Hour})
	ctx := testContext(t)
	f := newFeed()
	f.publish(t, e, "moqt", "/live")
	waitAnnounced(t, ctx, e.relay, "/live")
	sess := e.dial(t, "moqt", nil)
	tr, err := sess.Subscribe("/live", "video", nil)
	if err != nil {
		t.Fatal(err)
	}
	up := <-f.served
	tr.Close()
	tr2, err := sess.Subscribe("/live", "video", nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(f.served); n != 0 {
		t.Fatalf("a resubscription within the linger opened %d more upstream subscriptions", n)
	}
	tr2.Close()
	if up.Context().Err() != nil {
		t.Fatal("upstream unsubscribed before the linger")
	}
	// A relay with no linger unsubscribes upstream as soon as the last
	// subscriber leaves.
	e2 := startRelay(t, Config{Linger: -1})
	f2 := newFeed()
	f2.publish(t, e2, "https", "/live")
	waitAnnounced(t, ctx, e2.relay, "/live")
	tr3, err := e2.dial(t, "https", nil).Subscribe("/live", "video", nil)
	if err != nil {
		t.Fatal(err)
	}
	up2 := <-f2.served
	tr3.Close()
	select {
	case <-up2.Context().Done():
	case <-ctx.Done():
		t.Fatal("upstream subscription not closed after the last subscriber left")
	}
}

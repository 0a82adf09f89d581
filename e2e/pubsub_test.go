package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/moqgo/moqgo/moqt"
)

// The track every scenario moves: groups x frames of known payloads.
const (
	broadcastPath = "e2e/room"
	trackName     = "data"
	numGroups     = 4
	numFrames     = 5
)

// payload is the content of frame f of group g; the page computes the same.
func payload(g, f int) string {
	return fmt.Sprintf("%s group %d frame %d ", trackName, g, f) + strings.Repeat("x", f*7)
}

// query is the page's query string for scenario against srv.
func query(scenario string, relayURL string) url.Values {
	return url.Values{
		"case":   {scenario},
		"relay":  {relayURL},
		"path":   {broadcastPath},
		"track":  {trackName},
		"groups": {strconv.Itoa(numGroups)},
		"frames": {strconv.Itoa(numFrames)},
	}
}

// launch starts a page, a moqgo server serving mux, and a browser running
// scenario against it.
func launch(t *testing.T, scenario string, mux *moqt.TrackMux) (*page, *moqServer, context.Context) {
	t.Helper()
	p := newPage(t)
	srv := startServer(t, &moqt.Server{TrackMux: mux})
	ctx := testContext(t)
	p.open(query(scenario, srv.URL))
	return p, srv, ctx
}

func acceptSession(t *testing.T, ctx context.Context, srv *moqServer) *moqt.Session {
	t.Helper()
	select {
	case a := <-srv.Sessions:
		return a.Session
	case <-ctx.Done():
		t.Fatal("server accepted no session from the browser")
		return nil
	}
}

// checkFrames compares what a receiver got (frames by group) with what
// was published.
func checkFrames(t *testing.T, got map[int][]string) {
	t.Helper()
	if len(got) != numGroups {
		t.Errorf("received %d groups, want %d", len(got), numGroups)
	}
	for g := range numGroups {
		frames := got[g]
		if len(frames) != numFrames {
			t.Errorf("group %d: %d frames, want %d", g, len(frames), numFrames)
			continue
		}
		for f, p := range frames {
			if want := payload(g, f); p != want {
				t.Errorf("group %d frame %d = %q, want %q", g, f, p, want)
			}
		}
	}
}

// TestBrowserAnnounce: the browser announces a broadcast; moqgo
// acknowledges it and sees it; the browser withdraws it and moqgo sees the
// announcement end.
func TestBrowserAnnounce(t *testing.T) {
	p, srv, ctx := launch(t, "announce", moqt.NewTrackMux())
	sess := acceptSession(t, ctx, srv)
	p.next(ctx, "published", nil)

	ar, err := sess.AcceptAnnounce("/e2e")
	if err != nil {
		t.Fatalf("SUBSCRIBE_NAMESPACE to the browser: %v", err)
	}
	defer ar.Close()
	a, err := ar.ReceiveAnnouncement(ctx)
	if err != nil {
		t.Fatalf("no announcement from the browser: %v", err)
	}
	if a.BroadcastPath != "/"+broadcastPath {
		t.Errorf("announced %q, want %q", a.BroadcastPath, "/"+broadcastPath)
	}
	p.release("announced")
	p.next(ctx, "withdrawn", nil)
	// The browser sends PUBLISH_NAMESPACE_DONE only for an advertisement its
	// peer acknowledged, so seeing the withdrawal also proves the
	// PUBLISH_NAMESPACE_OK reached it.
	select {
	case <-a.Done():
	case <-ctx.Done():
		t.Fatal("the browser withdrew its broadcast but the announcement did not end")
	}
	p.release("withdrawal-seen")
	p.finish(ctx)
}

// TestBrowserSubscribeMissing: subscribing to a track nobody publishes gets
// an error in the browser, not a hang.
func TestBrowserSubscribeMissing(t *testing.T) {
	p, _, ctx := launch(t, "subscribe-missing", moqt.NewTrackMux())
	var r struct{ Error string }
	p.next(ctx, "subscribe-error", &r)
	t.Logf("browser saw: %s", r.Error)
	// @moq/net reports the SUBSCRIBE_ERROR code: TRACK_DOES_NOT_EXIST is 0x4.
	if !strings.Contains(r.Error, "code=4") {
		t.Errorf("browser error %q does not carry TRACK_DOES_NOT_EXIST (code=4)", r.Error)
	}
	p.finish(ctx)
}

// TestBrowserPublish: the browser publishes a track; a Go subscriber
// receives every frame intact and in order.
func TestBrowserPublish(t *testing.T) {
	p, srv, ctx := launch(t, "publish", moqt.NewTrackMux())
	sess := acceptSession(t, ctx, srv)
	p.next(ctx, "published", nil)

	tr, err := sess.Subscribe("/"+broadcastPath, trackName, &moqt.TrackConfig{Filter: moqt.FilterAbsoluteStart})
	if err != nil {
		t.Fatalf("Subscribe to the browser's track: %v", err)
	}
	defer tr.Close()
	got := map[int][]string{}
	count := 0
	for count < numGroups*numFrames {
		gr, err := tr.AcceptGroup(ctx)
		if err != nil {
			t.Fatalf("AcceptGroup after %d frames: %v", count, err)
		}
		g := int(gr.GroupSequence())
		if _, dup := got[g]; dup {
			t.Fatalf("group %d received twice", g)
		}
		got[g] = []string{}
		for {
			f, err := gr.ReadFrame()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("group %d: ReadFrame: %v", g, err)
			}
			got[g] = append(got[g], string(f.Bytes()))
			count++
		}
	}
	checkFrames(t, got)
	p.release("received")
	p.finish(ctx)
}

// TestBrowserSubscribe: a Go publisher serves a track; the browser
// subscribes and receives every frame intact.
func TestBrowserSubscribe(t *testing.T) {
	mux, served := goPublisher(t)
	p, _, ctx := launch(t, "subscribe", mux)
	browserReceived(t, ctx, p, served)
	p.finish(ctx)
}

// goPublisher returns a TrackMux that publishes the test track at
// broadcastPath; served gets serveTrack's result for each subscription.
func goPublisher(t *testing.T) (mux *moqt.TrackMux, served <-chan error) {
	mux = moqt.NewTrackMux()
	ch := make(chan error, 1)
	mux.PublishFunc(t.Context(), "/"+broadcastPath, func(tw *moqt.TrackWriter) {
		ch <- serveTrack(tw)
		// Keep the subscription until the browser has read everything and
		// unsubscribes.
		<-tw.Context().Done()
	})
	return mux, ch
}

// browserReceived checks the frames the page reports against what the Go
// publisher (see goPublisher) served.
func browserReceived(t *testing.T, ctx context.Context, p *page, served <-chan error) {
	t.Helper()
	var r struct{ Groups map[int][]string }
	p.next(ctx, "frames", &r)
	checkFrames(t, r.Groups)
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Go publisher: %v", err)
		}
	case <-ctx.Done():
		t.Fatal("the Go publisher was never asked for the track")
	}
}

// serveTrack writes the test track to tw.
func serveTrack(tw *moqt.TrackWriter) error {
	if tw.TrackName != trackName {
		tw.CloseWithError(moqt.SubscribeErrorTrackDoesNotExist)
		return fmt.Errorf("unexpected track %q", tw.TrackName)
	}
	for g := range numGroups {
		gw, err := tw.OpenGroup(moqt.GroupSequence(g))
		if err != nil {
			return err
		}
		for f := range numFrames {
			if err := gw.WriteFrame(moqt.NewFrame([]byte(payload(g, f)))); err != nil {
				return err
			}
		}
		if err := gw.Close(); err != nil {
			return err
		}
	}
	return nil
}

package relay

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/moqgo/moqgo/moqt"
)

// TestFetchUpstream: a FETCH the cache cannot answer (its range starts
// before what the relay received, or the relay does not carry the track)
// is forwarded to the publisher and its answer passed on; one the cache
// holds is answered by the relay alone.
func TestFetchUpstream(t *testing.T) {
	for _, scheme := range transports {
		t.Run(scheme, func(t *testing.T) {
			e := startRelay(t, Config{CacheGroups: 2})
			ctx := testContext(t)
			b := moqt.NewBroadcast()
			video := b.AddTrack("video", nil) // keeps every group written
			writeGroups := func(from, to moqt.GroupSequence) {
				for g := from; g <= to; g++ {
					gw, err := video.OpenGroup(g)
					if err != nil {
						t.Fatal(err)
					}
					for i := uint64(0); i < 3; i++ {
						if err := gw.WriteFrame(moqt.NewFrame(frame(g, 0, i, 40))); err != nil {
							t.Fatal(err)
						}
					}
					gw.Close()
				}
			}
			writeGroups(0, 2) // before the relay subscribes: never cached
			mux := moqt.NewTrackMux()
			pctx, stop := context.WithCancel(context.Background())
			defer stop()
			mux.Publish(pctx, "/live", b)
			e.dial(t, scheme, mux)
			waitAnnounced(t, ctx, e.relay, "/live")

			sess := e.dial(t, scheme, nil)
			tr, err := sess.Subscribe("/live", "video", nil)
			if err != nil {
				t.Fatal(err)
			}
			defer tr.Close()
			writeGroups(3, 6)
			for g := moqt.GroupSequence(3); g <= 6; g++ { // received, so cached (the last 2 kept)
				if got, _ := readGroup(t, ctx, tr); got != g {
					t.Fatalf("live group %d, want %d", got, g)
				}
			}

			fetch := func(name moqt.TrackName, from, to moqt.GroupSequence) ([]string, error) {
				fr, err := sess.Fetch(ctx, "/live", name, &moqt.FetchConfig{Start: moqt.Location{Group: from}, End: moqt.Location{Group: to}})
				if err != nil {
					return nil, err
				}
				defer fr.Close()
				var got []string
				for {
					o, err := fr.ReadObject()
					if err == io.EOF {
						return got, nil
					}
					if err != nil {
						return got, err
					}
					if !bytes.Equal(o.Frame.Bytes(), frame(o.Group, 0, o.ID, 40)) {
						t.Errorf("object %d/%d: wrong payload", o.Group, o.ID)
					}
					got = append(got, fmt.Sprintf("%d/%d", o.Group, o.ID))
				}
			}
			want := func(from, to moqt.GroupSequence) string {
				var w []string
				for g := from; g <= to; g++ {
					for i := 0; i < 3; i++ {
						w = append(w, fmt.Sprintf("%d/%d", g, i))
					}
				}
				return fmt.Sprint(w)
			}

			got, err := fetch("video", 0, 6) // from before the cache: the publisher's
			if err != nil || fmt.Sprint(got) != want(0, 6) {
				t.Fatalf("upstream fetch = %v, %v; want %v", got, err, want(0, 6))
			}
			if n := e.relay.Stats().UpstreamFetches; n != 1 {
				t.Errorf("UpstreamFetches = %d, want 1", n)
			}
			got, err = fetch("video", 5, 6) // cached: the relay's own answer
			if err != nil || fmt.Sprint(got) != want(5, 6) {
				t.Fatalf("cached fetch = %v, %v; want %v", got, err, want(5, 6))
			}
			if n := e.relay.Stats().UpstreamFetches; n != 1 {
				t.Errorf("after a cached fetch UpstreamFetches = %d, want still 1", n)
			}
			// A track the relay does not carry: the publisher's refusal.
			if _, err := fetch("audio", 0, 1); !isFetchError(err, moqt.SubscribeErrorTrackDoesNotExist) {
				t.Errorf("fetch of a track the publisher lacks = %v, want its TRACK_DOES_NOT_EXIST", err)
			}
			if n := e.relay.Stats().UpstreamFetches; n != 2 {
				t.Errorf("UpstreamFetches = %d, want 2", n)
			}
			// No publisher at all: the relay's own refusal.
			if _, err := sess.Fetch(ctx, "/nowhere", "x", &moqt.FetchConfig{End: moqt.Location{Group: 1}}); !isFetchError(err, moqt.SubscribeErrorTrackDoesNotExist) {
				t.Errorf("fetch without a publisher = %v, want TRACK_DOES_NOT_EXIST", err)
			}
		})
	}
}

// resettingFetcher serves FETCHes by writing two objects and, once told
// to, resetting the fetch stream with code 0x7.
type resettingFetcher struct{ reset chan struct{} }

func (resettingFetcher) ServeTrack(tw *moqt.TrackWriter) {
	tw.CloseWithError(moqt.SubscribeErrorNotSupported)
}

func (f resettingFetcher) ServeFetch(fw *moqt.FetchWriter) {
	if fw.WriteInfo(moqt.FetchInfo{End: moqt.Location{Group: 1}}) != nil {
		return
	}
	for i := uint64(0); i < 2; i++ {
		if fw.WriteObject(&moqt.TrackObject{Group: 0, Object: moqt.Object{ID: i, Frame: moqt.NewFrame(frame(0, 0, i, 40))}}) != nil {
			return
		}
	}
	select {
	case <-f.reset:
	case <-fw.Context().Done():
	}
	fw.CancelWrite(7)
}

// TestFetchUpstreamReset: a forwarded fetch whose upstream stream is reset
// after objects came through is reset downstream with the publisher's
// code, not ended as if complete.
func TestFetchUpstreamReset(t *testing.T) {
	for _, scheme := range transports {
		t.Run(scheme, func(t *testing.T) {
			e := startRelay(t, Config{})
			ctx := testContext(t)
			f := resettingFetcher{reset: make(chan struct{})}
			mux := moqt.NewTrackMux()
			pctx, stop := context.WithCancel(context.Background())
			defer stop()
			mux.Publish(pctx, "/reset", f)
			e.dial(t, scheme, mux)
			waitAnnounced(t, ctx, e.relay, "/reset")
			sess := e.dial(t, scheme, nil)
			fr, err := sess.Fetch(ctx, "/reset", "t", &moqt.FetchConfig{End: moqt.Location{Group: 1}})
			if err != nil {
				t.Fatal(err)
			}
			defer fr.Close()
			if o, err := fr.ReadObject(); err != nil || o.ID != 0 {
				t.Fatalf("first object = %v, %v", o, err)
			}
			close(f.reset) // the fetch streams are open on both hops now
			for {
				_, err := fr.ReadObject()
				if err == nil {
					continue
				}
				var ge *moqt.GroupError
				if !errors.As(err, &ge) || ge.Code != 7 {
					t.Fatalf("fetch ended with %v, want the upstream reset's code 7", err)
				}
				return
			}
		})
	}
}

package moqt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"testing"
)

// writeTrackGroups writes groups first..first+n-1 of t with frames
// "g<seq>f<i>".
func writeTrackGroups(t *testing.T, tr *Track, first GroupSequence, n, frames int) {
	t.Helper()
	for g := first; g < first+GroupSequence(n); g++ {
		gw, err := tr.OpenGroup(g)
		if err != nil {
			t.Fatalf("OpenGroup: %v", err)
		}
		for i := 0; i < frames; i++ {
			if err := gw.WriteFrame(NewFrame(fmt.Appendf(nil, "g%df%d", g, i))); err != nil {
				t.Fatalf("WriteFrame: %v", err)
			}
		}
		gw.Close()
	}
}

// serveBroadcast starts a server publishing b at /live, and a handler
// that implements neither FETCH nor TRACK_STATUS at /plain.
func serveBroadcast(t *testing.T, b *Broadcast) *testEnv {
	mux := NewTrackMux()
	mux.Publish(context.Background(), "/live", b)
	mux.PublishFunc(context.Background(), "/plain", holdTrack)
	return startServer(t, &Server{TrackMux: mux})
}

// readFetch reads a fetch to its end and returns the payloads.
func readFetch(t *testing.T, fr *FetchReader) []string {
	t.Helper()
	var out []string
	for {
		o, err := fr.ReadObject()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("ReadObject after %v: %v", out, err)
		}
		if want := fmt.Sprintf("g%df%d", o.Group, o.ID); string(o.Frame.Bytes()) != want {
			t.Errorf("object %v carries %q", o.Location(), o.Frame.Bytes())
		}
		out = append(out, string(o.Frame.Bytes()))
	}
}

func frameNames(groups []GroupSequence, objs ...uint64) []string {
	var out []string
	for _, g := range groups {
		for _, o := range objs {
			out = append(out, fmt.Sprintf("g%df%d", g, o))
		}
	}
	return out
}

func TestFetchStandalone(t *testing.T) {
	for _, scheme := range transports {
		t.Run(scheme, func(t *testing.T) {
			b := NewBroadcast()
			video := b.AddTrack("video", nil)
			writeTrackGroups(t, video, 0, 5, 3)
			env := serveBroadcast(t, b)
			sess := env.dial(t, scheme, nil)
			ctx := testContext(t)
			tests := []struct {
				name    string
				cfg     FetchConfig
				want    []string
				wantEnd Location
			}{
				{"whole groups ascending", FetchConfig{Start: Location{1, 0}, End: Location{3, 0}},
					frameNames([]GroupSequence{1, 2, 3}, 0, 1, 2), Location{3, 0}},
				{"whole groups descending", FetchConfig{GroupOrder: GroupOrderDescending, Start: Location{1, 0}, End: Location{3, 0}},
					frameNames([]GroupSequence{3, 2, 1}, 0, 1, 2), Location{3, 0}},
				{"partial groups", FetchConfig{Start: Location{1, 1}, End: Location{2, 2}},
					[]string{"g1f1", "g1f2", "g2f0", "g2f1"}, Location{2, 2}},
				{"beyond the largest object", FetchConfig{Start: Location{4, 1}, End: Location{9, 0}},
					[]string{"g4f1", "g4f2"}, Location{4, 3}},
			}
			for _, tt := range tests {
				fr, err := sess.Fetch(ctx, "/live", "video", &tt.cfg)
				if err != nil {
					t.Fatalf("%s: Fetch: %v", tt.name, err)
				}
				got := readFetch(t, fr)
				if !slices.Equal(got, tt.want) {
					t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
				}
				info := fr.Info()
				if info.End != tt.wantEnd {
					t.Errorf("%s: FETCH_OK end %v, want %v", tt.name, info.End, tt.wantEnd)
				}
				if want := resolveOrder(tt.cfg.GroupOrder); info.GroupOrder != want {
					t.Errorf("%s: FETCH_OK group order %d, want %d", tt.name, info.GroupOrder, want)
				}
				fr.Close()
			}
		})
	}
}

// fetchOnly is a publisher whose FETCH answers a test controls.
type fetchOnly struct {
	serve func(*FetchWriter)
}

func (fetchOnly) ServeTrack(tw *TrackWriter)   { tw.CloseWithError(SubscribeErrorNotSupported) }
func (h fetchOnly) ServeFetch(fw *FetchWriter) { h.serve(fw) }

func TestFetchErrors(t *testing.T) {
	for _, scheme := range transports {
		t.Run(scheme, func(t *testing.T) {
			b := NewBroadcast()
			video := b.AddTrack("video", &TrackHistory{MaxGroups: 2})
			writeTrackGroups(t, video, 0, 5, 1) // keeps groups 3 and 4
			b.AddTrack("empty", nil)
			env := serveBroadcast(t, b)
			sess := env.dial(t, scheme, nil)
			ctx := testContext(t)
			tests := []struct {
				name      string
				path      BroadcastPath
				track     TrackName
				cfg       FetchConfig
				wantCode  SubscribeErrorCode
				wantLocal bool
			}{
				{"range never published", "/live", "video", FetchConfig{Start: Location{10, 0}, End: Location{12, 0}}, FetchErrorInvalidRange, false},
				{"nothing published", "/live", "empty", FetchConfig{Start: Location{0, 0}, End: Location{1, 0}}, FetchErrorInvalidRange, false},
				{"range evicted", "/live", "video", FetchConfig{Start: Location{0, 0}, End: Location{1, 0}}, FetchErrorNoObjects, false},
				{"unknown track", "/live", "audio", FetchConfig{}, SubscribeErrorTrackDoesNotExist, false},
				{"unknown path", "/nowhere", "video", FetchConfig{}, SubscribeErrorTrackDoesNotExist, false},
				{"handler without FETCH", "/plain", "video", FetchConfig{}, SubscribeErrorNotSupported, false},
				{"end before start", "/live", "video", FetchConfig{Start: Location{3, 0}, End: Location{2, 0}}, 0, true},
			}
			for _, tt := range tests {
				fr, err := sess.Fetch(ctx, tt.path, tt.track, &tt.cfg)
				if err == nil {
					fr.Close()
					t.Errorf("%s: Fetch succeeded", tt.name)
					continue
				}
				var fe *FetchError
				if tt.wantLocal {
					if errors.As(err, &fe) {
						t.Errorf("%s: sent to the peer: %v", tt.name, err)
					}
					continue
				}
				if !errors.As(err, &fe) || fe.Code != tt.wantCode {
					t.Errorf("%s: err = %v, want FETCH_ERROR %#x", tt.name, err, uint64(tt.wantCode))
				}
			}
			// The session survives all of that.
			fr, err := sess.Fetch(ctx, "/live", "video", &FetchConfig{Start: Location{4, 0}, End: Location{4, 0}})
			if err != nil {
				t.Fatal(err)
			}
			if got := readFetch(t, fr); !slices.Equal(got, []string{"g4f0"}) {
				t.Errorf("got %v", got)
			}
		})
	}
}

func TestFetchCancel(t *testing.T) {
	for _, scheme := range transports {
		t.Run(scheme, func(t *testing.T) {
			cause := make(chan error, 1)
			mux := NewTrackMux()
			mux.Publish(context.Background(), "/slow", fetchOnly{serve: func(fw *FetchWriter) {
				payload := make([]byte, 1024)
				var err error
				for i := uint64(0); err == nil; i++ {
					// An endless range: only FETCH_CANCEL stops it.
					err = fw.WriteObject(&TrackObject{Group: GroupSequence(i / 8), Object: Object{ID: i % 8, Frame: NewFrame(payload)}})
				}
				<-fw.Context().Done()
				cause <- context.Cause(fw.Context())
			}})
			env := startServer(t, &Server{TrackMux: mux})
			sess := env.dial(t, scheme, nil)
			ctx := testContext(t)
			fr, err := sess.Fetch(ctx, "/slow", "log", &FetchConfig{End: Location{1 << 20, 0}})
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 3; i++ {
				o, err := fr.ReadObject()
				if err != nil {
					t.Fatalf("ReadObject %d: %v", i, err)
				}
				if o.Location() != (Location{0, uint64(i)}) || o.Frame.Len() != 1024 {
					t.Fatalf("object %d: %v, %d bytes", i, o.Location(), o.Frame.Len())
				}
			}
			if err := fr.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			select {
			case err := <-cause:
				if err != errFetchCancelled {
					t.Errorf("publisher saw %v, want FETCH_CANCEL", err)
				}
			case <-ctx.Done():
				t.Fatal("publisher never saw FETCH_CANCEL")
			}
			if _, err := fr.ReadObject(); err != ErrClosed {
				t.Errorf("ReadObject after Close: %v, want ErrClosed", err)
			}
		})
	}
}

func TestSubscribeJoining(t *testing.T) {
	for _, scheme := range transports {
		t.Run(scheme, func(t *testing.T) {
			b := NewBroadcast()
			video := b.AddTrack("video", nil)
			writeTrackGroups(t, video, 0, 4, 3)
			// Group 4 is in progress: two objects so far.
			g4, err := video.OpenGroup(4)
			if err != nil {
				t.Fatal(err)
			}
			g4.WriteFrame(NewFrame([]byte("g4f0")))
			g4.WriteFrame(NewFrame([]byte("g4f1")))
			env := serveBroadcast(t, b)
			sess := env.dial(t, scheme, nil)
			ctx := testContext(t)

			tr, fr, err := sess.SubscribeJoining("/live", "video", 2, nil)
			if err != nil {
				t.Fatal(err)
			}
			if info := tr.Info(); !info.ContentExists || info.LatestGroup != 4 || info.LatestObject != 1 {
				t.Errorf("SUBSCRIBE_OK info %+v, want largest 4.1", info)
			}
			// The last two groups: group 3 and group 4 up to the largest
			// object when the subscription started.
			want := append(frameNames([]GroupSequence{3}, 0, 1, 2), "g4f0", "g4f1")
			if got := readFetch(t, fr); !slices.Equal(got, want) {
				t.Errorf("joining fetch: %v, want %v", got, want)
			}
			if end := fr.Info().End; end != (Location{4, 2}) {
				t.Errorf("joining fetch end %v, want 4.2", end)
			}
			// An absolute joining fetch, and a refusal for a filter that
			// cannot be joined.
			tr2, err := sess.Subscribe("/live", "video", nil)
			if err != nil {
				t.Fatal(err)
			}
			fr2, err := tr2.JoinFrom(ctx, 2, &FetchConfig{GroupOrder: GroupOrderDescending})
			if err != nil {
				t.Fatal(err)
			}
			want = append(frameNames([]GroupSequence{3, 2}, 0, 1, 2), "g4f0", "g4f1")
			want = append(want[6:], want[:6]...)
			if got := readFetch(t, fr2); !slices.Equal(got, want) {
				t.Errorf("absolute joining fetch: %v, want %v", got, want)
			}
			tr2.Close()
			tr3, err := sess.Subscribe("/live", "video", &TrackConfig{Filter: FilterAbsoluteStart, StartGroup: 9})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tr3.Join(ctx, 1, nil); err == nil {
				t.Error("Join of an absolute-start subscription succeeded")
			}
			tr3.Close()

			// The subscription continues exactly where the fetch ended.
			g4.WriteFrame(NewFrame([]byte("g4f2")))
			g4.Close()
			writeTrackGroups(t, video, 5, 1, 2)
			video.Close()
			got := groupsUntilEOF(t, ctx, tr)
			if !slices.Equal(got[4], []string{"g4f2"}) || !slices.Equal(got[5], []string{"g5f0", "g5f1"}) || len(got) != 2 {
				t.Errorf("subscription delivered %v, want group 4 from object 2 and group 5", got)
			}
			// After the end of the track, FETCH_OK says so.
			fr, err = sess.Fetch(ctx, "/live", "video", &FetchConfig{Start: Location{5, 0}, End: Location{9, 0}})
			if err != nil {
				t.Fatal(err)
			}
			readFetch(t, fr)
			if info := fr.Info(); !info.EndOfTrack || info.End != (Location{5, 2}) {
				t.Errorf("fetch after the end: %+v, want end of track at 5.2", info)
			}

		})
	}
}

// TestFetchBadObjects checks both ends' guards: the publisher refuses to
// write objects out of the fetch's order, and the fetcher stops a fetch
// whose object exceeds its MaxFrameSize, cancelling it.
func TestFetchBadObjects(t *testing.T) {
	for _, scheme := range transports {
		t.Run(scheme, func(t *testing.T) {
			outOfOrder := make(chan error, 1)
			cause := make(chan error, 1)
			mux := NewTrackMux()
			mux.Publish(context.Background(), "/order", fetchOnly{serve: func(fw *FetchWriter) {
				fw.WriteObject(&TrackObject{Group: 1, Object: Object{ID: 0, Frame: NewFrame([]byte("g1f0"))}})
				outOfOrder <- fw.WriteObject(&TrackObject{Group: 0, Object: Object{ID: 5, Frame: NewFrame([]byte("g0f5"))}})
			}})
			mux.Publish(context.Background(), "/big", fetchOnly{serve: func(fw *FetchWriter) {
				fw.WriteObject(&TrackObject{Object: Object{Frame: NewFrame(make([]byte, 2048))}})
				<-fw.Context().Done()
				cause <- context.Cause(fw.Context())
			}})
			env := startServer(t, &Server{TrackMux: mux})
			env.client.Config = &Config{MaxFrameSize: 1024}
			sess := env.dial(t, scheme, nil)
			ctx := testContext(t)

			fr, err := sess.Fetch(ctx, "/order", "t", &FetchConfig{End: Location{Group: 1}})
			if err != nil {
				t.Fatal(err)
			}
			if err := <-outOfOrder; err == nil {
				t.Error("publisher wrote group 0 after group 1 in an ascending fetch")
			}
			if got := readFetch(t, fr); !slices.Equal(got, []string{"g1f0"}) {
				t.Errorf("got %v", got)
			}

			fr, err = sess.Fetch(ctx, "/big", "t", nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := fr.ReadObject(); err != ErrFrameTooLarge {
				t.Errorf("ReadObject of an oversized object: %v, want ErrFrameTooLarge", err)
			}
			select {
			case err := <-cause:
				if err != errFetchCancelled {
					t.Errorf("publisher saw %v, want FETCH_CANCEL", err)
				}
			case <-ctx.Done():
				t.Fatal("oversized fetch was not cancelled")
			}
			fr.Close()
		})
	}
}

// TestFetchConcurrent runs many FETCHes and TRACK_STATUS requests at once
// against a publisher that allows few concurrent requests: requests wait for
// MAX_REQUEST_ID credit, and credit granted from concurrent goroutines
// reaches the wire in increasing order (a decrease would close the session).
func TestFetchConcurrent(t *testing.T) {
	for _, scheme := range transports {
		t.Run(scheme, func(t *testing.T) {
			b := NewBroadcast()
			writeTrackGroups(t, b.AddTrack("video", nil), 0, 4, 2)
			mux := NewTrackMux()
			mux.Publish(context.Background(), "/live", b)
			env := startServer(t, &Server{TrackMux: mux, Config: &Config{MaxRequests: 3}})
			sess := env.dial(t, scheme, nil)
			ctx := testContext(t)
			errs := make(chan error, 16)
			for w := 0; w < 16; w++ {
				go func() {
					for i := 0; i < 20; i++ {
						g := GroupSequence((w + i) % 4)
						if w%2 == 0 {
							if _, err := sess.TrackStatus(ctx, "/live", "video"); err != nil {
								errs <- err
								return
							}
							continue
						}
						fr, err := sess.Fetch(ctx, "/live", "video", &FetchConfig{Start: Location{Group: g}, End: Location{Group: g}})
						if err != nil {
							errs <- err
							return
						}
						for {
							if _, err := fr.ReadObject(); err != nil {
								if err != io.EOF {
									errs <- err
									return
								}
								break
							}
						}
					}
					errs <- nil
				}()
			}
			for w := 0; w < 16; w++ {
				if err := <-errs; err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

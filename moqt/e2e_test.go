package moqt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"
	"testing"
	"time"
)

// holdTrack accepts a subscription and keeps it open until the subscriber
// leaves.
func holdTrack(tw *TrackWriter) {
	_ = tw.WriteInfo(Info{})
	<-tw.Context().Done()
}

func TestManyTracksAndSubscribers(t *testing.T) {
	for _, scheme := range transports {
		t.Run(scheme, func(t *testing.T) {
			mux := NewTrackMux()
			mux.PublishFunc(context.Background(), "/room", func(tw *TrackWriter) {
				for g := GroupSequence(0); g < 4; g++ {
					gw, err := tw.OpenGroup(g)
					if err != nil {
						t.Errorf("OpenGroup: %v", err)
						return
					}
					for i := 0; i < 5; i++ {
						gw.WriteFrame(NewFrame([]byte(fmt.Sprintf("%s/%d/%d", tw.TrackName, g, i))))
					}
					gw.Close()
				}
				tw.Close()
			})
			env := startServer(t, &Server{TrackMux: mux})
			ctx := testContext(t)
			var wg sync.WaitGroup
			for c := 0; c < 2; c++ {
				sess := env.dial(t, scheme, nil)
				for _, name := range []TrackName{"audio", "video", "chat"} {
					wg.Add(1)
					go func() {
						defer wg.Done()
						tr, err := sess.Subscribe("/room", name, nil)
						if err != nil {
							t.Errorf("Subscribe %s: %v", name, err)
							return
						}
						seen := map[GroupSequence]bool{}
						for {
							gr, err := tr.AcceptGroup(ctx)
							if err == io.EOF {
								break
							}
							if err != nil {
								t.Errorf("AcceptGroup: %v", err)
								return
							}
							for i := 0; ; i++ {
								f, err := gr.ReadFrame()
								if err == io.EOF {
									break
								}
								want := fmt.Sprintf("%s/%d/%d", name, gr.GroupSequence(), i)
								if err != nil || string(f.Bytes()) != want {
									t.Errorf("ReadFrame = %q, %v; want %q", f.Bytes(), err, want)
									return
								}
							}
							seen[gr.GroupSequence()] = true
						}
						if len(seen) != 4 {
							t.Errorf("%s: got groups %v, want 4", name, seen)
						}
					}()
				}
			}
			wg.Wait()
		})
	}
}

func TestSubscribeFilters(t *testing.T) {
	// The publisher's track has groups 0..9 and is "at" group 5. Latest
	// object and next group start are the handler's business; absolute
	// filters are enforced by OpenGroup.
	const current = 5
	handler := func(tw *TrackWriter) {
		defer tw.Close()
		tw.WriteInfo(Info{ContentExists: true, LatestGroup: current})
		cfg := tw.TrackConfig()
		switch cfg.Filter {
		case FilterLatestObject:
			writeGroups(tw, current, 2, 1)
		case FilterNextGroupStart:
			writeGroups(tw, current+1, 2, 1)
		default:
			writeGroups(tw, 0, 10, 1)
		}
	}
	tests := []struct {
		name string
		cfg  TrackConfig
		want []GroupSequence
	}{
		{"latest object", TrackConfig{Filter: FilterLatestObject}, []GroupSequence{5, 6}},
		{"next group start (late join)", TrackConfig{Filter: FilterNextGroupStart}, []GroupSequence{6, 7}},
		{"absolute start", TrackConfig{Filter: FilterAbsoluteStart, StartGroup: 7}, []GroupSequence{7, 8, 9}},
		{"absolute range", TrackConfig{Filter: FilterAbsoluteRange, StartGroup: 2, EndGroup: 4}, []GroupSequence{2, 3, 4}},
	}
	for _, scheme := range transports {
		t.Run(scheme, func(t *testing.T) {
			mux := NewTrackMux()
			mux.PublishFunc(context.Background(), "/vod", handler)
			env := startServer(t, &Server{TrackMux: mux})
			sess := env.dial(t, scheme, nil)
			ctx := testContext(t)
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					tr, err := sess.Subscribe("/vod", "v", &tt.cfg)
					if err != nil {
						t.Fatal(err)
					}
					if info := tr.Info(); !info.ContentExists || info.LatestGroup != current {
						t.Errorf("Info = %+v", info)
					}
					var got []GroupSequence
					for {
						gr, err := tr.AcceptGroup(ctx)
						if err == io.EOF {
							break
						}
						if err != nil {
							t.Fatal(err)
						}
						f, err := gr.ReadFrame()
						if err != nil {
							t.Fatal(err)
						}
						// Each group starts at its first object: a join point.
						if want := fmt.Sprintf("g%df0", gr.GroupSequence()); string(f.Bytes()) != want {
							t.Errorf("first frame %q, want %q", f.Bytes(), want)
						}
						got = append(got, gr.GroupSequence())
					}
					sort.Slice(got, func(i, j int) bool { return got[i] < got[j] })
					if fmt.Sprint(got) != fmt.Sprint(tt.want) {
						t.Errorf("groups %v, want %v", got, tt.want)
					}
				})
			}
		})
	}
}

func TestLayeredSubgroups(t *testing.T) {
	for _, scheme := range transports {
		t.Run(scheme, func(t *testing.T) {
			mux := NewTrackMux()
			mux.PublishFunc(context.Background(), "/svc", func(tw *TrackWriter) {
				defer tw.Close()
				base, err := tw.OpenSubgroup(0, 0, 10)
				if err != nil {
					t.Error(err)
					return
				}
				enh, err := tw.OpenSubgroup(0, 1, 200)
				if err != nil {
					t.Error(err)
					return
				}
				// LOC-style temporal layering: even IDs in the base layer,
				// odd IDs in the enhancement layer.
				for id := uint64(0); id < 8; id++ {
					gw := base
					if id%2 == 1 {
						gw = enh
					}
					if err := gw.WriteObject(&Object{ID: id, Frame: NewFrame([]byte{byte(id)})}); err != nil {
						t.Error(err)
					}
				}
				base.Close()
				enh.Close()
			})
			env := startServer(t, &Server{TrackMux: mux})
			sess := env.dial(t, scheme, nil)
			ctx := testContext(t)
			tr, err := sess.Subscribe("/svc", "video", nil)
			if err != nil {
				t.Fatal(err)
			}
			layers := map[uint64][]uint64{}
			prio := map[uint64]uint8{}
			for i := 0; i < 2; i++ {
				gr, err := tr.AcceptGroup(ctx)
				if err != nil {
					t.Fatal(err)
				}
				for {
					o, err := gr.ReadObject()
					if err == io.EOF {
						break
					}
					if err != nil {
						t.Fatal(err)
					}
					if o.Frame.Bytes()[0] != byte(o.ID) {
						t.Errorf("object %d payload %v", o.ID, o.Frame.Bytes())
					}
					layers[gr.SubgroupID()] = append(layers[gr.SubgroupID()], o.ID)
				}
				prio[gr.SubgroupID()] = gr.PublisherPriority()
			}
			if fmt.Sprint(layers[0]) != "[0 2 4 6]" || fmt.Sprint(layers[1]) != "[1 3 5 7]" {
				t.Errorf("layers %v", layers)
			}
			if prio[0] != 10 || prio[1] != 200 {
				t.Errorf("priorities %v", prio)
			}
		})
	}
}

func TestExtensionsAndStatus(t *testing.T) {
	for _, scheme := range transports {
		t.Run(scheme, func(t *testing.T) {
			exts := []Extension{{Type: 2, Value: 7}, {Type: 3, Bytes: []byte("trace-id")}}
			mux := NewTrackMux()
			mux.PublishFunc(context.Background(), "/x", func(tw *TrackWriter) {
				defer tw.Close()
				gw, err := tw.OpenGroup(3)
				if err != nil {
					t.Error(err)
					return
				}
				gw.WriteObject(&Object{ID: 0, Extensions: exts, Frame: NewFrame([]byte("a"))})
				gw.WriteObject(&Object{ID: 2, Frame: NewFrame([]byte("b"))})
				gw.WriteObject(&Object{ID: 3, Status: StatusEndOfGroup})
				gw.Close()
				gw, _ = tw.OpenGroup(4)
				gw.WriteObject(&Object{ID: 0, Status: StatusEndOfTrack})
				gw.Close()
			})
			env := startServer(t, &Server{TrackMux: mux})
			sess := env.dial(t, scheme, nil)
			ctx := testContext(t)
			tr, err := sess.Subscribe("/x", "t", nil)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 2; i++ {
				gr, err := tr.AcceptGroup(ctx)
				if err != nil {
					t.Fatal(err)
				}
				switch gr.GroupSequence() {
				case 3:
					o, err := gr.ReadObject()
					if err != nil || o.ID != 0 || string(o.Frame.Bytes()) != "a" || len(o.Extensions) != 2 ||
						o.Extensions[0].Value != 7 || !bytes.Equal(o.Extensions[1].Bytes, []byte("trace-id")) {
						t.Fatalf("object 0 = %+v, %v", o, err)
					}
					f, err := gr.ReadFrame()
					if err != nil || string(f.Bytes()) != "b" {
						t.Fatalf("frame = %v, %v", f, err)
					}
					if _, err := gr.ReadFrame(); err != io.EOF {
						t.Fatalf("after end of group: %v", err)
					}
				case 4:
					o, err := gr.ReadObject()
					if err != nil || o.Status != StatusEndOfTrack || o.Frame != nil {
						t.Fatalf("end of track object = %+v, %v", o, err)
					}
				}
			}
		})
	}
}

func TestSubscribeErrors(t *testing.T) {
	for _, scheme := range transports {
		t.Run(scheme, func(t *testing.T) {
			mux := NewTrackMux()
			mux.PublishFunc(context.Background(), "/auth", func(tw *TrackWriter) {
				tw.CloseWithError(SubscribeErrorUnauthorized)
			})
			mux.PublishFunc(context.Background(), "/expire", func(tw *TrackWriter) {
				gw, _ := tw.OpenGroup(0)
				gw.WriteFrame(NewFrame([]byte("x")))
				gw.Close()
				tw.CloseWithError(DoneExpired)
			})
			env := startServer(t, &Server{TrackMux: mux})
			sess := env.dial(t, scheme, nil)
			ctx := testContext(t)

			var se *SubscribeError
			_, err := sess.Subscribe("/nope", "t", nil)
			if !errors.As(err, &se) || se.Code != SubscribeErrorTrackDoesNotExist {
				t.Errorf("unknown track: %v", err)
			}
			_, err = sess.Subscribe("/auth", "t", nil)
			if !errors.As(err, &se) || se.Code != SubscribeErrorUnauthorized {
				t.Errorf("refused track: %v", err)
			}
			tr, err := sess.Subscribe("/expire", "t", nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tr.AcceptGroup(ctx); err != nil {
				t.Fatal(err)
			}
			_, err = tr.AcceptGroup(ctx)
			if !errors.As(err, &se) || !se.Done || se.Code != DoneExpired {
				t.Errorf("after PUBLISH_DONE(EXPIRED): %v", err)
			}
		})
	}
}

func TestCancelAndClose(t *testing.T) {
	for _, scheme := range transports {
		t.Run(scheme, func(t *testing.T) {
			pubErr := make(chan error, 3)
			accepted := make(chan struct{})
			mux := NewTrackMux()
			mux.PublishFunc(context.Background(), "/c", func(tw *TrackWriter) {
				switch tw.TrackName {
				case "stop": // the subscriber stops the group
					gw, _ := tw.OpenGroup(0)
					for {
						if err := gw.WriteFrame(NewFrame(make([]byte, 1024))); err != nil {
							pubErr <- err
							return
						}
						select {
						case <-gw.Context().Done():
						case <-time.After(time.Millisecond):
						}
					}
				case "reset": // the publisher resets the group
					gw, _ := tw.OpenGroup(0)
					gw.WriteFrame(NewFrame([]byte("partial")))
					<-accepted // a stream reset before its header arrives is never seen
					gw.CancelWrite(GroupErrorDeliveryTimeout)
					<-tw.Context().Done()
				case "unsub": // the subscriber unsubscribes
					tw.WriteInfo(Info{})
					<-tw.Context().Done()
					pubErr <- context.Cause(tw.Context())
				}
			})
			env := startServer(t, &Server{TrackMux: mux})
			sess := env.dial(t, scheme, nil)
			ctx := testContext(t)

			tr, err := sess.Subscribe("/c", "stop", nil)
			if err != nil {
				t.Fatal(err)
			}
			gr, err := tr.AcceptGroup(ctx)
			if err != nil {
				t.Fatal(err)
			}
			gr.CancelRead(GroupErrorCancelled)
			var ge *GroupError
			if err := <-pubErr; !errors.As(err, &ge) || ge.Code != GroupErrorCancelled || !ge.Remote {
				t.Errorf("publisher write after STOP_SENDING: %v", err)
			}
			tr.Close()

			tr, err = sess.Subscribe("/c", "reset", nil)
			if err != nil {
				t.Fatal(err)
			}
			gr, err = tr.AcceptGroup(ctx)
			if err != nil {
				t.Fatal(err)
			}
			close(accepted)
			for {
				_, err := gr.ReadFrame()
				if err == nil {
					continue
				}
				if !errors.As(err, &ge) || ge.Code != GroupErrorDeliveryTimeout {
					t.Errorf("read after reset: %v", err)
				}
				break
			}
			tr.Close()

			tr, err = sess.Subscribe("/c", "unsub", nil)
			if err != nil {
				t.Fatal(err)
			}
			tr.Close()
			if err := <-pubErr; !errors.Is(err, errUnsubscribed) {
				t.Errorf("publisher context cause after UNSUBSCRIBE: %v", err)
			}
			if _, err := tr.AcceptGroup(ctx); !errors.Is(err, ErrClosed) {
				t.Errorf("AcceptGroup after Close: %v", err)
			}
		})
	}
}

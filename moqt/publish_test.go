package moqt

import (
	"context"
	"errors"
	"io"
	"slices"
	"testing"
)

func TestPublish(t *testing.T) {
	for _, scheme := range transports {
		t.Run(scheme, func(t *testing.T) {
			type result struct {
				path   BroadcastPath
				name   TrackName
				info   Info
				groups [][]string
				err    error
			}
			results := make(chan result, 1)
			mux := NewTrackMux()
			mux.HandlePublishFunc("/ingest", func(tr *TrackReader) {
				r := result{path: tr.BroadcastPath, name: tr.TrackName, info: tr.Info()}
				for {
					gr, err := tr.AcceptGroup(context.Background())
					if err != nil {
						if err != io.EOF {
							r.err = err
						}
						break
					}
					var frames []string
					for {
						f, err := gr.ReadFrame()
						if err != nil {
							break
						}
						frames = append(frames, string(f.Bytes()))
					}
					r.groups = append(r.groups, frames)
				}
				results <- r
			})
			env := startServer(t, &Server{TrackMux: mux})
			sess := env.dial(t, scheme, nil)
			ctx := testContext(t)

			tw, err := sess.Publish(ctx, "/ingest/cam1", "video", &Info{ContentExists: true, LatestGroup: 6, LatestObject: 2})
			if err != nil {
				t.Fatal(err)
			}
			if cfg := tw.TrackConfig(); cfg.Paused || cfg.Filter != FilterLatestObject {
				t.Errorf("PUBLISH_OK config %+v", cfg)
			}
			// One group at a time: each is read before the next starts, so
			// the order is known.
			if err := writeGroups(tw, 7, 2, 2); err != nil {
				t.Fatal(err)
			}
			if err := tw.Close(); err != nil {
				t.Fatal(err)
			}
			var r result
			select {
			case r = <-results:
			case <-ctx.Done():
				t.Fatal("the published track never ended at the receiver")
			}
			if r.err != nil {
				t.Fatalf("receiver: %v", r.err)
			}
			if r.path != "/ingest/cam1" || r.name != "video" {
				t.Errorf("receiver got %s %s", r.path, r.name)
			}
			if !r.info.ContentExists || r.info.LatestGroup != 6 || r.info.LatestObject != 2 {
				t.Errorf("receiver info %+v", r.info)
			}
			slices.SortFunc(r.groups, func(a, b []string) int { return slices.Compare(a, b) })
			want := [][]string{{"g7f0", "g7f1"}, {"g8f0", "g8f1"}}
			if !slices.EqualFunc(r.groups, want, slices.Equal) {
				t.Errorf("receiver read %v, want %v", r.groups, want)
			}

			// A path without a PublishHandler is refused; the session
			// carries on.
			_, err = sess.Publish(ctx, "/elsewhere", "video", nil)
			var se *SubscribeError
			if !errors.As(err, &se) || se.Code != SubscribeErrorTrackDoesNotExist {
				t.Errorf("Publish to an unhandled path: %v, want PUBLISH_ERROR UNINTERESTED (0x4)", err)
			}
			if _, err := sess.TrackStatus(ctx, "/nowhere", "x"); !errors.As(err, &se) {
				t.Errorf("session unusable after PUBLISH_ERROR: %v", err)
			}
		})
	}
}

func TestPublishUnsubscribe(t *testing.T) {
	for _, scheme := range transports {
		t.Run(scheme, func(t *testing.T) {
			mux := NewTrackMux()
			mux.HandlePublishFunc("/ingest", func(tr *TrackReader) {
				// Not interested after all: returning unsubscribes.
			})
			env := startServer(t, &Server{TrackMux: mux, Config: &Config{MaxRequests: 2}})
			sess := env.dial(t, scheme, nil)
			ctx := testContext(t)
			tw, err := sess.Publish(ctx, "/ingest", "chat", nil)
			if err != nil {
				t.Fatal(err)
			}
			select {
			case <-tw.Context().Done():
			case <-ctx.Done():
				t.Fatal("UNSUBSCRIBE never reached the publisher")
			}
			if _, err := tw.OpenGroup(0); err == nil {
				t.Error("OpenGroup after UNSUBSCRIBE succeeded")
			}
			tw.Close()
			// The receiver granted the request back: more PUBLISHes than
			// its MaxRequests go through.
			for i := 0; i < 4; i++ {
				tw, err := sess.Publish(ctx, "/ingest", "chat", nil)
				if err != nil {
					t.Fatalf("Publish %d: %v", i, err)
				}
				<-tw.Context().Done()
				tw.Close()
			}
		})
	}
}

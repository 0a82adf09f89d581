package moqt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
)

// readGroups reads n groups of the track and returns their frames as
// strings, one slice per group.
func readGroups(t *testing.T, ctx context.Context, tr *TrackReader, n int) [][]string {
	t.Helper()
	var out [][]string
	for i := 0; i < n; i++ {
		gr, err := tr.AcceptGroup(ctx)
		if err != nil {
			t.Fatalf("AcceptGroup %d: %v", i, err)
		}
		var frames []string
		for {
			f, err := gr.ReadFrame()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("ReadFrame: %v", err)
			}
			frames = append(frames, string(f.Bytes()))
		}
		out = append(out, frames)
	}
	return out
}

// writeGroups writes groups first..first+n-1 with frames "g<seq>f<i>".
func writeGroups(tw *TrackWriter, first GroupSequence, n, frames int) error {
	for g := first; g < first+GroupSequence(n); g++ {
		gw, err := tw.OpenGroup(g)
		if errors.Is(err, ErrOutOfRange) {
			continue
		}
		if err != nil {
			return err
		}
		for i := 0; i < frames; i++ {
			if err := gw.WriteFrame(NewFrame([]byte(fmt.Sprintf("g%df%d", g, i)))); err != nil {
				return err
			}
		}
		if err := gw.Close(); err != nil {
			return err
		}
	}
	return nil
}

func TestSubscribeServerTrack(t *testing.T) {
	for _, scheme := range transports {
		t.Run(scheme, func(t *testing.T) {
			mux := NewTrackMux()
			mux.PublishFunc(context.Background(), "/live", func(tw *TrackWriter) {
				if err := writeGroups(tw, 0, 3, 2); err != nil {
					t.Errorf("write: %v", err)
				}
				tw.Close()
			})
			env := startServer(t, &Server{TrackMux: mux})
			sess := env.dial(t, scheme, nil)
			ctx := testContext(t)
			tr, err := sess.Subscribe("/live", "video", nil)
			if err != nil {
				t.Fatal(err)
			}
			got := readGroups(t, ctx, tr, 3)
			for g, frames := range got {
				// Groups may arrive in any order: they are separate streams.
				if len(frames) != 2 {
					t.Errorf("group %d: %v", g, frames)
				}
			}
			if _, err := tr.AcceptGroup(ctx); err != io.EOF {
				t.Errorf("after PUBLISH_DONE: %v, want io.EOF", err)
			}
		})
	}
}

package moqt

import (
	"context"
	"io"
	"testing"
)

// acceptOrder accepts the groups of tr until its end and returns their
// sequences in the order AcceptGroup returned them.
func acceptOrder(t *testing.T, ctx context.Context, tr *TrackReader) []GroupSequence {
	t.Helper()
	var got []GroupSequence
	for {
		gr, err := tr.AcceptGroup(ctx)
		if err == io.EOF {
			return got
		}
		if err != nil {
			t.Fatalf("AcceptGroup after %v: %v", got, err)
		}
		got = append(got, gr.GroupSequence())
		for {
			if _, err := gr.ReadFrame(); err != nil {
				break
			}
		}
	}
}

// checkOpeningOrder fails unless got is 0..n-1 in order.
func checkOpeningOrder(t *testing.T, got []GroupSequence, n int) {
	t.Helper()
	if len(got) != n {
		t.Fatalf("accepted %d groups, want %d: %v", len(got), n, got)
	}
	for i, g := range got {
		if g != GroupSequence(i) {
			t.Fatalf("AcceptGroup returned group %d at position %d, want opening order: %v", g, i, got)
		}
	}
}

// orderGroups is how many one-object groups the order tests write back to
// back.
const orderGroups = 50

// TestAcceptGroupOpeningOrder: on an uncongested session, one-object
// groups written back to back reach AcceptGroup in the order they were
// opened, through a Track and through a TrackWriter, on both transports.
func TestAcceptGroupOpeningOrder(t *testing.T) {
	for _, scheme := range transports {
		t.Run(scheme+"/Track", func(t *testing.T) {
			b := NewBroadcast()
			video := b.AddTrack("video", nil)
			env := serveBroadcast(t, b)
			ctx := testContext(t)
			tr, err := env.dial(t, scheme, nil).Subscribe("/live", "video", nil)
			if err != nil {
				t.Fatal(err)
			}
			writeTrackGroups(t, video, 0, orderGroups, 1)
			video.Close()
			checkOpeningOrder(t, acceptOrder(t, ctx, tr), orderGroups)
		})
		t.Run(scheme+"/TrackWriter", func(t *testing.T) {
			mux := NewTrackMux()
			mux.PublishFunc(context.Background(), "/w", func(tw *TrackWriter) {
				if err := writeGroups(tw, 0, orderGroups, 1); err != nil {
					t.Error(err)
				}
				if err := tw.Close(); err != nil {
					t.Error(err)
				}
			})
			env := startServer(t, &Server{TrackMux: mux})
			ctx := testContext(t)
			tr, err := env.dial(t, scheme, nil).Subscribe("/w", "t", nil)
			if err != nil {
				t.Fatal(err)
			}
			checkOpeningOrder(t, acceptOrder(t, ctx, tr), orderGroups)
		})
	}
}

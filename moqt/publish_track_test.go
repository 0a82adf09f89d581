package moqt

import (
	"context"
	"errors"
	"io"
	"slices"
	"testing"

	"github.com/moqgo/moqgo/internal/wire"
	"github.com/quic-go/quic-go"
)

// groupsUntilEOF reads the track to its end and returns the groups' frames.
func groupsUntilEOF(t *testing.T, ctx context.Context, tr *TrackReader) map[GroupSequence][]string {
	t.Helper()
	got := map[GroupSequence][]string{}
	for {
		gr, err := tr.AcceptGroup(ctx)
		if err == io.EOF {
			return got
		}
		if err != nil {
			t.Fatalf("AcceptGroup: %v", err)
		}
		got[gr.GroupSequence()] = nil
		for {
			f, err := gr.ReadFrame()
			if err != nil {
				break
			}
			got[gr.GroupSequence()] = append(got[gr.GroupSequence()], string(f.Bytes()))
		}
	}
}

func sortedKeys(m map[GroupSequence][]string) []GroupSequence {
	var out []GroupSequence
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestTrackFanout(t *testing.T) {
	for _, scheme := range transports {
		t.Run(scheme, func(t *testing.T) {
			b := NewBroadcast()
			video := b.AddTrack("video", nil)
			env := serveBroadcast(t, b)
			ctx := testContext(t)
			var readers []*TrackReader
			for i := 0; i < 3; i++ {
				tr, err := env.dial(t, scheme, nil).Subscribe("/live", "video", nil)
				if err != nil {
					t.Fatal(err)
				}
				readers = append(readers, tr)
			}
			if n := video.Subscribers(); n != 3 {
				t.Fatalf("%d subscribers, want 3", n)
			}
			writeTrackGroups(t, video, 0, 3, 2)
			video.Close()
			for i, tr := range readers {
				got := groupsUntilEOF(t, ctx, tr)
				for g := GroupSequence(0); g < 3; g++ {
					if !slices.Equal(got[g], frameNames([]GroupSequence{g}, 0, 1)) {
						t.Errorf("subscriber %d, group %d: %v", i, g, got[g])
					}
				}
			}
		})
	}
}

// TestSubscribeUpdatePause pauses and resumes a subscription: the publisher
// really stops (OpenGroup fails with ErrPaused) and sees the new config on
// Updated.
func TestSubscribeUpdatePause(t *testing.T) {
	for _, scheme := range transports {
		t.Run(scheme, func(t *testing.T) {
			steps := make(chan string, 4)
			mux := NewTrackMux()
			mux.PublishFunc(context.Background(), "/cam", func(tw *TrackWriter) {
				defer tw.Close()
				tw.WriteInfo(Info{})
				if _, err := tw.OpenGroup(0); err != ErrPaused {
					steps <- "OpenGroup while paused: " + errString(err)
					return
				}
				steps <- "refused"
				select {
				case <-tw.Updated():
				case <-tw.Context().Done():
					steps <- "never updated"
					return
				}
				if c := tw.TrackConfig(); c.Paused || c.Priority != 7 {
					steps <- "updated config wrong"
					return
				}
				if err := writeGroups(tw, 1, 1, 1); err != nil {
					steps <- "write after resume: " + err.Error()
				}
			})
			env := startServer(t, &Server{TrackMux: mux})
			sess := env.dial(t, scheme, nil)
			ctx := testContext(t)
			tr, err := sess.Subscribe("/cam", "video", &TrackConfig{Paused: true})
			if err != nil {
				t.Fatal(err)
			}
			if s := <-steps; s != "refused" {
				t.Fatal(s)
			}
			if err := tr.Update(&TrackConfig{Priority: 7}); err != nil {
				t.Fatal(err)
			}
			got := groupsUntilEOF(t, ctx, tr)
			if len(got) != 1 || !slices.Equal(got[1], []string{"g1f0"}) {
				t.Errorf("after resume: %v", got)
			}
			select {
			case s := <-steps:
				t.Error(s)
			default:
			}
			// Updating a closed subscription is an error and sends nothing.
			if err := tr.Update(&TrackConfig{}); err != ErrClosed {
				t.Errorf("Update after the end: %v, want ErrClosed", err)
			}
		})
	}
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// TestTrackPausedAndNarrowed checks that a Track honours a subscription's
// Forward state and narrowed range.
func TestTrackPausedAndNarrowed(t *testing.T) {
	for _, scheme := range transports {
		t.Run(scheme, func(t *testing.T) {
			b := NewBroadcast()
			video := b.AddTrack("video", nil)
			env := serveBroadcast(t, b)
			sess := env.dial(t, scheme, nil)
			ctx := testContext(t)
			// sync waits until the publisher handled every control message
			// sent so far: its TRACK_STATUS_OK comes after them.
			sync := func() {
				if _, err := sess.TrackStatus(ctx, "/live", "video"); err != nil {
					t.Fatal(err)
				}
			}
			paused, err := sess.Subscribe("/live", "video", &TrackConfig{Paused: true})
			if err != nil {
				t.Fatal(err)
			}
			narrowed, err := sess.Subscribe("/live", "video", nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := narrowed.Update(&TrackConfig{Filter: FilterAbsoluteRange, StartGroup: 1, EndGroup: 2}); err != nil {
				t.Fatal(err)
			}
			sync()
			writeTrackGroups(t, video, 0, 2, 1) // groups 0, 1: not forwarded to paused
			if err := paused.Update(&TrackConfig{}); err != nil {
				t.Fatal(err)
			}
			sync()
			writeTrackGroups(t, video, 2, 2, 1) // groups 2, 3
			video.Close()
			if got := sortedKeys(groupsUntilEOF(t, ctx, paused)); !slices.Equal(got, []GroupSequence{2, 3}) {
				t.Errorf("paused until group 2: got groups %v, want [2 3]", got)
			}
			if got := sortedKeys(groupsUntilEOF(t, ctx, narrowed)); !slices.Equal(got, []GroupSequence{1, 2}) {
				t.Errorf("narrowed to 1..2: got groups %v, want [1 2]", got)
			}
		})
	}
}

func TestSubscribeUpdateNarrowOnly(t *testing.T) {
	mux := NewTrackMux()
	mux.PublishFunc(context.Background(), "/cam", holdTrack)
	env := startServer(t, &Server{TrackMux: mux})
	sess := env.dial(t, "moqt", nil)
	tr, err := sess.Subscribe("/cam", "video", &TrackConfig{Filter: FilterAbsoluteRange, StartGroup: 5, EndGroup: 10})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	bad := []TrackConfig{
		{Filter: FilterAbsoluteRange, StartGroup: 4, EndGroup: 10},
		{Filter: FilterAbsoluteRange, StartGroup: 5, EndGroup: 11},
		{Filter: FilterAbsoluteRange, StartGroup: 8, EndGroup: 7},
	}
	for _, c := range bad {
		if err := tr.Update(&c); err == nil {
			t.Errorf("Update(%+v) widened the subscription", c)
		}
	}
	if err := tr.Update(&TrackConfig{Filter: FilterAbsoluteRange, StartGroup: 6, EndGroup: 9}); err != nil {
		t.Fatal(err)
	}
	// The publisher accepted it: the session is still up.
	if _, err := sess.TrackStatus(testContext(t), "/cam", "video"); !errors.As(err, new(*SubscribeError)) {
		t.Errorf("session after valid update: %v", err)
	}
	if c := tr.TrackConfig(); c.StartGroup != 6 || c.EndGroup != 9 {
		t.Errorf("config %+v", c)
	}
}

// TestMalformedUpdatesAndJoins checks that a peer breaking the rules of
// SUBSCRIBE_UPDATE or joining FETCH is closed with PROTOCOL_VIOLATION.
func TestMalformedUpdatesAndJoins(t *testing.T) {
	mux := NewTrackMux()
	mux.PublishFunc(context.Background(), "/cam", holdTrack)
	env := startServer(t, &Server{TrackMux: mux})
	ctx := testContext(t)
	subscribe := &wire.Subscribe{RequestID: 0, TrackNamespace: wire.Namespace{"cam"}, TrackName: "video",
		GroupOrder: wire.GroupOrderAscending, Forward: true, FilterType: wire.FilterAbsoluteRange,
		Start: wire.Location{Group: 5}, EndGroup: 10}
	tests := []struct {
		name string
		msg  wire.Message
	}{
		{"update moves the start back", &wire.SubscribeUpdate{RequestID: 2, SubscriptionRequestID: 0, Start: wire.Location{Group: 4}, EndGroup: 11, Forward: true}},
		{"update widens the end", &wire.SubscribeUpdate{RequestID: 2, SubscriptionRequestID: 0, Start: wire.Location{Group: 5}, EndGroup: 12, Forward: true}},
		{"update of a request that never existed", &wire.SubscribeUpdate{RequestID: 2, SubscriptionRequestID: 40, Forward: true}},
		{"joining fetch of an absolute subscription", &wire.Fetch{RequestID: 2, GroupOrder: wire.GroupOrderAscending, FetchType: wire.FetchRelativeJoining, JoiningRequestID: 0, JoiningStart: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, err := env.dialRaw(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.CloseWithError(0, "")
			str, err := conn.OpenStreamSync(ctx)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := wire.AppendMessage(nil, &wire.ClientSetup{SupportedVersions: []wire.Version{wire.Draft14}}, wire.Draft14)
			b, _ = wire.AppendMessage(b, subscribe, wire.Draft14)
			b, err = wire.AppendMessage(b, tt.msg, wire.Draft14)
			if err != nil {
				t.Fatal(err)
			}
			str.Write(b)
			select {
			case <-conn.Context().Done():
			case <-ctx.Done():
				t.Fatal("peer was not closed")
			}
			var ae *quic.ApplicationError
			if err := context.Cause(conn.Context()); !errors.As(err, &ae) || ae.ErrorCode != quic.ApplicationErrorCode(ErrCodeProtocolViolation) {
				t.Errorf("close error %v, want PROTOCOL_VIOLATION", err)
			}
		})
	}
}

// TestTrackSubgroupPriorityZero: Track.OpenSubgroup with priority 0 (the
// most urgent) sends 0, not the session default; OpenGroup uses the default.
func TestTrackSubgroupPriorityZero(t *testing.T) {
	b := NewBroadcast()
	video := b.AddTrack("video", nil)
	env := serveBroadcast(t, b)
	ctx := testContext(t)
	tr, err := env.dial(t, "moqt", nil).Subscribe("/live", "video", nil)
	if err != nil {
		t.Fatal(err)
	}
	for seq, open := range []func(GroupSequence) (*TrackGroupWriter, error){
		func(s GroupSequence) (*TrackGroupWriter, error) { return video.OpenSubgroup(s, 0, 0) },
		video.OpenGroup,
	} {
		g, err := open(GroupSequence(seq))
		if err != nil {
			t.Fatal(err)
		}
		if err := g.WriteFrame(NewFrame([]byte("x"))); err != nil {
			t.Fatal(err)
		}
		g.Close()
	}
	want := map[GroupSequence]uint8{0: 0, 1: defaultPriority}
	for range want {
		gr, err := tr.AcceptGroup(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if p := gr.PublisherPriority(); p != want[gr.GroupSequence()] {
			t.Errorf("group %d: publisher priority %d, want %d", gr.GroupSequence(), p, want[gr.GroupSequence()])
		}
	}
}

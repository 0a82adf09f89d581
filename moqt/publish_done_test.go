package moqt

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/moqgo/moqgo/internal/wire"
	"github.com/quic-go/quic-go"
)

// trackState reads a TrackReader's end-of-track bookkeeping.
func trackState(tr *TrackReader) (arrived int64, done, waited bool) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.arrived, tr.doneErr != nil, tr.waited
}

// acceptRaw subscribes through the raw publisher and answers SUBSCRIBE_OK
// with track alias 7.
func acceptRaw(t *testing.T, p *rawPublisher, s *Session) (*wire.Subscribe, *TrackReader) {
	t.Helper()
	sub, done := subscribeRaw(p, s)
	p.write(&wire.SubscribeOK{RequestID: sub.RequestID, TrackAlias: 7, GroupOrder: wire.GroupOrderAscending})
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	return sub, r.tr
}

// readAllGroups accepts groups until the track ends and returns their
// payloads by group, and the error that ended the track.
func readAllGroups(t *testing.T, tr *TrackReader) (map[GroupSequence]string, error) {
	t.Helper()
	ctx := testContext(t)
	got := map[GroupSequence]string{}
	for {
		gr, err := tr.AcceptGroup(ctx)
		if err != nil {
			return got, err
		}
		var b []byte
		for {
			f, err := gr.ReadFrame()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("group %d: ReadFrame: %v", gr.GroupSequence(), err)
			}
			b = append(b, f.Bytes()...)
		}
		got[gr.GroupSequence()] = string(b)
	}
}

// TestPublishDoneZeroStreamCount: @moq/net sends PUBLISH_DONE with Stream
// Count 0 after opening data streams. The streams that arrive within
// Config.PublishDoneGrace, before or after it, are all delivered, then the
// track ends.
func TestPublishDoneZeroStreamCount(t *testing.T) {
	p, s := newRawPublisher(t, &Config{PublishDoneGrace: time.Second})
	sub, tr := acceptRaw(t, p, s)
	p.openGroup(7, 0, "g0", true)
	p.openGroup(7, 1, "g1", true)
	p.write(&wire.PublishDone{RequestID: sub.RequestID, StatusCode: wire.DoneTrackEnded, StreamCount: 0})
	// A stream still in flight when PUBLISH_DONE is handled.
	waitUntil(t, "PUBLISH_DONE is handled", func() bool { _, done, _ := trackState(tr); return done })
	p.openGroup(7, 2, "g2", true)
	got, err := readAllGroups(t, tr)
	if err != io.EOF {
		t.Fatalf("track ended with %v, want io.EOF", err)
	}
	for g := range GroupSequence(3) {
		if want := "g" + string(rune('0'+g)); got[g] != want {
			t.Errorf("group %d: %q, want %q", g, got[g], want)
		}
	}
	if len(got) != 3 {
		t.Errorf("got %d groups, want 3", len(got))
	}
}

// TestPublishDoneCountBelowSeen: a Stream Count below the streams already
// received cannot be right; it is treated like 0, not as an immediate end.
func TestPublishDoneCountBelowSeen(t *testing.T) {
	p, s := newRawPublisher(t, &Config{PublishDoneGrace: time.Second})
	sub, tr := acceptRaw(t, p, s)
	p.openGroup(7, 0, "g0", true)
	p.openGroup(7, 1, "g1", true)
	waitUntil(t, "two streams arrived", func() bool { n, _, _ := trackState(tr); return n == 2 })
	p.write(&wire.PublishDone{RequestID: sub.RequestID, StatusCode: wire.DoneTrackEnded, StreamCount: 1})
	waitUntil(t, "PUBLISH_DONE is handled", func() bool { _, done, _ := trackState(tr); return done })
	p.openGroup(7, 2, "g2", true)
	got, err := readAllGroups(t, tr)
	if err != io.EOF || len(got) != 3 {
		t.Fatalf("got %d groups and %v, want 3 and io.EOF", len(got), err)
	}
}

// TestPublishDoneDeliversArrivedStreams: when the wait for the streams
// PUBLISH_DONE announced is over, the streams that did arrive are still
// all delivered, even to a reader slower than the wait, before the track
// ends.
func TestPublishDoneDeliversArrivedStreams(t *testing.T) {
	p, s := newRawPublisher(t, &Config{MaxPendingGroups: 1, PendingStreamTimeout: 20 * time.Millisecond})
	sub, tr := acceptRaw(t, p, s)
	for g := range uint64(3) {
		p.openGroup(7, g, "g"+string(rune('0'+g)), true)
	}
	waitUntil(t, "three streams arrived", func() bool { n, _, _ := trackState(tr); return n == 3 })
	// Five announced, three sent: the wait for the other two ends.
	p.write(&wire.PublishDone{RequestID: sub.RequestID, StatusCode: wire.DoneTrackEnded, StreamCount: 5})
	waitUntil(t, "the wait for streams is over", func() bool { _, _, w := trackState(tr); return w })
	got, err := readAllGroups(t, tr)
	if err != io.EOF || len(got) != 3 {
		t.Fatalf("got %d groups and %v, want 3 and io.EOF", len(got), err)
	}
}

// TestCloseWaitsForQueuedGroups: TrackWriter.Close sends PUBLISH_DONE only
// once the groups queued in the scheduler were handed to QUIC, so the
// subscriber gets every group although it waits only briefly for streams
// after PUBLISH_DONE.
func TestCloseWaitsForQueuedGroups(t *testing.T) {
	const groups, size = 40, 64 << 10 // more than QUIC's initial windows
	payload := make([]byte, size)
	for i := range payload {
		payload[i] = byte(i)
	}
	leftover := make(chan int, 1)
	mux := NewTrackMux()
	mux.PublishFunc(context.Background(), "/bulk", func(tw *TrackWriter) {
		var st *schedTrack
		for g := range GroupSequence(groups) {
			gw, err := tw.OpenGroup(g)
			if err != nil {
				t.Error(err)
				return
			}
			if err := gw.WriteFrame(NewFrame(payload)); err != nil {
				t.Error(err)
				return
			}
			if err := gw.Close(); err != nil {
				t.Error(err)
				return
			}
			if st == nil {
				tw.sess.sched.mu.Lock()
				st = tw.sess.sched.tracks[tw]
				tw.sess.sched.mu.Unlock()
			}
		}
		if err := tw.Close(); err != nil {
			t.Error(err)
		}
		tw.sess.sched.mu.Lock()
		leftover <- st.buffered + st.closing
		tw.sess.sched.mu.Unlock()
	})
	env := startServer(t, &Server{TrackMux: mux, Config: &Config{SendBuffer: 2 * groups * size}})
	env.client.Config = &Config{PendingStreamTimeout: 500 * time.Millisecond}
	sess := env.dial(t, "moqt", nil)
	tr, err := sess.Subscribe("/bulk", "t", nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := readAllGroups(t, tr)
	if err != io.EOF {
		t.Fatalf("track ended with %v, want io.EOF", err)
	}
	if n := <-leftover; n != 0 {
		t.Errorf("Close returned with %d bytes or streams still queued", n)
	}
	if len(got) != groups {
		t.Fatalf("got %d groups, want %d", len(got), groups)
	}
	for g, b := range got {
		if b != string(payload) {
			t.Fatalf("group %d: %d bytes, corrupted", g, len(b))
		}
	}
}

// TestPendingStreamsDefault: by default as many streams as the transport
// lets the publisher open may arrive before SUBSCRIBE_OK; none is refused.
func TestPendingStreamsDefault(t *testing.T) {
	const n = 60
	p, s := newRawPublisher(t, nil)
	sub, done := subscribeRaw(p, s)
	var streams []*quic.SendStream
	for g := range uint64(n) {
		streams = append(streams, p.openGroup(7, g, "x", false)) // FIN later, so a refusal shows
	}
	refused := func() bool {
		for _, st := range streams {
			if _, ok := stoppedWith(st); ok {
				return true
			}
		}
		return false
	}
	waitUntil(t, "all streams are held", func() bool { return pendingStreams(s) == n || refused() })
	if refused() {
		t.Fatalf("a stream was refused with %d held", pendingStreams(s))
	}
	for _, st := range streams {
		st.Close()
	}
	p.write(&wire.SubscribeOK{RequestID: sub.RequestID, TrackAlias: 7, GroupOrder: wire.GroupOrderAscending})
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	for range n {
		readGroupPayload(t, r.tr)
	}
}

// TestPendingStreamsFollowQUICConfig: the default follows the transport's
// incoming stream limit; an explicit value wins.
func TestPendingStreamsFollowQUICConfig(t *testing.T) {
	q := &quic.Config{MaxIncomingUniStreams: 300}
	c := (*Config)(nil).withDefaults()
	c.withStreamLimit(nil, q)
	if c.MaxPendingStreams != 300 {
		t.Errorf("MaxPendingStreams %d, want 300", c.MaxPendingStreams)
	}
	user := &Config{MaxPendingStreams: 5}
	c = user.withDefaults()
	c.withStreamLimit(user, q)
	if c.MaxPendingStreams != 5 {
		t.Errorf("MaxPendingStreams %d, want 5", c.MaxPendingStreams)
	}
	if c := (*Config)(nil).withDefaults(); c.MaxPendingStreams != 100 {
		t.Errorf("default MaxPendingStreams %d, want quic-go's 100", c.MaxPendingStreams)
	}
}

// TestPauseStopsOpenGroup: writes to a group opened before the subscriber
// paused fail with ErrPaused and send nothing; after the resume they
// continue the group.
func TestPauseStopsOpenGroup(t *testing.T) {
	for _, scheme := range transports {
		t.Run(scheme, func(t *testing.T) {
			first, sawPause := make(chan struct{}), make(chan struct{})
			mux := NewTrackMux()
			mux.PublishFunc(context.Background(), "/live", func(tw *TrackWriter) {
				defer tw.Close()
				gw, err := tw.OpenGroup(0)
				if err != nil {
					t.Error(err)
					return
				}
				if err := gw.WriteFrame(NewFrame([]byte("before"))); err != nil {
					t.Error(err)
				}
				close(first)
				for !tw.TrackConfig().Paused {
					<-tw.Updated()
				}
				if err := gw.WriteFrame(NewFrame([]byte("paused"))); !errors.Is(err, ErrPaused) {
					t.Errorf("write while paused: %v, want ErrPaused", err)
				}
				close(sawPause)
				for tw.TrackConfig().Paused {
					<-tw.Updated()
				}
				if err := gw.WriteFrame(NewFrame([]byte("after"))); err != nil {
					t.Errorf("write after resume: %v", err)
				}
				gw.Close()
			})
			env := startServer(t, &Server{TrackMux: mux})
			sess := env.dial(t, scheme, nil)
			tr, err := sess.Subscribe("/live", "video", nil)
			if err != nil {
				t.Fatal(err)
			}
			<-first
			if err := tr.Update(&TrackConfig{Paused: true}); err != nil {
				t.Fatal(err)
			}
			<-sawPause
			if err := tr.Update(&TrackConfig{}); err != nil {
				t.Fatal(err)
			}
			got := readGroups(t, testContext(t), tr, 1)
			if len(got[0]) != 2 || got[0][0] != "before" || got[0][1] != "after" {
				t.Fatalf("group 0: %q, want [before after]", got[0])
			}
		})
	}
}

package moqt

import (
	"context"
	"errors"
	"io"
	"maps"
	"testing"
	"time"
)

// TestResetStreamCarriesHeader: over raw QUIC, a group the publisher
// cancels before writing anything still reaches the subscriber, as a
// canceled group, because its stream is reset after its header
// (RESET_STREAM_AT with the header as reliable size). So PUBLISH_DONE's
// stream count is met at once: the subscriber, which would otherwise wait
// PendingStreamTimeout (a minute here) for a stream it cannot identify,
// ends the track as soon as the publisher does.
func TestResetStreamCarriesHeader(t *testing.T) {
	for _, m := range schedModes {
		t.Run(m.name, func(t *testing.T) { testResetStreamCarriesHeader(t, m.direct) })
	}
}

// testResetStreamCarriesHeader is TestResetStreamCarriesHeader with the
// publisher's streams written by the send scheduler or, with direct,
// straight to quic-go (Config.DisableScheduler).
func testResetStreamCarriesHeader(t *testing.T, direct bool) {
	mux := NewTrackMux()
	mux.PublishFunc(context.Background(), "/r", func(tw *TrackWriter) {
		defer tw.Close()
		gw, err := tw.OpenGroup(0)
		if err != nil {
			t.Error(err)
			return
		}
		gw.CancelWrite(GroupErrorCancelled) // nothing written: the header goes with the reset
		if gw, err = tw.OpenGroup(1); err != nil {
			t.Error(err)
			return
		}
		if err := gw.WriteFrame(NewFrame([]byte("x"))); err != nil {
			t.Error(err)
		}
		gw.Close()
	})
	env := startServer(t, &Server{TrackMux: mux, Config: &Config{DisableScheduler: direct}})
	env.client.Config = &Config{PendingStreamTimeout: time.Minute}
	sess := env.dial(t, "moqt", nil)
	tr, err := sess.Subscribe("/r", "t", nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	got := map[GroupSequence]string{}
	for {
		gr, err := tr.AcceptGroup(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("after groups %v: %v (waiting for a stream it could not identify?)", got, err)
		}
		f, err := gr.ReadFrame()
		var ge *GroupError
		switch {
		case err == nil:
			got[gr.GroupSequence()] = string(f.Bytes())
		case errors.As(err, &ge) && ge.Code == GroupErrorCancelled:
			got[gr.GroupSequence()] = "canceled"
		default:
			t.Fatalf("group %d: %v", gr.GroupSequence(), err)
		}
	}
	if want := map[GroupSequence]string{0: "canceled", 1: "x"}; !maps.Equal(got, want) {
		t.Fatalf("groups %v, want %v", got, want)
	}
}

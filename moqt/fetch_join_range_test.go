package moqt

import (
	"context"
	"testing"

	"github.com/moqgo/moqgo/internal/wire"
)

// largestAtMax publishes a track whose largest object has the largest
// Object ID a varint can carry, and reports the FetchConfig of each FETCH.
type largestAtMax struct {
	fetches chan FetchConfig
}

func (largestAtMax) ServeTrack(tw *TrackWriter) {
	_ = tw.WriteInfo(Info{ContentExists: true, LatestGroup: 3, LatestObject: wire.MaxVarint})
	<-tw.Context().Done()
}

func (h largestAtMax) ServeFetch(fw *FetchWriter) {
	h.fetches <- *fw.FetchConfig()
	fw.CloseWithError(SubscribeErrorNotSupported)
}

// TestJoiningFetchEndAtMaxObject: a joining FETCH whose subscription's
// largest object is the top of the varint range ends with the whole group
// (End Object 0) instead of an Object ID past the range.
func TestJoiningFetchEndAtMaxObject(t *testing.T) {
	h := largestAtMax{fetches: make(chan FetchConfig, 1)}
	mux := NewTrackMux()
	mux.Publish(context.Background(), "/live", h)
	env := startServer(t, &Server{TrackMux: mux})
	sess := env.dial(t, "moqt", nil)
	ctx := testContext(t)
	tr, err := sess.Subscribe("/live", "video", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if _, err := tr.Join(ctx, 1, nil); err == nil {
		t.Error("Join succeeded, want the handler's refusal")
	}
	cfg := <-h.fetches
	if want := (Location{Group: 3}); cfg.End != want || cfg.Start != want {
		t.Errorf("joining fetch range %v..%v, want %v..%v (the whole group 3)", cfg.Start, cfg.End, want, want)
	}
	if err := sess.Context().Err(); err != nil {
		t.Errorf("session ended: %v", context.Cause(sess.Context()))
	}
}

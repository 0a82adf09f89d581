package relay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/moqgo/moqgo/moqt"
)

// waitPending waits until n subscriptions wait at the relay for a publisher.
func waitPending(t *testing.T, ctx context.Context, r *Relay, n int) {
	t.Helper()
	for {
		r.mu.Lock()
		got, changed := r.waiting, r.changed
		r.mu.Unlock()
		if got >= n {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatal("subscription never reached the relay")
		case <-changed:
		}
	}
}

// TestWaitingSubscriberGetsShortTrack is `moq sub` started before
// `seq 1 20 | moq pub --group-every 5`: the publisher writes its groups and
// ends the track before the relay's SUBSCRIBE reaches it. The subscriber
// was there first, so every group is its own (whatever its filter), and
// then PUBLISH_DONE; it used to get nothing and, at times, hang.
func TestWaitingSubscriberGetsShortTrack(t *testing.T) {
	for _, filter := range []moqt.FilterType{moqt.FilterLatestObject, moqt.FilterNextGroupStart} {
		t.Run(fmt.Sprint("filter", filter), func(t *testing.T) {
			e := startRelay(t, Config{WaitForPublisher: 20 * time.Second})
			ctx := testContext(t)
			sess := e.dial(t, "https", nil)
			type result struct {
				tr  *moqt.TrackReader
				err error
			}
			res := make(chan result, 1)
			go func() {
				tr, err := sess.Subscribe("/logs", "app", &moqt.TrackConfig{Filter: filter})
				res <- result{tr, err}
			}()
			waitPending(t, ctx, e.relay, 1)

			// The publisher writes 4 groups of 5 and ends the track before
			// it announces, so no SUBSCRIBE can reach it in time.
			track := moqt.NewTrack(nil)
			for g := range moqt.GroupSequence(4) {
				gw, err := track.OpenGroup(g)
				if err != nil {
					t.Fatal(err)
				}
				for i := range 5 {
					if err := gw.WriteFrame(moqt.NewFrame(fmt.Appendf(nil, "%d", int(g)*5+i+1))); err != nil {
						t.Fatal(err)
					}
				}
				gw.Close()
			}
			track.Close()
			mux := moqt.NewTrackMux()
			mux.Publish(ctx, "/logs", track)
			e.dial(t, "moqt", mux)

			r := <-res
			if r.err != nil {
				t.Fatalf("Subscribe: %v", r.err)
			}
			var got []moqt.GroupSequence
			for {
				gr, err := r.tr.AcceptGroup(ctx)
				if err != nil {
					if !errors.Is(err, io.EOF) {
						t.Fatalf("AcceptGroup after groups %v: %v, want io.EOF (PUBLISH_DONE)", got, err)
					}
					break
				}
				objs, err := readAll(gr)
				if err != nil || len(objs) != 5 {
					t.Fatalf("group %d: %d objects, %v", gr.GroupSequence(), len(objs), err)
				}
				got = append(got, gr.GroupSequence())
			}
			slices.Sort(got)
			if want := []moqt.GroupSequence{0, 1, 2, 3}; !slices.Equal(got, want) {
				t.Fatalf("waiting subscriber got groups %v, want %v", got, want)
			}
		})
	}
}

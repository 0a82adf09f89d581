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

// TestBackfillEncodedOnce: the groups the relay FETCHes for a subscriber
// that waited for the publisher are cached as runs encoded once, like the
// live ones, so no subscriber's stream copies their payloads (they used
// to be forwarded object by object, the send queue copying payloads of
// at most 1 KiB per subscriber).
func TestBackfillEncodedOnce(t *testing.T) {
	e := startRelay(t, Config{WaitForPublisher: 20 * time.Second})
	ctx := testContext(t)
	sess := e.dial(t, "moqt", nil)
	res := make(chan *moqt.TrackReader, 1)
	go func() {
		tr, err := sess.Subscribe("/early", "app", nil)
		if err != nil {
			t.Error(err)
		}
		res <- tr
	}()
	waitPending(t, ctx, e.relay, 1)

	// Written before the publisher announces: only a FETCH gets them.
	track := moqt.NewTrack(nil)
	const groups, objects = 3, 6
	for g := range moqt.GroupSequence(groups) {
		gw, err := track.OpenGroup(g)
		if err != nil {
			t.Fatal(err)
		}
		for i := range objects {
			if err := gw.WriteFrame(moqt.NewFrame(frame(g, 0, uint64(i), 300+100*i))); err != nil {
				t.Fatal(err)
			}
		}
		gw.Close()
	}
	mux := moqt.NewTrackMux()
	mux.Publish(ctx, "/early", track)
	e.dial(t, "moqt", mux)
	tr := <-res
	if tr == nil {
		t.FailNow()
	}
	for range groups {
		gr, err := tr.AcceptGroup(ctx)
		if err != nil {
			t.Fatal(err)
		}
		objs, err := readAll(gr)
		if err != nil || len(objs) != objects {
			t.Fatalf("group %d: %d objects, %v", gr.GroupSequence(), len(objs), err)
		}
		for i, o := range objs {
			if want := frame(gr.GroupSequence(), 0, uint64(i), 300+100*i); string(o.Frame.Bytes()) != string(want) {
				t.Fatalf("group %d object %d: payload differs", gr.GroupSequence(), i)
			}
		}
	}
	tk := carriedTrack(t, e.relay, "/early", "app")
	tk.mu.Lock()
	cached := slices.Clone(tk.groups)
	tk.mu.Unlock()
	if len(cached) != groups {
		t.Fatalf("the relay caches %d groups, want %d", len(cached), groups)
	}
	for _, g := range cached {
		for _, sg := range g.subgroups {
			if err := runsCover(sg); err != nil {
				t.Error(err)
			}
		}
	}
}

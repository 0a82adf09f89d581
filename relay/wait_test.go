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

// subscribeEarly subscribes sess to path/name before any publisher is
// there, returning once the subscription waits at the relay; the
// TrackReader (nil if Subscribe failed) comes on the channel when the
// publisher arrives.
func subscribeEarly(t *testing.T, ctx context.Context, e *env, sess *moqt.Session, path moqt.BroadcastPath, name moqt.TrackName) <-chan *moqt.TrackReader {
	t.Helper()
	res := make(chan *moqt.TrackReader, 1)
	go func() {
		tr, err := sess.Subscribe(path, name, nil)
		if err != nil {
			t.Error(err)
		}
		res <- tr
	}()
	waitPending(t, ctx, e.relay, 1)
	return res
}

// publishLate publishes track at path from a new session and returns the
// subscription that waited for it (subscribeEarly's res).
func publishLate(t *testing.T, ctx context.Context, e *env, path moqt.BroadcastPath, track *moqt.Track, res <-chan *moqt.TrackReader) *moqt.TrackReader {
	t.Helper()
	mux := moqt.NewTrackMux()
	mux.Publish(ctx, path, track)
	e.dial(t, "moqt", mux)
	tr := <-res
	if tr == nil {
		t.FailNow()
	}
	return tr
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
	res := subscribeEarly(t, ctx, e, e.dial(t, "moqt", nil), "/early", "app")

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
	tr := publishLate(t, ctx, e, "/early", track, res)
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

// TestWaitingSubscriberGetsOpenGroupOnce: a group still open when the
// relay subscribes for a subscriber that waited reaches that subscriber as
// one stream: the objects the relay fetched, then the live rest, in order
// and once each. It used to arrive as two streams of the same group (the
// fetched part, then the live rest).
func TestWaitingSubscriberGetsOpenGroupOnce(t *testing.T) {
	for _, scheme := range transports {
		t.Run(scheme, func(t *testing.T) {
			e := startRelay(t, Config{WaitForPublisher: 20 * time.Second})
			ctx := testContext(t)
			res := subscribeEarly(t, ctx, e, e.dial(t, scheme, nil), "/open", "app")

			track := moqt.NewTrack(nil)
			g0, err := track.OpenGroup(0)
			if err != nil {
				t.Fatal(err)
			}
			write := func(gw *moqt.TrackGroupWriter, from, to int) {
				for i := from; i < to; i++ {
					if err := gw.WriteFrame(moqt.NewFrame(fmt.Appendf(nil, "%d", i))); err != nil {
						t.Fatal(err)
					}
				}
			}
			write(g0, 0, 3) // before the relay's SUBSCRIBE: only its FETCH gets these
			tr := publishLate(t, ctx, e, "/open", track, res)
			gr, err := tr.AcceptGroup(ctx)
			if err != nil || gr.GroupSequence() != 0 {
				t.Fatalf("first group: %v, %v", gr, err)
			}
			read := func(gr *moqt.GroupReader, from, to int) {
				t.Helper()
				for i := from; i < to; i++ {
					f, err := gr.ReadFrame()
					if err != nil || string(f.Bytes()) != fmt.Sprint(i) {
						t.Fatalf("group %d frame %d: %v %v", gr.GroupSequence(), i, f, err)
					}
				}
			}
			read(gr, 0, 3)
			// The relay is subscribed by now (it fetched after its
			// SUBSCRIBE_OK): the rest of group 0 comes live.
			write(g0, 3, 6)
			g0.Close()
			g1, err := track.OpenGroup(1)
			if err != nil {
				t.Fatal(err)
			}
			write(g1, 6, 8)
			g1.Close()
			track.Close()

			read(gr, 3, 6)
			if _, err := gr.ReadFrame(); err != io.EOF {
				t.Fatalf("group 0 after its 6 frames: %v, want io.EOF", err)
			}
			gr, err = tr.AcceptGroup(ctx)
			if err != nil || gr.GroupSequence() != 1 {
				t.Fatalf("second group: %v, %v (group 0 again?)", gr, err)
			}
			read(gr, 6, 8)
			if _, err := tr.AcceptGroup(ctx); !errors.Is(err, io.EOF) {
				t.Fatalf("after group 1: %v, want io.EOF (PUBLISH_DONE)", err)
			}
		})
	}
}

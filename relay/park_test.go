package relay

import (
	"bytes"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/moqgo/moqgo/moqt"
)

// TestCaughtUpSendersHoldNoGoroutine: while a group is open upstream and
// every subscriber has what was published of it, the relay runs no
// goroutine per subscriber for it (the senders are parked on the cached
// subgroup), and the next object still reaches every subscriber: the
// upstream reader forwards it to all of them itself.
func TestCaughtUpSendersHoldNoGoroutine(t *testing.T) {
	const subscribers = 24
	e := startRelay(t, Config{})
	ctx := testContext(t)
	f := newFeed()
	f.publish(t, e, "moqt", "/park")
	waitAnnounced(t, ctx, e.relay, "/park")
	readers := make([]*moqt.TrackReader, subscribers)
	for i := range readers {
		tr, err := e.dial(t, transports[i%len(transports)], nil).Subscribe("/park", "live", nil)
		if err != nil {
			t.Fatal(err)
		}
		readers[i] = tr
	}
	// A first group, delivered whole, starts what each session runs for
	// its lifetime once it carries data (its send scheduler, its data
	// stream loop), so that the baseline differs from the measurement
	// only by the open group.
	f.push(t, ctx, writeGroup(0, 3, 100))
	for i, tr := range readers {
		if g, objs := readGroup(t, ctx, tr); g != 0 || len(objs) != 3 {
			t.Fatalf("subscriber %d: group %d with %d objects, want group 0 with 3", i, g, len(objs))
		}
	}
	base := steadyGoroutines()

	gws := make(chan *moqt.GroupWriter, 1)
	f.push(t, ctx, func(tw *moqt.TrackWriter) error {
		gw, err := tw.OpenGroup(1)
		if err != nil {
			return err
		}
		if err := gw.WriteFrame(moqt.NewFrame(frame(1, 0, 0, 100))); err != nil {
			return err
		}
		gws <- gw
		return nil
	})
	gw := <-gws
	groups := make([]*moqt.GroupReader, subscribers)
	for i, tr := range readers {
		gr, err := tr.AcceptGroup(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if f, err := gr.ReadFrame(); err != nil || !bytes.Equal(f.Bytes(), frame(1, 0, 0, 100)) {
			t.Fatalf("subscriber %d, object 0: %v", i, err)
		}
		groups[i] = gr
	}
	// Senders park right after their last write, which the subscribers
	// may read first: wait for the count to settle below the bound (a
	// sender with a goroutine of its own per subscriber exceeds it for
	// good).
	limit := base + subscribers/2
	n := settledGoroutines(limit)
	t.Logf("goroutines: %d with every subscriber idle, %d with the group open and caught up", base, n)
	if n > limit {
		t.Fatalf("%d goroutines with %d caught-up subscribers of an open group, want at most %d (%d before the group)", n, subscribers, limit, base)
	}

	if err := gw.WriteFrame(moqt.NewFrame(frame(1, 0, 1, 100))); err != nil {
		t.Fatal(err)
	}
	if err := gw.Close(); err != nil {
		t.Fatal(err)
	}
	for i, gr := range groups {
		objs, err := readAll(gr)
		if err != nil || len(objs) != 1 || !bytes.Equal(objs[0].Frame.Bytes(), frame(1, 0, 1, 100)) {
			t.Fatalf("subscriber %d, rest of the group: %d objects, %v", i, len(objs), err)
		}
	}
}

// steadyGoroutines returns the goroutine count once it stopped falling
// (the senders of a group that ended exit once their last bytes are
// handed to the transport), reading it every 10 ms for at most 2 s.
func steadyGoroutines() int {
	n := runtime.NumGoroutine()
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
		m := runtime.NumGoroutine()
		if m >= n {
			return n
		}
		n = m
	}
	return n
}

// settledGoroutines returns the goroutine count once it is at most limit,
// or after 5 s: goroutines that finished their work (a group's senders
// after its end) take a moment to exit.
func settledGoroutines(limit int) int {
	deadline := time.Now().Add(5 * time.Second)
	n := runtime.NumGoroutine()
	for n > limit && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
		n = runtime.NumGoroutine()
	}
	return n
}

// TestRunsEncodedOnce: a subgroup the relay reads from its publisher is
// encoded once, in runs that cover every object, and those runs are what
// each subscriber's stream sends: every subscriber gets every object
// byte for byte, extensions and statuses included.
func TestRunsEncodedOnce(t *testing.T) {
	const subscribers, objects = 3, 40
	e := startRelay(t, Config{})
	ctx := testContext(t)
	f := newFeed()
	f.publish(t, e, "moqt", "/runs")
	waitAnnounced(t, ctx, e.relay, "/runs")
	readers := make([]*moqt.TrackReader, subscribers)
	for i := range readers {
		tr, err := e.dial(t, transports[i%len(transports)], nil).Subscribe("/runs", "live", nil)
		if err != nil {
			t.Fatal(err)
		}
		readers[i] = tr
	}
	want := make([]*moqt.Object, 0, objects)
	for i := range objects {
		o := &moqt.Object{ID: uint64(i), Frame: moqt.NewFrame(frame(4, 0, uint64(i), 200+50*(i%7)))}
		if i%5 == 2 {
			o.Extensions = []moqt.Extension{{Type: 2, Value: uint64(i)}}
		}
		want = append(want, o)
	}
	want = append(want, &moqt.Object{ID: objects, Status: moqt.StatusEndOfGroup})
	f.push(t, ctx, func(tw *moqt.TrackWriter) error {
		gw, err := tw.OpenGroup(4)
		if err != nil {
			return err
		}
		for _, o := range want {
			if err := gw.WriteObject(o); err != nil {
				return err
			}
		}
		return gw.Close()
	})
	for i, tr := range readers {
		g, objs := readGroup(t, ctx, tr)
		if g != 4 || len(objs) != len(want) {
			t.Fatalf("subscriber %d: group %d with %d objects, want group 4 with %d", i, g, len(objs), len(want))
		}
		if err := sameObjects(derefObjects(objs), derefObjects(want)); err != nil {
			t.Fatalf("subscriber %d: %v", i, err)
		}
	}
	tk := carriedTrack(t, e.relay, "/runs", "live")
	tk.mu.Lock()
	sg := tk.groups[len(tk.groups)-1].subgroups[0]
	tk.mu.Unlock()
	if err := runsCover(sg); err != nil {
		t.Fatal(err)
	}
}

// carriedTrack returns the relay's track path/name, failing the test if
// the relay does not carry it.
func carriedTrack(t *testing.T, r *Relay, path moqt.BroadcastPath, name moqt.TrackName) *track {
	t.Helper()
	r.mu.Lock()
	tk := r.tracks[trackKey{path: path, name: name}]
	r.mu.Unlock()
	if tk == nil {
		t.Fatalf("the relay does not carry %s %s", path, name)
	}
	return tk
}

// runsCover checks that sg's cached objects are all encoded in its runs,
// in order: what the subscribers' streams queue by reference.
func runsCover(sg *subgroup) error {
	sg.mu.Lock()
	defer sg.mu.Unlock()
	covered := 0
	for i, r := range sg.runs {
		if sg.runStart[i] != covered {
			return fmt.Errorf("group %d subgroup %d: run %d starts at object %d, want %d", sg.g.seq, sg.id, i, sg.runStart[i], covered)
		}
		covered += r.Len()
	}
	if len(sg.runs) == 0 || covered != len(sg.objs) {
		return fmt.Errorf("group %d subgroup %d: runs cover %d of %d cached objects", sg.g.seq, sg.id, covered, len(sg.objs))
	}
	return nil
}

func derefObjects(p []*moqt.Object) []moqt.Object {
	out := make([]moqt.Object, len(p))
	for i, o := range p {
		out[i] = *o
	}
	return out
}

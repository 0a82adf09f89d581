package moqt

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// bulkFetch serves an endless fetch of size-byte objects (one Frame,
// queued by reference) until the fetch ends.
func bulkFetch(size int) fetchOnly {
	f := NewFrame(make([]byte, size))
	return fetchOnly{serve: func(fw *FetchWriter) {
		for i := uint64(0); ; i++ {
			o := &TrackObject{Group: GroupSequence(i / 8), PublisherPriority: 128, Object: Object{ID: i % 8, Frame: f}}
			if fw.WriteObject(o) != nil {
				return
			}
		}
	}}
}

// fetchSink reads a fetch to its end, recording when each object arrived.
type fetchSink struct {
	mu   sync.Mutex
	got  []rx
	done chan struct{}
}

func readFetchSink(fr *FetchReader) *fetchSink {
	fs := &fetchSink{done: make(chan struct{})}
	go func() {
		defer close(fs.done)
		for {
			o, err := fr.ReadObject()
			if err != nil {
				return
			}
			fs.mu.Lock()
			fs.got = append(fs.got, rx{at: time.Now(), bytes: o.Frame.Len()})
			fs.mu.Unlock()
		}
	}()
	return fs
}

// rate returns the bytes per second received in [from, to).
func (fs *fetchSink) rate(from, to time.Time) float64 {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	bytes := 0
	for _, r := range fs.got {
		if !r.at.Before(from) && r.at.Before(to) {
			bytes += r.bytes
		}
	}
	return float64(bytes) / to.Sub(from).Seconds()
}

// TestFetchPriorityConstrainedLink runs, over the 8 Mbit/s link, a
// 2 Mbit/s live track at subscriber priority 10, an endless FETCH at
// priority 100 and a 10 Mbit/s live track at priority 200 on one session:
// the FETCH is scheduled by its subscriber priority like a subscription,
// so the urgent live track keeps its rate despite the bulk transfer, and
// the FETCH in turn takes the link from the less urgent live track.
func TestFetchPriorityConstrainedLink(t *testing.T) {
	if testing.Short() {
		t.Skip("constrained-link test takes ~5s; skipped with -short")
	}
	hi := newPacedSource(2500, 10*time.Millisecond, 10)  // 2 Mbit/s
	lo := newPacedSource(12500, 10*time.Millisecond, 10) // 10 Mbit/s
	mux := NewTrackMux()
	mux.PublishFunc(context.Background(), "/hi", hi.serve)
	mux.PublishFunc(context.Background(), "/lo", lo.serve)
	mux.Publish(context.Background(), "/bulk", bulkFetch(32<<10))
	sess, proxy := startLink(t, mux)
	ctx := testContext(t)

	sinks := map[*pacedSource]*sink{}
	for path, src := range map[BroadcastPath]*pacedSource{"/hi": hi, "/lo": lo} {
		prio := uint8(10)
		if src == lo {
			prio = 200
		}
		tr, err := sess.Subscribe(path, "t", &TrackConfig{Priority: prio})
		if err != nil {
			t.Fatal(err)
		}
		sinks[src] = new(sink)
		sinks[src].run(ctx, tr, src)
	}
	sHi, sLo := sinks[hi], sinks[lo]
	fr, err := sess.Fetch(ctx, "/bulk", "t", &FetchConfig{Priority: 100, End: Location{Group: 1 << 40}})
	if err != nil {
		t.Fatal(err)
	}
	fs := readFetchSink(fr)
	defer func() {
		fr.Close()
		sess.Close()
		sHi.wg.Wait()
		sLo.wg.Wait()
		<-fs.done
	}()

	start := time.Now()
	wait(ctx, t, 4*time.Second)
	// Measured from 1.5s (after slow start) to 3.8s.
	from, to := start.Add(1500*time.Millisecond), start.Add(3800*time.Millisecond)
	hiGot := sHi.sentBetween(from, to)
	hiSent := hi.sentIn(from, to)
	_, hiRate := sHi.window(from, to)
	_, loRate := sLo.window(from, to)
	fetchRate := fs.rate(from, to)
	p50, p95, pmax := latencies(hiGot)
	const hiNominal = 2500 / 0.010 // bytes/s
	t.Logf("hi (10): %.2f Mbit/s (%.1f%% of its rate), delivered %d/%d frames, latency p50 %v p95 %v max %v; fetch (100): %.2f Mbit/s; lo (200): %.2f Mbit/s",
		mbps(hiRate), 100*hiRate/hiNominal, len(hiGot), hiSent, p50, p95, pmax, mbps(fetchRate), mbps(loRate))
	// Judge the received rate against what the paced source really sent in
	// the window: on a loaded machine its ticker can skip ticks, which
	// lowers both rates and says nothing about scheduling.
	hiOffered := float64(hiSent) * 2500 / to.Sub(from).Seconds()
	if hiRate < 0.95*hiOffered || hiOffered < 0.5*hiNominal {
		t.Errorf("high-priority track got %.2f Mbit/s of the %.2f Mbit/s sent (nominal %.2f) beside a low-priority FETCH, want >= 95%%", mbps(hiRate), mbps(hiOffered), mbps(hiNominal))
	}
	if hiSent == 0 || float64(len(hiGot)) < 0.95*float64(hiSent) {
		t.Errorf("high-priority track: %d of %d frames delivered, want >= 95%%", len(hiGot), hiSent)
	}
	if p95 > 400*time.Millisecond {
		t.Errorf("high-priority latency p95 %v beside a low-priority FETCH", p95)
	}
	if mbps(fetchRate) < 3 || fetchRate < 4*loRate {
		t.Errorf("FETCH (100) got %.2f Mbit/s, live track (200) %.2f Mbit/s: the FETCH did not overtake it", mbps(fetchRate), mbps(loRate))
	}
	st := proxy.Stats().Down
	t.Logf("bottleneck: %d datagrams, %d dropped by the full queue", st.Packets, st.Overflow)
}

// TestFetchCancelQueued checks that cancelling a fetch (STOP_SENDING and
// FETCH_CANCEL) still drops what a closed FetchWriter has queued in the
// scheduler: Close waits for the queued objects, and the cancel ends that
// wait with an error.
func TestFetchCancelQueued(t *testing.T) {
	closed := make(chan error, 1)
	writer := make(chan *FetchWriter, 1)
	mux := NewTrackMux()
	mux.Publish(context.Background(), "/big", fetchOnly{serve: func(fw *FetchWriter) {
		writer <- fw
		f := NewFrame(make([]byte, 64<<10))
		for i := range uint64(64) { // 4 MiB, beyond the stream's flow control window
			if err := fw.WriteObject(&TrackObject{Group: 0, Object: Object{ID: i, Frame: f}}); err != nil {
				closed <- err
				return
			}
		}
		closed <- fw.Close()
	}})
	env := startServer(t, &Server{TrackMux: mux, Config: &Config{SendBuffer: 8 << 20}})
	sess := env.dial(t, "moqt", nil)
	ctx := testContext(t)
	fr, err := sess.Fetch(ctx, "/big", "t", &FetchConfig{End: Location{Group: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fr.ReadObject(); err != nil {
		t.Fatal(err)
	}
	// Not reading on: the publisher's Close waits for the queued objects.
	select {
	case err := <-closed:
		t.Fatalf("the writer returned %v before the subscriber read 4 MiB", err)
	default:
	}
	if err := fr.Close(); err != nil {
		t.Fatal(err)
	}
	fw := <-writer
	select {
	case err := <-closed:
		if err == nil {
			t.Error("Close after the cancel succeeded, want an error")
		}
	case <-ctx.Done():
		t.Fatal("the cancel did not end the wait for the queued objects")
	}
	select {
	case <-fw.Context().Done():
		if c := context.Cause(fw.Context()); !errors.Is(c, errFetchCancelled) && !errors.Is(c, ErrClosed) {
			t.Errorf("fetch ended with %v", c)
		}
	case <-ctx.Done():
		t.Fatal("the fetch did not end")
	}
	s := fw.sess.sched
	s.mu.Lock()
	done, buffered := fw.ss.done, fw.tr.buffered
	s.mu.Unlock()
	if !done || buffered != 0 {
		t.Errorf("after the cancel: stream done %v, %d bytes still queued", done, buffered)
	}
}

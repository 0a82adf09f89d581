package relay

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/moqgo/moqgo/moqt"
	"github.com/quic-go/quic-go"
)

// TestSlowSubscriber: a subscriber reading at 5% of the publish rate does
// not slow the publisher or the other subscribers: they receive every
// object while the slow one skips groups, and the relay's cache stays
// within its memory cap.
func TestSlowSubscriber(t *testing.T) {
	const (
		groups     = 150
		objects    = 20
		size       = 1024
		groupBytes = objects * size
		maxCache   = 8 * groupBytes
		interval   = 20 * time.Millisecond // 50 groups/s, 1000 objects/s
	)
	// The default moqt configuration, priority scheduler included: the
	// groups it holds for the slow subscriber count in the relay's backlog.
	e := startRelay(t, Config{MaxCacheBytes: maxCache, MaxBacklogGroups: 24, Logger: testLogger(t)})
	ctx := testContext(t)
	f := newFeed()
	f.publish(t, e, "moqt", "/live")
	waitAnnounced(t, ctx, e.relay, "/live")

	type result struct {
		objects int
		last    time.Time
		err     error
	}
	results := make([]result, len(transports))
	var wg sync.WaitGroup
	for i, scheme := range transports {
		tr, err := e.dial(t, scheme, nil).Subscribe("/live", "video", &moqt.TrackConfig{Filter: moqt.FilterAbsoluteStart})
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := &results[i]
			for g := 0; g < groups; g++ {
				gr, err := tr.AcceptGroup(ctx)
				if err != nil {
					res.err = err
					return
				}
				objs, err := readAll(gr)
				res.objects += len(objs)
				if err != nil {
					res.err = err
					return
				}
				res.last = time.Now()
			}
		}()
	}
	// The slow subscriber's small receive window makes its backlog the
	// relay's to manage quickly.
	slowSess := e.dialNarrow(t, 16<<10, 64<<10)
	slow, err := slowSess.Subscribe("/live", "video", &moqt.TrackConfig{Filter: moqt.FilterAbsoluteStart})
	if err != nil {
		t.Fatal(err)
	}
	slowCtx, stopSlow := context.WithCancel(ctx)
	slowDone := make(chan int)
	var slowErr error // why the slow subscriber stopped before it was told to
	go func() {
		// One object per 20 objects published: 5% of the rate.
		tick := time.NewTicker(interval)
		defer tick.Stop()
		n := 0
		defer func() { slowDone <- n }()
		for {
			gr, err := slow.AcceptGroup(slowCtx)
			if err != nil {
				if slowCtx.Err() == nil {
					slowErr = err
				}
				return
			}
			for {
				select {
				case <-tick.C:
				case <-slowCtx.Done():
					return
				}
				if _, err := gr.ReadObject(); err != nil {
					break
				}
				n++
			}
		}
	}()

	tick := time.NewTicker(interval)
	defer tick.Stop()
	start := time.Now()
	var peak int64
	for g := moqt.GroupSequence(0); g < groups; g++ {
		<-tick.C
		f.push(t, ctx, writeGroup(g, objects, size))
		if c := e.relay.Stats().CacheBytes; c > peak {
			peak = c
		}
	}
	published := time.Since(start)
	wg.Wait()
	// Skipped, not dropped: its session outlives the run (a reset that
	// overran its connection window once closed it).
	if err := context.Cause(slowSess.Context()); err != nil {
		t.Errorf("the slow subscriber's session ended: %v", err)
	}
	stopSlow()
	slowRead := <-slowDone
	if slowErr != nil {
		t.Errorf("the slow subscriber stopped: %v", slowErr)
	}

	for i, r := range results {
		if r.err != nil || r.objects != groups*objects {
			t.Errorf("%s subscriber got %d of %d objects (err %v)", transports[i], r.objects, groups*objects, r.err)
		}
		if lag := r.last.Sub(start) - published; lag > 3*time.Second {
			t.Errorf("%s subscriber finished %v after the publisher", transports[i], lag)
		}
	}
	st := e.relay.Stats()
	if st.Skips == 0 {
		t.Errorf("the slow subscriber (read %d objects) was never skipped: %+v", slowRead, st)
	}
	if slowRead >= groups*objects/2 {
		t.Errorf("the slow subscriber read %d objects: it was not slow", slowRead)
	}
	if peak > maxCache+groupBytes {
		t.Errorf("cache peaked at %d bytes, cap %d (+ one group)", peak, maxCache)
	}
	if pace := time.Duration(groups) * interval; published > 3*pace {
		t.Errorf("publishing %d groups took %v, paced at %v", groups, published, pace)
	}
	t.Logf("published in %v; slow subscriber read %d objects; skips %d, evictions %d, cache peak %d B", published, slowRead, st.Skips, st.Evictions, peak)
}

// dialNarrow dials a raw QUIC session whose receive windows are stream and
// conn bytes, so that a subscriber that reads slowly makes its backlog the
// relay's to manage quickly; it is closed at the end of the test.
func (e *env) dialNarrow(t *testing.T, stream, conn uint64) *moqt.Session {
	t.Helper()
	s, err := e.dialClient(&moqt.Client{QUICConfig: &quic.Config{
		InitialStreamReceiveWindow: stream, MaxStreamReceiveWindow: stream,
		InitialConnectionReceiveWindow: conn, MaxConnectionReceiveWindow: conn,
	}}, "moqt", nil, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

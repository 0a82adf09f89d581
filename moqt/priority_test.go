package moqt

import (
	"context"
	"encoding/binary"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moqgo/moqgo/internal/netsim"
)

// The constrained-link tests put a netsim.Proxy between a real client and
// a real server: 8 Mbit/s from publisher to subscriber with a 32 KiB
// bottleneck queue, 20 ms one-way delay each way.
const (
	linkRate  = 1_000_000 // bytes/s: 8 Mbit/s
	linkDelay = 20 * time.Millisecond
)

// startLink starts a server publishing mux and dials it through the proxy.
func startLink(t *testing.T, mux *TrackMux) (*Session, *netsim.Proxy) {
	t.Helper()
	env := startServer(t, &Server{TrackMux: mux})
	p, err := netsim.New(env.addr, netsim.Config{
		Up:   netsim.Link{Delay: linkDelay},
		Down: netsim.Link{Rate: linkRate, QueueBytes: 32 << 10, Delay: linkDelay},
		Seed: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sess, err := env.client.Dial(ctx, "moqt://"+p.Addr().String()+"/moq", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sess.Close() })
	return sess, p
}

// pacedSource publishes frames of size bytes every interval, perGroup
// frames per group, each stamped with its send time; latest is the
// newest group opened.
type pacedSource struct {
	size     int
	interval time.Duration
	perGroup int

	latest  atomic.Int64
	updated chan struct{} // the handler saw TrackWriter.Updated

	mu   sync.Mutex
	sent []time.Time
}

func newPacedSource(size int, interval time.Duration, perGroup int) *pacedSource {
	return &pacedSource{size: size, interval: interval, perGroup: perGroup, updated: make(chan struct{}, 1)}
}

func (ps *pacedSource) serve(tw *TrackWriter) {
	tick := time.NewTicker(ps.interval)
	defer tick.Stop()
	buf := make([]byte, ps.size)
	for g := GroupSequence(0); ; g++ {
		gw, err := tw.OpenGroup(g)
		if err != nil {
			return
		}
		ps.latest.Store(int64(g))
		for range ps.perGroup {
			select {
			case <-tick.C:
			case <-tw.Updated():
				select {
				case ps.updated <- struct{}{}:
				default:
				}
				<-tick.C
			case <-tw.Context().Done():
				gw.CancelWrite(GroupErrorCancelled)
				return
			}
			now := time.Now()
			// A Frame's memory is queued, not copied: a new one each time.
			b := make([]byte, len(buf))
			binary.BigEndian.PutUint64(b, uint64(now.UnixNano()))
			if err := gw.WriteFrame(NewFrame(b)); err != nil {
				var ge *GroupError
				if errors.As(err, &ge) {
					break // dropped by the scheduler: on to the next group
				}
				return
			}
			ps.mu.Lock()
			ps.sent = append(ps.sent, now)
			ps.mu.Unlock()
		}
		gw.Close()
	}
}

// sentIn counts the frames sent in [from, to).
func (ps *pacedSource) sentIn(from, to time.Time) int {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	n := 0
	for _, at := range ps.sent {
		if !at.Before(from) && at.Before(to) {
			n++
		}
	}
	return n
}

// rx is one frame received.
type rx struct {
	sent, at time.Time
	bytes    int
	group    GroupSequence
	lag      int64 // newest group published minus this group, on arrival
}

// sink receives every group of a subscription concurrently.
type sink struct {
	mu  sync.Mutex
	got []rx
	wg  sync.WaitGroup
}

func (s *sink) run(ctx context.Context, tr *TrackReader, src *pacedSource) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			gr, err := tr.AcceptGroup(ctx)
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				for {
					f, err := gr.ReadFrame()
					if err != nil {
						return
					}
					now := time.Now()
					r := rx{at: now, bytes: f.Len(), group: gr.GroupSequence(), lag: src.latest.Load() - int64(gr.GroupSequence())}
					r.sent = time.Unix(0, int64(binary.BigEndian.Uint64(f.Bytes())))
					s.mu.Lock()
					s.got = append(s.got, r)
					s.mu.Unlock()
				}
			}()
		}
	}()
}

// window returns the frames received in [from, to) and their byte rate.
func (s *sink) window(from, to time.Time) ([]rx, float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []rx
	bytes := 0
	for _, r := range s.got {
		if !r.at.Before(from) && r.at.Before(to) {
			out = append(out, r)
			bytes += r.bytes
		}
	}
	return out, float64(bytes) / to.Sub(from).Seconds()
}

// sentBetween returns the frames sent in [from, to) that arrived by end.
func (s *sink) sentBetween(from, to time.Time) []rx {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []rx
	for _, r := range s.got {
		if !r.sent.Before(from) && r.sent.Before(to) {
			out = append(out, r)
		}
	}
	return out
}

func latencies(rs []rx) (p50, p95, maxi time.Duration) {
	if len(rs) == 0 {
		return 0, 0, 0
	}
	d := make([]time.Duration, len(rs))
	for i, r := range rs {
		d[i] = r.at.Sub(r.sent)
	}
	slices.Sort(d)
	return d[len(d)/2], d[len(d)*95/100], d[len(d)-1]
}

func mbps(bytesPerSec float64) float64 { return bytesPerSec * 8 / 1e6 }

// wait lets the experiment run for d (the duration is the measurement
// window, not a synchronisation point).
func wait(ctx context.Context, t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case <-time.After(d):
	case <-ctx.Done():
		t.Fatal(ctx.Err())
	}
}

// TestPriorityConstrainedLink runs a 2 Mbit/s track and a 10 Mbit/s track
// over an 8 Mbit/s link: the one with the more urgent subscriber priority
// must get its full rate at a latency near the path delay, the other what
// is left; after SUBSCRIBE_UPDATE swaps the priorities the outcome swaps.
func TestPriorityConstrainedLink(t *testing.T) {
	if testing.Short() {
		t.Skip("constrained-link test takes ~8s; skipped with -short")
	}
	hi := newPacedSource(2500, 10*time.Millisecond, 10)  // 2 Mbit/s
	lo := newPacedSource(12500, 10*time.Millisecond, 10) // 10 Mbit/s
	mux := NewTrackMux()
	mux.PublishFunc(context.Background(), "/hi", hi.serve)
	mux.PublishFunc(context.Background(), "/lo", lo.serve)
	sess, proxy := startLink(t, mux)
	ctx := testContext(t)

	trHi, err := sess.Subscribe("/hi", "t", &TrackConfig{Priority: 10})
	if err != nil {
		t.Fatal(err)
	}
	trLo, err := sess.Subscribe("/lo", "t", &TrackConfig{Priority: 200})
	if err != nil {
		t.Fatal(err)
	}
	var sHi, sLo sink
	sHi.run(ctx, trHi, hi)
	sLo.run(ctx, trLo, lo)
	defer func() {
		sess.Close()
		sHi.wg.Wait()
		sLo.wg.Wait()
	}()

	start := time.Now()
	wait(ctx, t, 4*time.Second)
	// Phase 1, measured from 1.5s (after slow start) to 3.8s.
	from, to := start.Add(1500*time.Millisecond), start.Add(3800*time.Millisecond)
	hiGot := sHi.sentBetween(from, to)
	hiSent := hi.sentIn(from, to)
	_, hiRate := sHi.window(from, to)
	loWin, loRate := sLo.window(from, to)
	p50, p95, pmax := latencies(hiGot)
	_, lp95, _ := latencies(loWin)
	t.Logf("phase 1 (hi=10, lo=200): hi delivered %d/%d frames (%.1f%%) at %.2f Mbit/s, latency p50 %v p95 %v max %v; lo %.2f Mbit/s, latency p95 %v",
		len(hiGot), hiSent, 100*float64(len(hiGot))/float64(hiSent), mbps(hiRate), p50, p95, pmax, mbps(loRate), lp95)
	if hiSent == 0 || float64(len(hiGot)) < 0.95*float64(hiSent) {
		t.Errorf("high-priority track: %d of %d frames delivered, want >= 95%%", len(hiGot), hiSent)
	}
	if p50 > 150*time.Millisecond || p95 > 400*time.Millisecond {
		t.Errorf("high-priority latency p50 %v p95 %v: not near the %v path delay", p50, p95, linkDelay)
	}
	if mbps(loRate) < 2 {
		t.Errorf("low-priority track got %.2f Mbit/s of what is left", mbps(loRate))
	}

	swap := time.Now()
	if err := trHi.Update(&TrackConfig{Priority: 200}); err != nil {
		t.Fatal(err)
	}
	if err := trLo.Update(&TrackConfig{Priority: 10}); err != nil {
		t.Fatal(err)
	}
	for _, src := range []*pacedSource{hi, lo} {
		select {
		case <-src.updated:
		case <-ctx.Done():
			t.Fatal("the publisher did not see SUBSCRIBE_UPDATE")
		}
	}
	wait(ctx, t, time.Until(swap.Add(3*time.Second)))
	// Phase 2, measured from 1s after the swap.
	from, to = swap.Add(time.Second), swap.Add(3*time.Second)
	_, hiRate2 := sHi.window(from, to)
	_, loRate2 := sLo.window(from, to)
	t.Logf("phase 2 (hi=200, lo=10), from 1s after SUBSCRIBE_UPDATE: hi %.2f Mbit/s, lo %.2f Mbit/s", mbps(hiRate2), mbps(loRate2))
	if mbps(hiRate2) > 1 || loRate2 < 4*hiRate2 || mbps(loRate2) < 3 {
		t.Errorf("priorities swapped but hi %.2f Mbit/s, lo %.2f Mbit/s", mbps(hiRate2), mbps(loRate2))
	}
	st := proxy.Stats().Down
	t.Logf("bottleneck: %d datagrams, %d dropped by the full queue", st.Packets, st.Overflow)
}

// TestGroupOrderConstrainedLink publishes one 12 Mbit/s track, a group
// every 33 ms, over the 8 Mbit/s link: a descending-order subscription
// keeps up with the newest group (stale ones are skipped), an ascending
// one falls behind.
func TestGroupOrderConstrainedLink(t *testing.T) {
	if testing.Short() {
		t.Skip("constrained-link test takes ~7s; skipped with -short")
	}
	lag := map[GroupOrder]int64{}
	for _, order := range []GroupOrder{GroupOrderDescending, GroupOrderAscending} {
		src := newPacedSource(50_000, 33*time.Millisecond, 1)
		mux := NewTrackMux()
		mux.PublishFunc(context.Background(), "/v", src.serve)
		sess, _ := startLink(t, mux)
		ctx := testContext(t)
		tr, err := sess.Subscribe("/v", "t", &TrackConfig{GroupOrder: order})
		if err != nil {
			t.Fatal(err)
		}
		var s sink
		s.run(ctx, tr, src)
		start := time.Now()
		wait(ctx, t, 3*time.Second)
		got, rate := s.window(start.Add(1500*time.Millisecond), start.Add(3*time.Second))
		sess.Close()
		s.wg.Wait()
		lags := make([]int64, len(got))
		for i, r := range got {
			lags[i] = r.lag
		}
		slices.Sort(lags)
		if len(lags) == 0 {
			t.Fatalf("order %d: nothing received", order)
		}
		lag[order] = lags[len(lags)/2]
		_, p95, _ := latencies(got)
		t.Logf("order %d: %d groups received in the last 1.5s at %.2f Mbit/s, median lag %d groups, latency p95 %v",
			order, len(got), mbps(rate), lag[order], p95)
	}
	if lag[GroupOrderDescending] > 8 || lag[GroupOrderAscending] < 10 || lag[GroupOrderAscending] < 2*lag[GroupOrderDescending] {
		t.Errorf("median lag behind the newest group: descending %d, ascending %d", lag[GroupOrderDescending], lag[GroupOrderAscending])
	}
}

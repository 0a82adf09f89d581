package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/moqgo/moqgo/moqt"
)

const warmup = time.Second

// sink collects what the subscribers receive.
type sink struct {
	bytes  atomic.Int64
	record atomic.Bool
	mu     sync.Mutex
	lat    []time.Duration
	err    error // the first subscriber or connection that failed
}

// fail records that a subscriber's track or connection ended with err;
// before the run's teardown that is a failed run, not a slow one.
func (s *sink) fail(err error) {
	s.mu.Lock()
	if s.err == nil {
		s.err = err
	}
	s.mu.Unlock()
}

func (s *sink) failure() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// frame accounts one received frame.
func (s *sink) frame(b []byte, now time.Time) {
	s.bytes.Add(int64(len(b)))
	if !s.record.Load() || len(b) < 8 {
		return
	}
	d := now.Sub(time.Unix(0, int64(binary.BigEndian.Uint64(b))))
	s.mu.Lock()
	s.lat = append(s.lat, d)
	s.mu.Unlock()
}

func (s *sink) percentiles() (p50, p99 time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.lat) == 0 {
		return 0, 0
	}
	slices.Sort(s.lat)
	return s.lat[len(s.lat)/2], s.lat[min(len(s.lat)-1, len(s.lat)*99/100)]
}

// measure is one run's figures.
type measure struct {
	mbps     float64 // delivered MB/s, all subscribers together
	cpuPerGB float64 // server CPU seconds per delivered GB
	rss      int64   // server RSS at the end of the window
	idlePer  int64   // server RSS growth per idle subscriber (raw: connection), settled
	// idlePerUnsettled is idlePer with the handshakes' garbage not
	// collected yet (relay only).
	idlePerUnsettled int64
	p50, p99         time.Duration
	delivered        int64
	cores            float64 // server CPU seconds per second
}

// window measures the sink and the child's CPU over d.
func window(s *sink, c *child, d time.Duration) (measure, error) {
	time.Sleep(warmup)
	cpu0, _, err := procStats(c.cmd.Pid)
	if err != nil {
		return measure{}, err
	}
	stopProfile, err := cpuProfile("MOQ_BENCH_CLIENTPROFILE", c.mode, c.paced)
	if err != nil {
		return measure{}, err
	}
	b0 := s.bytes.Load()
	t0 := time.Now()
	s.record.Store(true)
	time.Sleep(d)
	s.record.Store(false)
	elapsed := time.Since(t0)
	stopProfile()
	b1 := s.bytes.Load()
	cpu1, rss, err := procStats(c.cmd.Pid)
	if err != nil {
		return measure{}, err
	}
	m := measure{delivered: b1 - b0, rss: rss}
	m.mbps = float64(m.delivered) / elapsed.Seconds() / 1e6
	m.cores = (cpu1 - cpu0) / elapsed.Seconds()
	if m.delivered > 0 {
		m.cpuPerGB = (cpu1 - cpu0) / (float64(m.delivered) / 1e9)
	}
	m.p50, m.p99 = s.percentiles()
	if err := s.failure(); err != nil {
		return m, fmt.Errorf("a subscriber failed during the run: %w", err)
	}
	return m, nil
}

// rssPair returns the child's RSS as it is, then once settled (garbage
// collected and returned to the OS).
func rssPair(c *child) (now, settled int64, err error) {
	if _, now, err = procStats(c.cmd.Pid); err != nil {
		return 0, 0, err
	}
	if err = c.settle(); err != nil {
		return 0, 0, err
	}
	_, settled, err = procStats(c.cmd.Pid)
	return now, settled, err
}

// procStats returns a process's CPU seconds (user + system) and RSS.
func procStats(pid int) (cpu float64, rss int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	pages, _ := strconv.ParseInt(f[21], 10, 64)
	return (utime + stime) / 100, pages * int64(os.Getpagesize()), nil
}

// newFrame returns a frame stamped with the current time.
func newFrame(now int64) []byte {
	b := make([]byte, frameSize)
	binary.BigEndian.PutUint64(b, uint64(now))
	return b
}

// publish serves the benchmark track: groups of framesPerGroup frames,
// each frame stamped with the time it is written, paced per p.
func publish(start <-chan struct{}, p pacing) func(*moqt.TrackWriter) {
	return func(tw *moqt.TrackWriter) {
		if tw.WriteInfo(moqt.Info{}) != nil {
			return
		}
		select {
		case <-start:
		case <-tw.Context().Done():
			return
		}
		groupTick, frameTick, stopTicks := p.ticks()
		defer stopTicks()
		wait := func(tick <-chan time.Time) bool {
			if tick == nil {
				return true
			}
			select {
			case <-tick:
				return true
			case <-tw.Context().Done():
				return false
			}
		}
		for g := moqt.GroupSequence(0); ; g++ {
			if !wait(groupTick) {
				return
			}
			gw, err := tw.OpenGroup(g)
			if err != nil {
				return
			}
			for f := 0; f < framesPerGroup; f++ {
				if f > 0 && !wait(frameTick) {
					return
				}
				if gw.WriteFrame(moqt.NewFrame(newFrame(time.Now().UnixNano()))) != nil {
					return
				}
			}
			gw.Close()
			if !wait(frameTick) {
				return
			}
		}
	}
}

// parallel runs f(i) for i < n with bounded concurrency.
func parallel(n int, f func(i int) error) error {
	sem := make(chan struct{}, 16)
	errc := make(chan error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := f(i); err != nil {
				errc <- err
			}
		}()
	}
	wg.Wait()
	close(errc)
	return <-errc
}

// runRelay measures n subscribers through a relay process.
func runRelay(n int, paced pacing, d time.Duration) (measure, error) {
	c, err := startChild("relay", 0, paced)
	if err != nil {
		return measure{}, err
	}
	defer c.stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	client := &moqt.Client{TLSConfig: pinned(c.fp)}
	start := make(chan struct{})
	mux := moqt.NewTrackMux()
	mux.PublishFunc(ctx, "/bench", publish(start, paced))
	pub, err := client.Dial(ctx, "moqt://"+c.addr+"/", mux)
	if err != nil {
		return measure{}, err
	}
	defer pub.Close() // the client session announces /bench itself
	rss0, rss0Settled, err := rssPair(c)
	if err != nil {
		return measure{}, err
	}
	s := &sink{}
	sessions := make([]*moqt.Session, n)
	var readers sync.WaitGroup
	defer readers.Wait()
	defer func() {
		for _, sess := range sessions {
			if sess != nil {
				sess.Close()
			}
		}
	}()
	err = parallel(n, func(i int) error {
		sess, err := client.Dial(ctx, "moqt://"+c.addr+"/", nil)
		if err != nil {
			return err
		}
		sessions[i] = sess
		tr, err := sess.Subscribe("/bench", "data", nil)
		if err != nil {
			return err
		}
		readers.Add(1)
		go func() {
			defer readers.Done()
			readTrack(ctx, tr, s)
		}()
		return nil
	})
	if err != nil {
		return measure{}, err
	}
	rssIdle, rssIdleSettled, err := rssPair(c)
	if err != nil {
		return measure{}, err
	}
	close(start)
	m, err := window(s, c, d)
	m.idlePer = (rssIdleSettled - rss0Settled) / int64(n)
	m.idlePerUnsettled = (rssIdle - rss0) / int64(n)
	return m, err
}

func readTrack(ctx context.Context, tr *moqt.TrackReader, s *sink) {
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		gr, err := tr.AcceptGroup(ctx)
		if err != nil {
			s.fail(err)
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			// One buffer per group, reused frame after frame, as readRaw
			// reads: AppendFrame allocates nothing per frame.
			buf := make([]byte, 0, frameSize)
			for {
				var err error
				if buf, err = gr.AppendFrame(buf[:0]); err != nil {
					return
				}
				s.frame(buf, time.Now())
			}
		}()
	}
}

// runRaw measures n connections served by raw quic-go.
func runRaw(n int, paced pacing, d time.Duration) (measure, error) {
	c, err := startChild("raw", n, paced)
	if err != nil {
		return measure{}, err
	}
	defer c.stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, rss0, err := rssPair(c)
	if err != nil {
		return measure{}, err
	}
	s := &sink{}
	conns := make([]*quic.Conn, n)
	var readers sync.WaitGroup
	defer readers.Wait()
	defer func() {
		for _, qc := range conns {
			if qc != nil {
				qc.CloseWithError(0, "")
			}
		}
	}()
	err = parallel(n, func(i int) error {
		qc, err := quic.DialAddr(ctx, c.addr, pinned(c.fp, rawALPN), rawQUICConfig)
		if err != nil {
			return err
		}
		conns[i] = qc
		readers.Add(1)
		go func() {
			defer readers.Done()
			readRaw(ctx, qc, s)
		}()
		return nil
	})
	if err != nil {
		return measure{}, err
	}
	// The connections are accepted and idle: what they cost is quic-go's
	// floor under the relay's idle subscribers.
	if err := c.await("accepted"); err != nil {
		return measure{}, err
	}
	_, rss1, err := rssPair(c)
	if err != nil {
		return measure{}, err
	}
	if _, err := io.WriteString(c.stdin, "start\n"); err != nil {
		return measure{}, err
	}
	m, err := window(s, c, d)
	m.idlePer = (rss1 - rss0) / int64(n)
	return m, err
}

func readRaw(ctx context.Context, qc *quic.Conn, s *sink) {
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		st, err := qc.AcceptUniStream(ctx)
		if err != nil {
			s.fail(err)
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, frameSize)
			for {
				if _, err := io.ReadFull(st, buf); err != nil {
					return
				}
				s.frame(buf, time.Now())
			}
		}()
	}
}

// row is one subscriber count's measurements.
type row struct {
	n                      int
	relay, raw             measure
	relayFrames, rawFrames measure
	relayBurst, rawBurst   measure
	ratios                 []float64 // every repeat's throughput ratio
}

func run(counts []int, d time.Duration, repeat int) error {
	var rows []row
	for _, n := range counts {
		reps := make([]row, repeat)
		for k := range reps {
			fmt.Fprintf(os.Stderr, "fanout: N=%d (%d of %d)...\n", n, k+1, repeat)
			r := &reps[k]
			runs := []struct {
				name string
				m    *measure
				f    func(int, pacing, time.Duration) (measure, error)
				p    pacing
			}{
				{"relay", &r.relay, runRelay, unpaced},
				{"raw", &r.raw, runRaw, unpaced},
				{"relay frame-paced", &r.relayFrames, runRelay, framesPaced},
				{"raw frame-paced", &r.rawFrames, runRaw, framesPaced},
				{"relay burst-paced", &r.relayBurst, runRelay, burstPaced},
				{"raw burst-paced", &r.rawBurst, runRaw, burstPaced},
			}
			for _, x := range runs {
				m, err := x.f(n, x.p, d)
				if err != nil {
					return fmt.Errorf("%s N=%d: %w", x.name, n, err)
				}
				*x.m = m
			}
		}
		rows = append(rows, medianRow(n, reps))
	}

	fmt.Printf("fan-out: 1 publisher -> N subscribers over loopback, groups of %d x %d B frames; window %v after %v warm-up\n\n", framesPerGroup, frameSize, d, warmup)
	fmt.Println("throughput (publisher unpaced) and memory:")
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "N\trelay MB/s\traw MB/s\tratio\trelay CPU s/GB\traw CPU s/GB\trelay RSS MiB\tRSS/idle sub KiB\t(unsettled)\traw RSS/idle conn KiB\t")
	for _, r := range rows {
		ratio := median(r.ratios)
		fmt.Fprintf(w, "%d\t%.1f\t%.1f\t%.2f\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t\n", r.n, r.relay.mbps, r.raw.mbps, ratio,
			r.relay.cpuPerGB, r.raw.cpuPerGB, float64(r.relay.rss)/(1<<20),
			float64(r.relayFrames.idlePer)/1024, float64(r.relayFrames.idlePerUnsettled)/1024, float64(r.rawFrames.idlePer)/1024)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if len(rows) > 0 && len(rows[0].ratios) > 1 {
		fmt.Println("\nmedians of the repeats; the throughput ratio of each repeat:")
		for _, r := range rows {
			fmt.Printf("  N=%d:", r.n)
			for _, x := range r.ratios {
				fmt.Printf(" %.2f", x)
			}
			fmt.Println()
		}
	}
	fmt.Printf("\nlatency, publisher write -> subscriber read, at %d groups/s: frames paced (one every %v) and groups in bursts:\n", groupsPerSecond, frameInterval.Round(10*time.Microsecond))
	w = tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "N\trelay p50\trelay p99\trelay CPU\traw p50\traw p99\traw CPU\t\tburst: relay p50\trelay p99\trelay CPU\traw p50\traw p99\traw CPU\t")
	for _, r := range rows {
		fmt.Fprintf(w, "%d\t%s\t%s\t%.0f%%\t%s\t%s\t%.0f%%\t\t%s\t%s\t%.0f%%\t%s\t%s\t%.0f%%\t\n", r.n,
			ms(r.relayFrames.p50), ms(r.relayFrames.p99), 100*r.relayFrames.cores, ms(r.rawFrames.p50), ms(r.rawFrames.p99), 100*r.rawFrames.cores,
			ms(r.relayBurst.p50), ms(r.relayBurst.p99), 100*r.relayBurst.cores, ms(r.rawBurst.p50), ms(r.rawBurst.p99), 100*r.rawBurst.cores)
	}
	return w.Flush()
}

func ms(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fms", float64(d)/1e6)
}

// medianRow is the row of the repeats' medians, each column its own
// median; ratios keeps every repeat's throughput ratio.
func medianRow(n int, reps []row) row {
	out := row{n: n}
	for _, r := range reps {
		ratio := 0.0
		if r.raw.mbps > 0 {
			ratio = r.relay.mbps / r.raw.mbps
		}
		out.ratios = append(out.ratios, ratio)
	}
	pick := func(get func(*row) *measure) measure {
		ms := make([]measure, len(reps))
		for i := range reps {
			ms[i] = *get(&reps[i])
		}
		return medianMeasure(ms)
	}
	out.relay = pick(func(r *row) *measure { return &r.relay })
	out.raw = pick(func(r *row) *measure { return &r.raw })
	out.relayFrames = pick(func(r *row) *measure { return &r.relayFrames })
	out.rawFrames = pick(func(r *row) *measure { return &r.rawFrames })
	out.relayBurst = pick(func(r *row) *measure { return &r.relayBurst })
	out.rawBurst = pick(func(r *row) *measure { return &r.rawBurst })
	return out
}

// medianMeasure is the measure of each field's median over ms.
func medianMeasure(ms []measure) measure {
	f := func(get func(measure) float64) float64 {
		v := make([]float64, len(ms))
		for i, m := range ms {
			v[i] = get(m)
		}
		return median(v)
	}
	return measure{
		mbps:             f(func(m measure) float64 { return m.mbps }),
		cpuPerGB:         f(func(m measure) float64 { return m.cpuPerGB }),
		rss:              int64(f(func(m measure) float64 { return float64(m.rss) })),
		idlePer:          int64(f(func(m measure) float64 { return float64(m.idlePer) })),
		idlePerUnsettled: int64(f(func(m measure) float64 { return float64(m.idlePerUnsettled) })),
		p50:              time.Duration(f(func(m measure) float64 { return float64(m.p50) })),
		p99:              time.Duration(f(func(m measure) float64 { return float64(m.p99) })),
		delivered:        int64(f(func(m measure) float64 { return float64(m.delivered) })),
		cores:            f(func(m measure) float64 { return m.cores }),
	}
}

// median returns the middle of v (the mean of the two middle values for
// an even count); v is sorted in place.
func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

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
	idlePer  int64   // server RSS growth per idle subscriber, settled (relay only)
	// idlePerUnsettled is idlePer with the handshakes' garbage not
	// collected yet.
	idlePerUnsettled int64
	p50, p99         time.Duration
	delivered        int64
}

// window measures the sink and the child's CPU over d.
func window(s *sink, c *child, d time.Duration) (measure, error) {
	time.Sleep(warmup)
	cpu0, _, err := procStats(c.cmd.Pid)
	if err != nil {
		return measure{}, err
	}
	b0 := s.bytes.Load()
	t0 := time.Now()
	s.record.Store(true)
	time.Sleep(d)
	s.record.Store(false)
	elapsed := time.Since(t0)
	b1 := s.bytes.Load()
	cpu1, rss, err := procStats(c.cmd.Pid)
	if err != nil {
		return measure{}, err
	}
	m := measure{delivered: b1 - b0, rss: rss}
	m.mbps = float64(m.delivered) / elapsed.Seconds() / 1e6
	if m.delivered > 0 {
		m.cpuPerGB = (cpu1 - cpu0) / (float64(m.delivered) / 1e9)
	}
	m.p50, m.p99 = s.percentiles()
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
// paced at groupsPerSecond or as fast as the relay takes them.
func publish(start <-chan struct{}, paced bool) func(*moqt.TrackWriter) {
	return func(tw *moqt.TrackWriter) {
		if tw.WriteInfo(moqt.Info{}) != nil {
			return
		}
		select {
		case <-start:
		case <-tw.Context().Done():
			return
		}
		var tick <-chan time.Time
		if paced {
			t := time.NewTicker(time.Second / groupsPerSecond)
			defer t.Stop()
			tick = t.C
		}
		for g := moqt.GroupSequence(0); ; g++ {
			gw, err := tw.OpenGroup(g)
			if err != nil {
				return
			}
			now := time.Now().UnixNano()
			for f := 0; f < framesPerGroup; f++ {
				if gw.WriteFrame(moqt.NewFrame(newFrame(now))) != nil {
					return
				}
			}
			gw.Close()
			if tick != nil {
				select {
				case <-tick:
				case <-tw.Context().Done():
					return
				}
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
func runRelay(n int, paced bool, d time.Duration) (measure, error) {
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
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				f, err := gr.ReadFrame()
				if err != nil {
					return
				}
				s.frame(f.Bytes(), time.Now())
			}
		}()
	}
}

// runRaw measures n connections served by raw quic-go.
func runRaw(n int, paced bool, d time.Duration) (measure, error) {
	c, err := startChild("raw", n, paced)
	if err != nil {
		return measure{}, err
	}
	defer c.stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
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
		qc, err := quic.DialAddr(ctx, c.addr, pinned(c.fp, rawALPN), &quic.Config{MaxIdleTimeout: time.Minute})
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
	return window(s, c, d)
}

func readRaw(ctx context.Context, qc *quic.Conn, s *sink) {
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		st, err := qc.AcceptUniStream(ctx)
		if err != nil {
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

func run(counts []int, d time.Duration) error {
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(os.Stdout, "fan-out: 1 publisher -> N subscribers over loopback, groups of %d x %d B frames; window %v after %v warm-up\n", framesPerGroup, frameSize, d, warmup)
	fmt.Fprintln(w, "N\trelay MB/s\traw MB/s\tratio\trelay CPU s/GB\traw CPU s/GB\trelay RSS MiB\tRSS/idle sub KiB\t(unsettled)\tp50 @30g/s\tp99 @30g/s\traw p50\traw p99\t")
	for _, n := range counts {
		fmt.Fprintf(os.Stderr, "fanout: N=%d...\n", n)
		rt, err := runRelay(n, false, d)
		if err != nil {
			return fmt.Errorf("relay N=%d: %w", n, err)
		}
		raw, err := runRaw(n, false, d)
		if err != nil {
			return fmt.Errorf("raw N=%d: %w", n, err)
		}
		rl, err := runRelay(n, true, d)
		if err != nil {
			return fmt.Errorf("relay paced N=%d: %w", n, err)
		}
		rawl, err := runRaw(n, true, d)
		if err != nil {
			return fmt.Errorf("raw paced N=%d: %w", n, err)
		}
		ratio := 0.0
		if raw.mbps > 0 {
			ratio = rt.mbps / raw.mbps
		}
		fmt.Fprintf(w, "%d\t%.1f\t%.1f\t%.2f\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%s\t%s\t%s\t%s\t\n", n, rt.mbps, raw.mbps, ratio,
			rt.cpuPerGB, raw.cpuPerGB, float64(rt.rss)/(1<<20), float64(rl.idlePer)/1024, float64(rl.idlePerUnsettled)/1024,
			ms(rl.p50), ms(rl.p99), ms(rawl.p50), ms(rawl.p99))
	}
	return w.Flush()
}

func ms(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fms", float64(d)/1e6)
}

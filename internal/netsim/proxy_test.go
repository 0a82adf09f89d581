package netsim

import (
	"encoding/binary"
	"net"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// sink is a UDP target that records every datagram's arrival time and
// sequence number (the first 8 bytes).
type sink struct {
	c    *net.UDPConn
	got  chan arrival
	echo bool
}

type arrival struct {
	seq uint64
	at  time.Time
}

func newSink(t *testing.T, echo bool) *sink {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadBuffer(socketBuffer)
	s := &sink{c: c, got: make(chan arrival, 4096), echo: echo}
	done := make(chan struct{})
	go func() {
		defer close(done)
		b := make([]byte, maxDatagram)
		for {
			n, from, err := c.ReadFromUDP(b)
			if err != nil {
				return
			}
			if s.echo {
				_, _ = c.WriteToUDP(b[:n], from)
				continue
			}
			s.got <- arrival{binary.BigEndian.Uint64(b), time.Now()}
		}
	}()
	t.Cleanup(func() { c.Close(); <-done })
	return s
}

func newProxy(t *testing.T, target string, cfg Config) (*Proxy, *net.UDPConn) {
	t.Helper()
	p, err := New(target, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	c, err := net.DialUDP("udp", nil, p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadBuffer(socketBuffer)
	t.Cleanup(func() { c.Close() })
	return p, c
}

func send(t *testing.T, c *net.UDPConn, seq uint64, size int) {
	t.Helper()
	b := make([]byte, size)
	binary.BigEndian.PutUint64(b, seq)
	if _, err := c.Write(b); err != nil {
		t.Fatal(err)
	}
}

// collect receives n arrivals or fails after a generous timeout.
func collect(t *testing.T, s *sink, n int) []arrival {
	t.Helper()
	var out []arrival
	timeout := time.After(20 * time.Second)
	for len(out) < n {
		select {
		case a := <-s.got:
			out = append(out, a)
		case <-timeout:
			t.Fatalf("received %d of %d datagrams", len(out), n)
		}
	}
	return out
}

// TestRateAndDelay checks that no datagram arrives before the virtual
// clock allows: the i-th of a burst of 1000-byte datagrams at 1 MB/s
// with 20 ms delay cannot arrive earlier than 20 ms + (i+1) ms after the
// burst was sent.
func TestRateAndDelay(t *testing.T) {
	const (
		n     = 200
		size  = 1000
		rate  = 1_000_000
		delay = 20 * time.Millisecond
	)
	s := newSink(t, false)
	p, c := newProxy(t, s.c.LocalAddr().String(), Config{Up: Link{Rate: rate, QueueBytes: n * size, Delay: delay}})
	start := time.Now()
	for i := range n {
		send(t, c, uint64(i), size)
	}
	got := collect(t, s, n)
	for i, a := range got {
		if a.seq != uint64(i) {
			t.Fatalf("datagram %d arrived in position %d without reordering", a.seq, i)
		}
		earliest := delay + time.Duration(i+1)*time.Second*size/rate
		if d := a.at.Sub(start); d < earliest {
			t.Fatalf("datagram %d arrived after %v, before its earliest %v", i, d, earliest)
		}
	}
	total := got[n-1].at.Sub(start)
	t.Logf("%d x %d bytes at %d B/s + %v: last arrived after %v (ideal %v)", n, size, rate, delay, total,
		delay+time.Duration(n)*time.Second*size/rate)
	if st := p.Stats().Up; st.Delivered != n || st.Overflow != 0 || st.Lost != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// TestQueueOverflow checks drop-tail: a burst far larger than the queue
// loses what does not fit.
func TestQueueOverflow(t *testing.T) {
	const n, size = 100, 1000
	s := newSink(t, false)
	p, c := newProxy(t, s.c.LocalAddr().String(), Config{Up: Link{Rate: 100_000, QueueBytes: 10 * size}})
	for i := range n {
		send(t, c, uint64(i), size)
	}
	waitFor(t, func() bool { st := p.Stats().Up; return st.Delivered+st.Overflow == n })
	st := p.Stats().Up
	got := collect(t, s, int(st.Delivered))
	if st.Overflow < n/2 || len(got) > n/2 {
		t.Fatalf("burst of %d into a %d-byte queue: %+v", n, 10*size, st)
	}
	for i, a := range got {
		if a.seq != uint64(i) {
			t.Fatalf("drop-tail kept datagram %d in position %d", a.seq, i)
		}
	}
}

// waitFor polls cond, which watches the proxy's own counters.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		time.Sleep(time.Millisecond) // polling interval, not synchronisation
	}
}

// TestLossIsSeeded checks the loss rate and that a seed fixes which
// datagrams are lost.
func TestLossIsSeeded(t *testing.T) {
	const n = 500
	run := func(seed uint64) map[uint64]bool {
		s := newSink(t, false)
		p, c := newProxy(t, s.c.LocalAddr().String(), Config{Up: Link{Loss: 0.2}, Seed: seed})
		for i := range n {
			send(t, c, uint64(i), 64)
		}
		waitFor(t, func() bool { st := p.Stats().Up; return st.Delivered+st.Lost == n })
		got := map[uint64]bool{}
		for _, a := range collect(t, s, int(p.Stats().Up.Delivered)) {
			got[a.seq] = true
		}
		return got
	}
	a, b, c := run(7), run(7), run(8)
	lost := n - len(a)
	t.Logf("loss 0.2: lost %d of %d", lost, n)
	if lost < n/10 || lost > n*3/10 {
		t.Fatalf("lost %d of %d at loss 0.2", lost, n)
	}
	if len(a) != len(b) {
		t.Fatalf("same seed lost %d then %d", n-len(a), n-len(b))
	}
	for k := range a {
		if !b[k] {
			t.Fatalf("same seed: datagram %d lost in one run only", k)
		}
	}
	same := len(a) == len(c)
	for k := range a {
		same = same && c[k]
	}
	if same {
		t.Fatal("different seeds lost the same datagrams")
	}
}

// TestReorder checks that held-back datagrams are overtaken but delivered.
func TestReorder(t *testing.T) {
	const n = 200
	s := newSink(t, false)
	p, c := newProxy(t, s.c.LocalAddr().String(), Config{
		Up:   Link{Rate: 1_000_000, QueueBytes: 1 << 20, Reorder: 0.2, ReorderDelay: 5 * time.Millisecond},
		Seed: 1,
	})
	for i := range n {
		send(t, c, uint64(i), 1000)
	}
	got := collect(t, s, n)
	late := 0
	for i := 1; i < n; i++ {
		if got[i].seq < got[i-1].seq {
			late++
		}
	}
	st := p.Stats().Up
	t.Logf("reordered %d, out-of-order arrivals %d", st.Reordered, late)
	if st.Reordered == 0 || late == 0 {
		t.Fatalf("no reordering: %+v, %d late", st, late)
	}
}

// TestRoundTrip checks both directions: an echo through the proxy takes at
// least the sum of the one-way delays.
func TestRoundTrip(t *testing.T) {
	s := newSink(t, true)
	_, c := newProxy(t, s.c.LocalAddr().String(), Config{
		Up:   Link{Delay: 10 * time.Millisecond},
		Down: Link{Delay: 15 * time.Millisecond, Rate: 1_000_000},
	})
	b := make([]byte, 100)
	for i := range 5 {
		start := time.Now()
		send(t, c, uint64(i), 100)
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.Read(b); err != nil {
			t.Fatal(err)
		}
		if rtt := time.Since(start); rtt < 25*time.Millisecond {
			t.Fatalf("rtt %v below the 25ms of delay", rtt)
		}
	}
}

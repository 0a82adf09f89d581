package relay

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"testing"

	"github.com/quic-go/quic-go"

	"github.com/moqgo/moqgo/internal/testcert"
)

// What an idle subscriber costs: a relay keeps one session per viewer, most
// of them waiting for the next group, so the memory and goroutines one
// idle subscription holds bound how many viewers a relay process serves.
// Both ends run in this process, so the figures are per connection pair
// (relay side and subscriber side); the raw quic-go pair measured the same
// way is the floor that MoQT and the relay add to.

// idleSessions is how many idle pairs a measurement opens: enough for the
// per-pair figures to dwarf the noise of one GC cycle.
const idleSessions = 100

// idleCost is what one idle connection pair holds once garbage is
// collected.
type idleCost struct {
	heap       float64 // live heap bytes
	stack      float64 // goroutine stack bytes
	goroutines float64
}

func (c idleCost) String() string {
	return fmt.Sprintf("%.1f KiB heap + %.1f KiB stacks, %.2f goroutines", c.heap/1024, c.stack/1024, c.goroutines)
}

// memSnapshot collects garbage and reads what the process holds. The
// second collection drops what sync.Pools kept through the first.
func memSnapshot() (heap, stack uint64, goroutines int) {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc, ms.StackInuse, runtime.NumGoroutine()
}

// measureIdle opens n idle pairs with open and returns what one costs.
// The pairs stay open until the test ends.
func measureIdle(t testing.TB, n int, open func(t testing.TB)) idleCost {
	t.Helper()
	h0, s0, g0 := memSnapshot()
	for range n {
		open(t)
	}
	h1, s1, g1 := memSnapshot()
	return idleCost{
		heap:       (float64(h1) - float64(h0)) / float64(n),
		stack:      (float64(s1) - float64(s0)) / float64(n),
		goroutines: float64(g1-g0) / float64(n),
	}
}

// rawIdlePairs returns a function opening one idle raw quic-go connection
// pair (datagrams enabled, as MoQT has them) to a loopback listener.
func rawIdlePairs(t testing.TB) func(testing.TB) {
	t.Helper()
	srvTLS, cliTLS, err := testcert.New()
	if err != nil {
		t.Fatal(err)
	}
	const alpn = "moqgo-idle-raw"
	srvTLS.NextProtos, cliTLS.NextProtos = []string{alpn}, []string{alpn}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tr := &quic.Transport{Conn: pc}
	ln, err := tr.Listen(srvTLS, &quic.Config{EnableDatagrams: true})
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan *quic.Conn)
	go func() {
		for {
			c, err := ln.Accept(context.Background())
			if err != nil {
				close(accepted)
				return
			}
			accepted <- c
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		for c := range accepted {
			c.CloseWithError(0, "")
		}
		tr.Close()
		pc.Close()
	})
	ctx := testContext(t)
	return func(t testing.TB) {
		c, err := quic.DialAddr(ctx, pc.LocalAddr().String(), cliTLS, &quic.Config{EnableDatagrams: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.CloseWithError(0, "") })
		// The server's side is complete once it is accepted.
		select {
		case s := <-accepted:
			t.Cleanup(func() { s.CloseWithError(0, "") })
		case <-ctx.Done():
			t.Fatal("connection not accepted")
		}
	}
}

// relayIdleSubscribers returns a function opening one session to a relay
// and subscribing to a track whose publisher sends nothing.
func relayIdleSubscribers(t testing.TB) func(testing.TB) {
	t.Helper()
	e := startRelay(t, Config{})
	ctx := testContext(t)
	f := newFeed()
	f.publish(t, e, "moqt", "/idle")
	waitAnnounced(t, ctx, e.relay, "/idle")
	open := func(t testing.TB) {
		s := e.dial(t, "moqt", nil)
		if _, err := s.Subscribe("/idle", "data", nil); err != nil {
			t.Fatalf("Subscribe: %v", err)
		}
	}
	open(t) // the upstream subscription and the track are made once
	return open
}

// TestIdleSubscriberCost: an idle subscription through the relay costs,
// over the raw quic-go connection pair it runs on, a few KiB and a few
// goroutines per pair, not tens. The goroutine bound is exact; the heap
// bound has room for noise and for Go and quic-go versions, so that a
// regression that keeps a buffer per idle session fails it.
func TestIdleSubscriberCost(t *testing.T) {
	raw := measureIdle(t, idleSessions, rawIdlePairs(t))
	moq := measureIdle(t, idleSessions, relayIdleSubscribers(t))
	t.Logf("raw quic-go pair: %v", raw)
	t.Logf("relay subscriber pair: %v", moq)
	extraHeap := (moq.heap - raw.heap) / 1024
	extraStack := (moq.stack - raw.stack) / 1024
	extraG := moq.goroutines - raw.goroutines
	t.Logf("MoQT and relay add per pair: %.1f KiB heap, %.1f KiB stacks, %.2f goroutines", extraHeap, extraStack, extraG)
	if extraHeap > maxIdleExtraHeapKiB {
		t.Errorf("an idle subscriber pair holds %.1f KiB of heap over raw quic-go, want at most %d", extraHeap, maxIdleExtraHeapKiB)
	}
	if extraG > maxIdleExtraGoroutines+0.5 {
		t.Errorf("an idle subscriber pair runs %.2f goroutines over raw quic-go, want at most %d", extraG, maxIdleExtraGoroutines)
	}
}

// The regression bounds of TestIdleSubscriberCost, per pair (relay side
// plus subscriber side). Goroutines: the relay side runs its session's
// control stream reader only (data streams and datagrams are accepted
// from the session's first SUBSCRIBE, FETCH or PUBLISH on, and the
// subscription is served detached); the subscriber side reads its control
// stream, data streams and datagrams. Heap: about 10 to 20 KiB measured
// (Session, control stream, subscription state on both sides), noisy
// because quic-go's handshake leftovers differ from one run to the next;
// twice that is a regression.
const (
	maxIdleExtraHeapKiB    = 40
	maxIdleExtraGoroutines = 4
)

// BenchmarkIdleSubscriber reports what an idle subscription through the
// relay holds per connection pair (relay and subscriber sides together)
// next to a raw quic-go pair: KiB of live heap and of goroutine stacks,
// and goroutines.
func BenchmarkIdleSubscriber(b *testing.B) {
	for b.Loop() {
		raw := measureIdle(b, idleSessions, rawIdlePairs(b))
		moq := measureIdle(b, idleSessions, relayIdleSubscribers(b))
		b.ReportMetric(raw.heap/1024, "raw-heap-KiB/pair")
		b.ReportMetric(raw.stack/1024, "raw-stack-KiB/pair")
		b.ReportMetric(moq.heap/1024, "heap-KiB/pair")
		b.ReportMetric(moq.stack/1024, "stack-KiB/pair")
		b.ReportMetric(moq.goroutines, "goroutines/pair")
		b.ReportMetric(raw.goroutines, "raw-goroutines/pair")
	}
}

package moqt

import (
	"bytes"
	"context"
	"errors"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/moqgo/moqgo/internal/transport"
)

// gateStream is a transport.SendStream below the network for scheduler
// unit tests: every Write is logged and then waits for the test to let it
// go, so the test controls when the sender chooses again.
type gateStream struct {
	name   string
	log    *writeLog
	reset  chan uint64
	prefix []byte // what CancelWriteAfter delivered
}

type writeLog struct {
	mu     sync.Mutex
	names  []string
	gate   chan struct{} // one value lets one Write return
	writes chan string   // a Write has started
}

func newWriteLog() *writeLog {
	return &writeLog{gate: make(chan struct{}), writes: make(chan string, 64)}
}

func (g *gateStream) Write(p []byte) (int, error) {
	g.log.mu.Lock()
	g.log.names = append(g.log.names, g.name)
	g.log.mu.Unlock()
	g.log.writes <- g.name
	<-g.log.gate
	return len(p), nil
}
func (g *gateStream) Close() error                 { return nil }
func (g *gateStream) CancelWrite(code uint64)      { g.reset <- code }
func (g *gateStream) TryWriteReliable([]byte) bool { return false }
func (g *gateStream) CancelWriteAfter(prefix []byte, code uint64) {
	g.prefix = append([]byte(nil), prefix...)
	g.reset <- code
}
func (g *gateStream) SetWriteDeadline(time.Time) error { return nil }
func (g *gateStream) SetPriority(int)                  {}

// schedFixture is a scheduler with fake tracks.
type schedFixture struct {
	t   *testing.T
	s   *scheduler
	log *writeLog
}

func newSchedFixture(t *testing.T, limit int) *schedFixture {
	ctx, cancel := context.WithCancel(context.Background())
	f := &schedFixture{t: t, s: newScheduler(ctx, &Config{SendBuffer: limit}), log: newWriteLog()}
	t.Cleanup(func() {
		cancel()
		close(f.log.gate) // release a blocked sender
	})
	return f
}

// stream adds a stream of a track (with the given scheduling state) and
// starts the sender if needed.
func (f *schedFixture) stream(tr *schedTrack, name string, group, subgroup uint64, prio uint8) *schedStream {
	f.s.mu.Lock()
	defer f.s.mu.Unlock()
	if !f.s.running {
		f.s.running = true
		go f.s.run()
	}
	return &schedStream{s: f.s, st: &gateStream{name: name, log: f.log, reset: make(chan uint64, 1)}, tr: tr,
		group: group, subgroup: subgroup, prio: prio, idx: -1}
}

func (f *schedFixture) write(ss *schedStream, n int) {
	f.t.Helper()
	if _, err := ss.Write(make([]byte, n)); err != nil {
		f.t.Fatal(err)
	}
}

// occupy writes a byte of first while nothing is pending: the write goes
// straight to the transport (writeDirect) from a goroutine of its own and
// holds it until the gate opens, so that other writes queue meanwhile.
func (f *schedFixture) occupy(first *schedStream) {
	go func() { _, _ = first.Write([]byte{0}) }()
	<-f.log.writes
}

// order occupies the transport with a first stream, queues the others' data,
// then lets the sender go and returns the order in which it wrote.
func (f *schedFixture) order(first *schedStream, rest ...*schedStream) []string {
	f.t.Helper()
	f.occupy(first)
	for _, ss := range rest {
		f.write(ss, 1)
	}
	var got []string
	for range rest {
		f.log.gate <- struct{}{}
		got = append(got, <-f.log.writes)
	}
	return got
}

func wantOrder(t *testing.T, got []string, want ...string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("order %v, want %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("order %v, want %v", got, want)
		}
	}
}

// TestSchedOrder checks the draft-14 §Priorities order: subscriber
// priority, publisher priority, group order, subgroup ID.
func TestSchedOrder(t *testing.T) {
	f := newSchedFixture(t, 1<<20)
	a := &schedTrack{prio: 10}
	b := &schedTrack{prio: 5}
	desc := &schedTrack{prio: 5, desc: true}
	got := f.order(f.stream(a, "first", 0, 0, 0),
		f.stream(a, "a-g1", 1, 0, 0), // subscriber 10
		f.stream(b, "b-g2-pub9", 2, 0, 9),
		f.stream(b, "b-g3-sub1", 3, 1, 3),
		f.stream(b, "b-g2-pub3", 2, 0, 3), // publisher priority beats group
		f.stream(b, "b-g3-sub0", 3, 0, 3),
		f.stream(desc, "d-g1", 1, 0, 200),
		f.stream(desc, "d-g7", 7, 0, 200),
	)
	wantOrder(t, got, "b-g2-pub3", "b-g3-sub0", "b-g3-sub1", "b-g2-pub9", "d-g7", "d-g1", "a-g1")
}

// TestSchedUpdate checks that a new subscriber priority applies to data
// already queued.
func TestSchedUpdate(t *testing.T) {
	f := newSchedFixture(t, 1<<20)
	a := &schedTrack{prio: 1}
	b := &schedTrack{prio: 2}
	first := f.stream(a, "first", 0, 0, 0)
	f.occupy(first)
	f.write(f.stream(a, "a", 1, 0, 0), 1)
	f.write(f.stream(b, "b", 1, 0, 0), 1)
	f.s.mu.Lock()
	a.prio = 3 // what scheduler.update does
	f.s.mu.Unlock()
	f.log.gate <- struct{}{}
	if got := <-f.log.writes; got != "b" {
		t.Fatalf("after the update %q went first, want b", got)
	}
}

// TestSchedRoundRobin checks that subscriptions with equal priorities take
// turns chunk by chunk.
func TestSchedRoundRobin(t *testing.T) {
	f := newSchedFixture(t, 1<<20)
	a, b := &schedTrack{prio: 1}, &schedTrack{prio: 1}
	first := f.stream(&schedTrack{}, "first", 0, 0, 0)
	sa, sb := f.stream(a, "a", 0, 0, 0), f.stream(b, "b", 0, 0, 0)
	f.occupy(first)
	f.write(sa, 3*schedChunk)
	f.write(sb, 3*schedChunk)
	var got []string
	for range 6 {
		f.log.gate <- struct{}{}
		got = append(got, <-f.log.writes)
	}
	for i := 1; i < len(got); i++ {
		if got[i] == got[i-1] {
			t.Fatalf("no turns: %v", got)
		}
	}
}

// TestSchedDeliveryTimeout checks that data older than the delivery
// timeout is not sent and its stream is reset with DELIVERY_TIMEOUT.
func TestSchedDeliveryTimeout(t *testing.T) {
	f := newSchedFixture(t, 1<<20)
	fresh := &schedTrack{prio: 2}
	stale := &schedTrack{prio: 1, timeout: time.Nanosecond}
	first := f.stream(fresh, "first", 0, 0, 0)
	old := f.stream(stale, "stale", 0, 0, 0)
	f.occupy(first)
	f.write(old, 100)
	f.write(f.stream(fresh, "fresh", 1, 0, 0), 1)
	f.log.gate <- struct{}{}
	if got := <-f.log.writes; got != "fresh" {
		t.Fatalf("%q sent, want the stale stream dropped", got)
	}
	if code := <-old.st.(*gateStream).reset; code != uint64(GroupErrorDeliveryTimeout) {
		t.Fatalf("reset with %#x, want DELIVERY_TIMEOUT", code)
	}
	var se *transport.StreamError
	if _, err := old.Write([]byte{1}); !errors.As(err, &se) || se.Code != uint64(GroupErrorDeliveryTimeout) {
		t.Fatalf("write after the timeout: %v", err)
	}
}

// TestSchedSendBuffer checks Config.SendBuffer: a descending subscription
// drops its stalest group to make room; an ascending one makes the writer
// wait (here until its deadline).
func TestSchedSendBuffer(t *testing.T) {
	const limit = 1000
	t.Run("descending", func(t *testing.T) {
		f := newSchedFixture(t, limit)
		tr := &schedTrack{desc: true}
		first := f.stream(&schedTrack{}, "first", 0, 0, 0)
		f.occupy(first)
		g1, g2 := f.stream(tr, "g1", 1, 0, 0), f.stream(tr, "g2", 2, 0, 0)
		f.write(g1, 600)
		f.write(g2, 600)
		if code := <-g1.st.(*gateStream).reset; code != uint64(GroupErrorDeliveryTimeout) {
			t.Fatalf("stale group reset with %#x", code)
		}
		f.s.mu.Lock()
		buffered := tr.buffered
		f.s.mu.Unlock()
		if buffered != 600 {
			t.Fatalf("%d bytes buffered, want 600", buffered)
		}
	})
	t.Run("ascending", func(t *testing.T) {
		f := newSchedFixture(t, limit)
		tr := &schedTrack{}
		first := f.stream(&schedTrack{}, "first", 0, 0, 0)
		f.occupy(first)
		g1, g2 := f.stream(tr, "g1", 1, 0, 0), f.stream(tr, "g2", 2, 0, 0)
		f.write(g1, 600)
		_ = g2.SetWriteDeadline(time.Now().Add(20 * time.Millisecond))
		if _, err := g2.Write(make([]byte, 600)); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("write over the limit: %v, want a deadline error", err)
		}
		select {
		case code := <-g1.st.(*gateStream).reset:
			t.Fatalf("ascending order dropped the older group (%#x)", code)
		default:
		}
	})
}

// TestSchedDirectWrite checks the fast path: a write while nothing is
// pending goes to the transport from the writer's goroutine without being
// queued, and a write made meanwhile is queued and sent right after it.
func TestSchedDirectWrite(t *testing.T) {
	f := newSchedFixture(t, 1<<20)
	tr := &schedTrack{}
	direct, queued := f.stream(tr, "direct", 0, 0, 0), f.stream(tr, "queued", 1, 0, 0)
	returned := make(chan error, 1)
	go func() {
		_, err := direct.Write(make([]byte, 10))
		returned <- err
	}()
	if got := <-f.log.writes; got != "direct" {
		t.Fatalf("%q written, want direct", got)
	}
	f.s.mu.Lock()
	busy, buffered, pooled := f.s.busy, tr.buffered, direct.pooled
	f.s.mu.Unlock()
	if !busy || buffered != 0 || pooled != nil {
		t.Fatalf("direct write: busy %v, %d bytes buffered, buffer %v; want busy, nothing queued", busy, buffered, pooled != nil)
	}
	f.write(queued, 5) // the transport is busy: queued, returns at once
	f.s.mu.Lock()
	buffered = tr.buffered
	f.s.mu.Unlock()
	if buffered != 5 {
		t.Fatalf("%d bytes buffered, want 5", buffered)
	}
	f.log.gate <- struct{}{}
	if err := <-returned; err != nil {
		t.Fatal(err)
	}
	if got := <-f.log.writes; got != "queued" {
		t.Fatalf("%q written next, want queued", got)
	}
}

// recStream is a transport.SendStream below the network that records the
// slices it is handed, to check what the scheduler copied.
type recStream struct {
	mu     sync.Mutex
	writes [][]byte
	closed chan struct{}
}

func (r *recStream) Write(p []byte) (int, error) {
	r.mu.Lock()
	r.writes = append(r.writes, p)
	r.mu.Unlock()
	return len(p), nil
}
func (r *recStream) Close() error                     { close(r.closed); return nil }
func (r *recStream) CancelWrite(uint64)               {}
func (r *recStream) CancelWriteAfter([]byte, uint64)  {}
func (r *recStream) TryWriteReliable([]byte) bool     { return false }
func (r *recStream) SetWriteDeadline(time.Time) error { return nil }
func (r *recStream) SetPriority(int)                  {}

// TestSchedFanOutNoCopy checks that queued payloads are referenced, not
// copied: a 64 KiB Frame written to N subscriptions reaches every
// transport stream as the Frame's own memory, the send buffers count it,
// and queuing it allocates nothing in proportion to N×64 KiB.
func TestSchedFanOutNoCopy(t *testing.T) {
	const subs, size = 16, 64 << 10
	payload := NewFrame(make([]byte, size)).Bytes()
	hdr := []byte{1, 2, 3, 4, 5}
	f := newSchedFixture(t, 1<<20)
	f.occupy(f.stream(&schedTrack{}, "first", 0, 0, 0)) // everything else queues
	streams := make([]*schedStream, subs)
	recs := make([]*recStream, subs)
	tracks := make([]*schedTrack, subs)
	for i := range streams {
		tracks[i] = &schedTrack{}
		recs[i] = &recStream{closed: make(chan struct{})}
		streams[i] = f.stream(tracks[i], "sub", 0, 0, 0)
		streams[i].st = recs[i]
	}
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	for _, ss := range streams {
		if err := ss.writeObject(hdr, payload); err != nil {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&ms1)
	if alloc := ms1.TotalAlloc - ms0.TotalAlloc; alloc >= size {
		t.Errorf("queuing a %d-byte frame for %d subscriptions allocated %d bytes; want less than one frame", size, subs, alloc)
	}
	f.s.mu.Lock()
	for i, tr := range tracks {
		if tr.buffered != len(hdr)+size {
			t.Errorf("subscription %d: %d bytes buffered, want %d", i, tr.buffered, len(hdr)+size)
		}
	}
	f.s.mu.Unlock()
	for _, ss := range streams {
		if err := ss.Close(); err != nil {
			t.Fatal(err)
		}
	}
	f.log.gate <- struct{}{} // the first write returns: the sender sends the rest
	for i, r := range recs {
		<-r.closed
		r.mu.Lock()
		var got []byte
		aliased := 0
		for _, w := range r.writes {
			got = append(got, w...)
			if sameArray(w, payload) {
				aliased += len(w)
			}
		}
		r.mu.Unlock()
		if aliased != size {
			t.Errorf("subscription %d: %d payload bytes reached the transport from the Frame's memory, want all %d", i, aliased, size)
		}
		if len(got) != len(hdr)+size || !bytes.Equal(got[:len(hdr)], hdr) {
			t.Fatalf("subscription %d: transport got %d bytes", i, len(got))
		}
	}
}

// sameArray reports whether a and b are slices of one array that end at
// the same capacity, as the pieces of a payload the scheduler sends do.
func sameArray(a, b []byte) bool {
	return cap(a) > 0 && cap(b) > 0 && &a[:cap(a)][cap(a)-1] == &b[:cap(b)][cap(b)-1]
}

// closedPair occupies the transport with another track's stream, then
// writes and closes two streams of tr, "sent" and "dropped", of 10 bytes
// each, which the scheduler holds until the gate opens.
func (f *schedFixture) closedPair(tr *schedTrack) (sent, dropped *schedStream) {
	f.occupy(f.stream(&schedTrack{}, "first", 0, 0, 0))
	sent, dropped = f.stream(tr, "sent", 1, 0, 0), f.stream(tr, "dropped", 2, 0, 0)
	f.write(sent, 10)
	f.write(dropped, 10)
	_ = sent.Close()
	_ = dropped.Close()
	return sent, dropped
}

// TestSchedWait checks what FetchWriter.Close relies on: wait returns
// once a closed stream's bytes and FIN are handed to the transport, and a
// wait that ends first resets the stream, dropping what is queued.
func TestSchedWait(t *testing.T) {
	f, tr := newSchedFixture(t, 1<<20), &schedTrack{}
	sent, dropped := f.closedPair(tr)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := dropped.wait(ctx, uint64(GroupErrorDeliveryTimeout)); !errors.Is(err, context.Canceled) {
		t.Fatalf("wait with an ended context: %v", err)
	}
	if code := <-dropped.st.(*gateStream).reset; code != uint64(GroupErrorDeliveryTimeout) {
		t.Fatalf("reset with %#x, want DELIVERY_TIMEOUT", code)
	}
	f.s.mu.Lock()
	buffered := tr.buffered
	f.s.mu.Unlock()
	if buffered != 10 {
		t.Fatalf("%d bytes buffered after the drop, want 10", buffered)
	}
	waited := make(chan error, 1)
	go func() { waited <- sent.wait(context.Background(), 0) }()
	f.log.gate <- struct{}{} // the first write returns
	f.log.gate <- struct{}{} // "sent" is written, then finished
	if err := <-waited; err != nil {
		t.Fatalf("wait for a sent stream: %v", err)
	}
}

// TestSchedAfterSent checks what GroupWriter.AfterSent and CancelWrite
// after Close rely on: the callback gets nil once a closed stream's bytes
// and FIN are handed to the transport, runs at once for a stream already
// done, and gets the reset's code when cancelUnsent drops a closed stream
// the scheduler still holds; cancelUnsent leaves a sent stream alone.
func TestSchedAfterSent(t *testing.T) {
	f := newSchedFixture(t, 1<<20)
	sent, dropped := f.closedPair(&schedTrack{})
	results := make(chan error, 2)
	sent.afterSent(func(err error) { results <- err })
	dropped.afterSent(func(err error) { results <- err })
	select {
	case err := <-results:
		t.Fatalf("callback ran before anything was sent: %v", err)
	default:
	}
	dropped.cancelUnsent(uint64(GroupErrorDeliveryTimeout))
	var se *transport.StreamError
	if err := <-results; !errors.As(err, &se) || se.Code != uint64(GroupErrorDeliveryTimeout) {
		t.Fatalf("dropped stream's callback got %v, want DELIVERY_TIMEOUT", err)
	}
	if code := <-dropped.st.(*gateStream).reset; code != uint64(GroupErrorDeliveryTimeout) {
		t.Fatalf("reset with %#x, want DELIVERY_TIMEOUT", code)
	}
	f.log.gate <- struct{}{} // the first write returns
	f.log.gate <- struct{}{} // "sent" is written, then finished
	if err := <-results; err != nil {
		t.Fatalf("sent stream's callback got %v", err)
	}
	sent.cancelUnsent(uint64(GroupErrorCancelled))
	select {
	case code := <-sent.st.(*gateStream).reset:
		t.Fatalf("a stream sent in full was reset (%#x)", code)
	default:
	}
	ran := false
	sent.afterSent(func(err error) { ran = err == nil })
	if !ran {
		t.Fatal("afterSent on a finished stream did not run the callback at once with nil")
	}
}

// TestSchedResetCarriesHeader: a stream reset before any of it was handed
// to the transport is reset after its header (CancelWriteAfter: the
// RESET_STREAM_AT's reliable part), so that the peer can still tell whose
// it was; a stream partly sent is reset plainly.
func TestSchedResetCarriesHeader(t *testing.T) {
	f := newSchedFixture(t, 1<<20)
	tr := &schedTrack{}
	first := f.stream(tr, "first", 0, 0, 0)
	f.occupy(first) // handed to the transport: sent
	queued, unqueued := f.stream(tr, "queued", 1, 0, 0), f.stream(tr, "unqueued", 2, 0, 0)
	queued.hdrLen = 4
	if _, err := queued.Write([]byte("HDR:object")); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		ss         *schedStream
		hdr, reset string
	}{
		{queued, "", "HDR:"},                   // the header queued first
		{unqueued, "own header", "own header"}, // nothing queued: the caller's
		{first, "ignored", ""},                 // partly sent: a plain reset
	} {
		var hdr []byte
		if c.hdr != "" {
			hdr = []byte(c.hdr)
		}
		c.ss.CancelWriteAfter(hdr, uint64(GroupErrorCancelled))
		g := c.ss.st.(*gateStream)
		if code := <-g.reset; code != uint64(GroupErrorCancelled) || string(g.prefix) != c.reset {
			t.Errorf("%s: reset with %#x after %q, want CANCELLED after %q", g.name, code, g.prefix, c.reset)
		}
	}
}

// TestSchedPublisherGroupOrder: a subscription that leaves the group order
// to the publisher (0x0) is scheduled in the order SUBSCRIBE_OK announced;
// an explicit subscriber choice wins.
func TestSchedPublisherGroupOrder(t *testing.T) {
	for _, c := range []struct {
		sub, pub GroupOrder
		desc     bool
	}{
		{GroupOrderDefault, GroupOrderDescending, true},
		{GroupOrderDefault, GroupOrderAscending, false},
		{GroupOrderAscending, GroupOrderDescending, false},
		{GroupOrderDescending, GroupOrderAscending, true},
	} {
		tw := &TrackWriter{config: TrackConfig{GroupOrder: c.sub}, info: Info{GroupOrder: c.pub}}
		var tr schedTrack
		tr.apply(tw.schedConfig())
		if tr.desc != c.desc {
			t.Errorf("subscriber order %d, publisher order %d: descending %v, want %v", c.sub, c.pub, tr.desc, c.desc)
		}
	}
}

package netsim

import (
	"container/heap"
	"math/rand/v2"
	"net"
	"sync"
	"time"
)

// Link describes one direction of the simulated path. The zero Link
// forwards everything at once.
type Link struct {
	// Rate is the bottleneck rate in bytes per second; 0 means unlimited.
	Rate int64
	// QueueBytes bounds the bytes waiting for the bottleneck; a datagram
	// that would exceed it is dropped (drop-tail). Default (0): 50 ms worth
	// of Rate, at least 16 KiB. Ignored when Rate is 0.
	QueueBytes int
	// Delay is the one-way propagation delay added after the bottleneck.
	Delay time.Duration
	// Loss is the probability (0 to 1) that a datagram is dropped.
	Loss float64
	// Reorder is the probability (0 to 1) that a datagram is held back by
	// an extra ReorderDelay, so that later datagrams overtake it.
	Reorder float64
	// ReorderDelay is the extra delay of a reordered datagram. Default
	// (0 with Reorder > 0): 5 ms.
	ReorderDelay time.Duration
}

func (l Link) withDefaults() Link {
	if l.Rate > 0 && l.QueueBytes == 0 {
		l.QueueBytes = max(int(l.Rate/20), 16<<10)
	}
	if l.Reorder > 0 && l.ReorderDelay == 0 {
		l.ReorderDelay = 5 * time.Millisecond
	}
	return l
}

// LinkStats counts what happened to the datagrams of one direction.
type LinkStats struct {
	Packets   uint64 // datagrams offered to the link
	Bytes     uint64 // bytes offered to the link
	Delivered uint64 // datagrams forwarded
	Lost      uint64 // dropped by Loss
	Overflow  uint64 // dropped because the queue was full
	Reordered uint64 // held back by ReorderDelay
}

// packet is one datagram in flight through a link.
type packet struct {
	buf  *[]byte
	n    int
	due  time.Time
	seq  uint64 // arrival order, breaks ties in due
	conn *net.UDPConn
	to   *net.UDPAddr // nil: conn is connected
}

// queue is a min-heap of packets by due time.
type queue []*packet

func (q queue) Len() int { return len(q) }
func (q queue) Less(i, j int) bool {
	if q[i].due.Equal(q[j].due) {
		return q[i].seq < q[j].seq
	}
	return q[i].due.Before(q[j].due)
}
func (q queue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *queue) Push(x any)   { *q = append(*q, x.(*packet)) }
func (q *queue) Pop() any {
	old := *q
	p := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	return p
}

// link is a running Link: packets are admitted by the readers and written
// out by its own goroutine when due.
type link struct {
	pool *sync.Pool

	mu        sync.Mutex
	cfg       Link
	rng       *rand.Rand
	busyUntil time.Time // when the serializer is free (virtual clock)
	seq       uint64
	q         queue
	stats     LinkStats
	closed    bool
	wake      chan struct{}
}

func newLink(cfg Link, seed uint64, pool *sync.Pool) *link {
	return &link{
		pool: pool,
		cfg:  cfg.withDefaults(),
		rng:  rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		wake: make(chan struct{}, 1),
	}
}

func (l *link) set(cfg Link) {
	l.mu.Lock()
	l.cfg = cfg.withDefaults()
	l.mu.Unlock()
}

// admit offers a datagram arriving now; it takes ownership of buf.
func (l *link) admit(buf *[]byte, n int, conn *net.UDPConn, to *net.UDPAddr) {
	now := time.Now()
	l.mu.Lock()
	c := &l.cfg
	l.stats.Packets++
	l.stats.Bytes += uint64(n)
	if l.closed || (c.Loss > 0 && l.rng.Float64() < c.Loss) {
		if !l.closed {
			l.stats.Lost++
		}
		l.mu.Unlock()
		l.pool.Put(buf)
		return
	}
	depart := now
	if c.Rate > 0 {
		if l.busyUntil.Before(now) {
			l.busyUntil = now
		}
		backlog := int64(l.busyUntil.Sub(now)) * c.Rate / int64(time.Second)
		if backlog+int64(n) > int64(c.QueueBytes) {
			l.stats.Overflow++
			l.mu.Unlock()
			l.pool.Put(buf)
			return
		}
		l.busyUntil = l.busyUntil.Add(time.Duration(int64(n) * int64(time.Second) / c.Rate))
		depart = l.busyUntil
	}
	due := depart.Add(c.Delay)
	if c.Reorder > 0 && l.rng.Float64() < c.Reorder {
		l.stats.Reordered++
		due = due.Add(c.ReorderDelay)
	}
	l.seq++
	heap.Push(&l.q, &packet{buf: buf, n: n, due: due, seq: l.seq, conn: conn, to: to})
	first := l.q[0].seq == l.seq
	l.mu.Unlock()
	if first {
		select {
		case l.wake <- struct{}{}:
		default:
		}
	}
}

// run writes packets out when they are due, until done is closed.
func (l *link) run(done <-chan struct{}) {
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	var out []*packet
	for {
		l.mu.Lock()
		now := time.Now()
		out = out[:0]
		for len(l.q) > 0 && !l.q[0].due.After(now) {
			out = append(out, heap.Pop(&l.q).(*packet))
		}
		var wait time.Duration = time.Hour
		if len(l.q) > 0 {
			wait = l.q[0].due.Sub(now)
		}
		l.stats.Delivered += uint64(len(out))
		l.mu.Unlock()
		for _, p := range out {
			b := (*p.buf)[:p.n]
			if p.to != nil {
				_, _ = p.conn.WriteToUDP(b, p.to)
			} else {
				_, _ = p.conn.Write(b)
			}
			l.pool.Put(p.buf)
		}
		t.Reset(wait)
		select {
		case <-done:
			l.mu.Lock()
			l.closed = true
			for _, p := range l.q {
				l.pool.Put(p.buf)
			}
			l.q = nil
			l.mu.Unlock()
			return
		case <-l.wake:
		case <-t.C:
		}
	}
}

func (l *link) snapshot() LinkStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stats
}

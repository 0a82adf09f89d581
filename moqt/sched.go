package moqt

import (
	"context"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/moqgo/moqgo/internal/transport"
)

// schedChunk is the most the sender writes to one stream before choosing
// again: small enough that a newly urgent object waits at most this many
// bytes of a less urgent stream, large enough to keep the transport busy.
const schedChunk = 16 << 10

// dataUrgency is the transport urgency of scheduled data streams: below
// quic-go's default (3), which the control stream keeps, so control
// messages always go first. The scheduler orders the data streams itself.
const dataUrgency = 4

// scheduler decides which group data a session sends next (draft-14
// §Priorities). See "Priorities" in the package docs.
type scheduler struct {
	ctx   context.Context
	limit int // bytes buffered per subscription (Config.SendBuffer)

	alive atomic.Bool // running, readable without s.mu

	mu      sync.Mutex
	ready   []*schedStream // streams with pending bytes
	tracks  map[*TrackWriter]*schedTrack
	stamp   uint64 // counts chunks sent, for round-robin between tracks
	running bool
	busy    bool          // a write is in the transport (sender or direct)
	wake    chan struct{} // wakes the sender when ready grows or busy ends
	space   chan struct{} // closed when buffer space frees; nil if nobody waits

	// Owned by whoever set busy (the sender or a direct write):
	iov     [][]byte // the sender's current chunk, in pieces
	scratch []byte   // a direct write's header and small payload, joined
}

// schedTrack is a subscription's scheduling state.
type schedTrack struct {
	prio     uint8 // subscriber priority
	desc     bool  // descending group order
	timeout  time.Duration
	served   uint64        // stamp of the last chunk sent
	buffered int           // bytes pending in its streams
	closing  int           // closed streams whose FIN is not written yet
	drained  chan struct{} // closed when closing drops to 0; nil if nobody waits
}

// schedMark is the end (a stream offset, see schedStream.queued), enqueue
// time and publisher priority of one write in a stream's queue. The
// priority is a subgroup stream's own; a fetch stream's objects each carry
// theirs, and the stream competes with the priority of the next one.
type schedMark struct {
	end  int
	at   time.Time
	prio uint8
}

// schedSeg is a run of queued bytes: an immutable payload the queue
// references (ref), or else the bytes buf[lo:hi] of the stream's own
// buffer, which holds copies of object headers.
type schedSeg struct {
	ref    []byte
	lo, hi int
}

func (g *schedSeg) len() int {
	if g.ref != nil {
		return len(g.ref)
	}
	return g.hi - g.lo
}

// schedStream is a subgroup stream whose writes are queued and sent by
// the scheduler. It implements transport.SendStream for GroupWriter.
//
// Its queue is a list of segments: object headers are copied into a small
// pooled buffer (consecutive ones share a segment), while payloads, which
// are immutable Frames, are only referenced: fan-out of a Frame to many
// subscriptions queues no copy of it (see writeObject).
//
// It is embedded in its GroupWriter, so it holds only what every stream
// needs: the queue itself (schedBuf) is taken from a pool on the first
// write that queues, so a group sent by one direct write (a small object
// per group) never touches it.
type schedStream struct {
	s        *scheduler
	st       transport.SendStream
	tr       *schedTrack
	group    uint64
	subgroup uint64

	// guarded by s.mu
	pooled   *schedBuf     // the queue; nil until a write queues
	queued   int           // stream offset after the last queued byte
	sentOff  int           // stream offset after the last byte sent
	idx      int           // index in s.ready, -1 if not there
	deadline int64         // Unix nanoseconds bounding a wait for space; 0 for none
	ended    chan struct{} // closed when done; nil if nobody waits
	onSent   func(error)   // called once done (AfterSent); nil if none
	err      error
	prio     uint8
	hdrLen   uint8 // bytes of stream header the first write starts with (discard)
	writing  bool  // the sender is writing pending bytes unlocked
	partial  bool  // a write (object) is partly sent
	fin      bool  // Close called: FIN once drained
	closing  bool  // fin with bytes pending: counted in tr.closing
	started  bool  // written to: later writes queue, to be sent in chunks
	done     bool  // no more writes: finished, reset or failed
}

// schedBuf is a stream's queue, recycled when the stream ends so that a
// group per stream costs no allocation in steady state. Guarded by s.mu.
type schedBuf struct {
	buf   []byte // copied bytes (headers), referenced by segs
	segs  []schedSeg
	seg   int         // first pending segment: segs[seg:]
	head  int         // bytes of segs[seg] already sent
	marks []schedMark // pending writes are marks[mark:]
	mark  int
}

var schedBufs = sync.Pool{New: func() any { return &schedBuf{buf: make([]byte, 0, 512)} }}

// release recycles the queue of an ended stream. Called with s.mu held.
func (ss *schedStream) release() {
	if ss.writing {
		return // the sender releases it when its write returns
	}
	if q := ss.pooled; q != nil {
		q.empty()
		schedBufs.Put(q)
		ss.pooled = nil
	}
}

// pending returns the bytes queued and not sent yet.
func (ss *schedStream) pending() int { return ss.queued - ss.sentOff }

// empty forgets the sent segments once nothing is pending, keeping the
// storage. Called with s.mu held, while the sender is not writing.
func (q *schedBuf) empty() {
	clear(q.segs) // drop the payload references
	q.buf, q.segs, q.marks = q.buf[:0], q.segs[:0], q.marks[:0]
	q.seg, q.head, q.mark = 0, 0, 0
}

// compact moves the pending segments and marks to the front of their
// arrays once the sent ones make up half of them, so that a stream that
// never drains does not grow them. Called with s.mu held, while the
// sender is not writing.
func (q *schedBuf) compact() {
	if q.seg > 0 && 2*q.seg >= len(q.segs) {
		n := copy(q.segs, q.segs[q.seg:])
		clear(q.segs[n:])
		q.segs, q.seg = q.segs[:n], 0
		// The buffer's bytes before the first pending copied segment
		// are sent.
		lo := len(q.buf)
		for i := range q.segs {
			if g := &q.segs[i]; g.ref == nil {
				lo = g.lo
				break
			}
		}
		if lo > 0 {
			q.buf = q.buf[:copy(q.buf, q.buf[lo:])]
			for i := range q.segs {
				if g := &q.segs[i]; g.ref == nil {
					g.lo -= lo
					g.hi -= lo
				}
			}
		}
	}
	if q.mark > 0 && 2*q.mark >= len(q.marks) {
		q.marks, q.mark = q.marks[:copy(q.marks, q.marks[q.mark:])], 0
	}
}

func newScheduler(ctx context.Context, cfg *Config) *scheduler {
	return &scheduler{
		ctx:    ctx,
		limit:  cfg.SendBuffer,
		tracks: make(map[*TrackWriter]*schedTrack),
		wake:   make(chan struct{}, 1),
	}
}

// open makes ss, which lives in its GroupWriter so that a group costs no
// allocation of its own, a scheduled wrapper of st, a new subgroup stream
// of tw. tr is tw's scheduling state if the caller knows it (see track),
// else nil. Once the sender runs and tr is known, it takes no lock: ss is
// not shared yet.
func (s *scheduler) open(ss *schedStream, tw *TrackWriter, tr *schedTrack, st transport.SendStream, group, subgroup uint64, prio uint8) {
	st.SetPriority(dataUrgency)
	if tr == nil {
		tr = s.track(tw)
	}
	if !s.alive.Load() {
		s.mu.Lock()
		if !s.running {
			s.running = true
			s.alive.Store(true)
			go s.run()
		}
		s.mu.Unlock()
	}
	*ss = schedStream{s: s, st: st, tr: tr, group: group, subgroup: subgroup, prio: prio, idx: -1}
}

// track returns tw's scheduling state, creating it on first use. The
// TrackWriter keeps the pointer, so that only its first group looks it up.
func (s *scheduler) track(tw *TrackWriter) *schedTrack {
	s.mu.Lock()
	tr := s.tracks[tw]
	s.mu.Unlock()
	if tr != nil {
		return tr
	}
	cfg := tw.schedConfig() // tw.mu is never taken under s.mu
	s.mu.Lock()
	defer s.mu.Unlock()
	if tr = s.tracks[tw]; tr == nil {
		tr = &schedTrack{}
		tr.apply(cfg)
		s.tracks[tw] = tr
		context.AfterFunc(tw.ctx, func() { s.forget(tw) })
	}
	return tr
}

func (tr *schedTrack) apply(c *TrackConfig) {
	tr.prio = c.Priority
	tr.desc = c.GroupOrder == GroupOrderDescending
	tr.timeout = c.DeliveryTimeout
}

// update applies a SUBSCRIBE_UPDATE of tw to the data not sent yet.
func (s *scheduler) update(tw *TrackWriter) {
	cfg := tw.schedConfig()
	s.mu.Lock()
	if tr := s.tracks[tw]; tr != nil {
		tr.apply(cfg)
	}
	s.mu.Unlock()
}

// closed accounts for the end of a stream that was closing: its FIN was
// written or it was dropped. Called with s.mu held.
func (ss *schedStream) closed() {
	if !ss.closing {
		return
	}
	ss.closing = false
	tr := ss.tr
	tr.closing--
	if tr.closing == 0 && tr.drained != nil {
		close(tr.drained)
		tr.drained = nil
	}
}

// drain waits until every stream of tw that was closed has been handed to
// the transport with its FIN (or dropped), or ctx ends.
func (s *scheduler) drain(ctx context.Context, tw *TrackWriter) error {
	s.mu.Lock()
	tr := s.tracks[tw]
	if tr == nil || tr.closing == 0 {
		s.mu.Unlock()
		return nil
	}
	if tr.drained == nil {
		tr.drained = make(chan struct{})
	}
	drained := tr.drained
	s.mu.Unlock()
	select {
	case <-drained:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-s.ctx.Done():
		return s.ctx.Err()
	}
}

func (s *scheduler) forget(tw *TrackWriter) {
	s.mu.Lock()
	delete(s.tracks, tw)
	s.mu.Unlock()
}

// before reports whether a is sent before b: subscriber priority, then
// publisher priority, then (same subscription) the object already begun,
// group order and lowest subgroup; subscriptions that tie take turns.
func before(a, b *schedStream) bool {
	if a.tr.prio != b.tr.prio {
		return a.tr.prio < b.tr.prio
	}
	if a.prio != b.prio {
		return a.prio < b.prio
	}
	if a.tr != b.tr {
		return a.tr.served < b.tr.served
	}
	if a.partial != b.partial { // finish the object in progress first
		return a.partial
	}
	if a.group != b.group {
		return (a.group < b.group) != a.tr.desc
	}
	return a.subgroup < b.subgroup
}

// pick returns the stream to send from next, dropping streams whose oldest
// pending write is older than their delivery timeout; nil if none.
// Called with s.mu held.
func (s *scheduler) pick(now time.Time) *schedStream {
	var best *schedStream
	for i := len(s.ready) - 1; i >= 0; i-- {
		ss := s.ready[i]
		if t := ss.tr.timeout; t > 0 && !ss.writing && ss.pooled.overdue(now, t) {
			s.drop(ss, GroupErrorDeliveryTimeout)
			continue
		}
		if best == nil || before(ss, best) {
			best = ss
		}
	}
	return best
}

// overdue reports whether the oldest pending write of q waited longer
// than t.
func (q *schedBuf) overdue(now time.Time, t time.Duration) bool {
	return q != nil && q.mark < len(q.marks) && now.Sub(q.marks[q.mark].at) > t
}

// run is the sender: it writes the best stream's next chunk, one chunk at
// a time, so that only that chunk waits in the transport when it is
// congestion or flow-control limited.
func (s *scheduler) run() {
	s.mu.Lock()
	for {
		var ss *schedStream
		if !s.busy { // else a direct write (see Write) is in the transport
			ss = s.pick(time.Now())
		}
		if ss == nil {
			s.mu.Unlock()
			select {
			case <-s.wake:
			case <-s.ctx.Done():
				s.mu.Lock()
				s.running = false
				s.alive.Store(false)
				for len(s.ready) > 0 {
					s.drop(s.ready[0], GroupErrorSessionClosed)
				}
				s.mu.Unlock()
				return
			}
			s.mu.Lock()
			continue
		}
		s.stamp++
		ss.tr.served = s.stamp
		ss.writing = true
		s.busy = true
		iov := ss.pooled.chunk(s.iov[:0])
		first := ss.sentOff == 0 && ss.hdrLen > 0
		s.mu.Unlock()
		var n int
		var err error
		if first {
			n, err = writeFirst(ss.st, iov)
		} else {
			n, err = writev(ss.st, iov)
		}
		clear(iov) // drop the payload references
		s.iov = iov[:0]
		s.mu.Lock()
		s.busy = false
		ss.writing = false
		if ss.done && ss.idx < 0 { // reset while writing
			ss.release()
			continue
		}
		s.sent(ss, n)
		switch {
		case err != nil:
			ss.err = err
			s.fail(ss)
		case ss.pending() == 0:
			s.unready(ss)
			ss.pooled.empty()
			if ss.fin {
				f := ss.onSent
				ss.onSent = nil // run here, not by end on a goroutine
				ss.end()
				ss.release()
				s.mu.Unlock()
				_ = ss.st.Close()
				if f != nil {
					f(nil)
				}
				s.mu.Lock()
				ss.closed()
			}
		}
	}
}

// maxIov bounds the pieces of one chunk.
const maxIov = 32

// chunk appends to iov the next at most schedChunk pending bytes of q:
// pieces of its buffer and of the payloads it references, unchanged until
// the sender is done with them. Called with s.mu held.
func (q *schedBuf) chunk(iov [][]byte) [][]byte {
	left, head := schedChunk, q.head
	for i := q.seg; i < len(q.segs) && left > 0 && len(iov) < maxIov; i++ {
		g := &q.segs[i]
		var b []byte
		if g.ref != nil {
			b = g.ref[head:]
		} else {
			b = q.buf[g.lo+head : g.hi]
		}
		b = b[:min(len(b), left)]
		if n := len(iov); n > 0 && adjacent(iov[n-1], b) {
			// The next piece continues the last one in memory (the
			// runs of a RunEncoder): one write for both.
			iov[n-1] = iov[n-1][:len(iov[n-1])+len(b)]
		} else {
			iov = append(iov, b)
		}
		left -= len(b)
		head = 0
	}
	return iov
}

// adjacent reports whether b starts where a ends, within a's capacity: then
// a[:len(a)+len(b)] is a followed by b.
func adjacent(a, b []byte) bool {
	return len(b) > 0 && cap(a)-len(a) >= len(b) && &a[:len(a)+1][len(a)] == &b[0]
}

// writev writes the pieces of a chunk in order, returning the bytes
// written in all.
func writev(st transport.SendStream, iov [][]byte) (int, error) {
	total := 0
	for _, b := range iov {
		n, err := st.Write(b)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// writeFirst writes a stream's first chunk like writev, its start (the
// header, and what fits with it in transport.MaxReliableWrite) with
// TryWriteReliable: a reset from then on still delivers the header, so the
// peer can tell whose stream it was. Where the transport cannot promise
// that now, it is writev.
func writeFirst(st transport.SendStream, iov [][]byte) (int, error) {
	n := 0
	for len(iov) > 0 && n+len(iov[0]) <= transport.MaxReliableWrite && st.TryWriteReliable(iov[0]) {
		n += len(iov[0])
		iov = iov[1:]
	}
	m, err := writev(st, iov)
	return n + m, err
}

// sent accounts for n bytes of ss written to the transport.
func (s *scheduler) sent(ss *schedStream, n int) {
	ss.sentOff += n
	ss.tr.buffered -= n
	q := ss.pooled
	for left := n; left > 0; {
		g := &q.segs[q.seg]
		if rest := g.len() - q.head; left < rest {
			q.head += left
			break
		} else {
			left -= rest
		}
		*g = schedSeg{} // drop the payload reference
		q.seg++
		q.head = 0
	}
	i := q.mark
	for i < len(q.marks) && q.marks[i].end <= ss.sentOff {
		i++
	}
	ss.partial = n > 0 && (i == q.mark || q.marks[i-1].end != ss.sentOff)
	q.mark = i
	if i < len(q.marks) {
		ss.prio = q.marks[i].prio // a fetch stream's next object's
	}
	s.freed()
}

// freed wakes the writers waiting for buffer space.
func (s *scheduler) freed() {
	if s.space != nil {
		close(s.space)
		s.space = nil
	}
}

func (s *scheduler) unready(ss *schedStream) {
	if ss.idx < 0 {
		return
	}
	last := len(s.ready) - 1
	s.ready[ss.idx] = s.ready[last]
	s.ready[ss.idx].idx = ss.idx
	s.ready[last] = nil
	s.ready = s.ready[:last]
	ss.idx = -1
}

// drop discards the pending bytes of ss, ends it and resets its stream
// with code. Called with s.mu held.
func (s *scheduler) drop(ss *schedStream, code GroupErrorCode) {
	s.discard(ss, true, uint64(code), nil)
}

// fail discards the pending bytes of ss and ends it after its stream
// failed (ss.err). Called with s.mu held.
func (s *scheduler) fail(ss *schedStream) { s.discard(ss, false, 0, nil) }

// discard discards the pending bytes of ss and ends it, resetting its
// stream with code if reset is set. A stream of which nothing has been
// handed to the transport is reset after its header, where the transport
// can deliver that despite the reset (RESET_STREAM_AT with a reliable size
// covering the header, as draft-14 §Closing Subgroup Streams recommends),
// so that the peer learns which subscription lost a subgroup and counts
// the stream for PUBLISH_DONE instead of waiting for it: hdr, or else the
// first hdrLen bytes queued. Called with s.mu held.
func (s *scheduler) discard(ss *schedStream, reset bool, code uint64, hdr []byte) {
	var b [32]byte
	if reset && ss.sentOff == 0 && !ss.writing && hdr == nil {
		hdr = ss.pooled.prefix(b[:0], int(ss.hdrLen))
	} else if ss.sentOff != 0 || ss.writing {
		hdr = nil // the header went out with the first bytes sent
	}
	s.unready(ss)
	ss.tr.buffered -= ss.pending()
	ss.sentOff = ss.queued
	ss.release()
	if reset && ss.err == nil {
		ss.err = &transport.StreamError{Code: code} // before end: AfterSent's error
	}
	ss.end()
	ss.closed()
	if reset && hdr != nil {
		ss.st.CancelWriteAfter(hdr, code)
	} else if reset {
		ss.st.CancelWrite(code)
	}
	s.freed()
}

// prefix appends to b the first n bytes queued in q if nothing of q was sent
// and they were copied (a stream header), else returns nil. q may be nil.
func (q *schedBuf) prefix(b []byte, n int) []byte {
	if q == nil || n == 0 || q.seg != 0 || q.head != 0 || len(q.segs) == 0 {
		return nil
	}
	g := q.segs[0]
	if g.ref != nil || g.hi-g.lo < n {
		return nil
	}
	return append(b, q.buf[g.lo:g.lo+n]...)
}

// evict makes room for ss by dropping the same subscription's stream that
// is sent last, if it is sent after ss: with descending group order new
// groups push out stale ones, with ascending order the writer waits.
func (s *scheduler) evict(ss *schedStream) bool {
	var worst *schedStream
	for _, o := range s.ready {
		if o.tr == ss.tr && o != ss && !o.writing && before(ss, o) && (worst == nil || before(worst, o)) {
			worst = o
		}
	}
	if worst == nil {
		return false
	}
	s.drop(worst, GroupErrorDeliveryTimeout)
	return true
}

// Write queues a copy of p for the scheduler. It waits while the
// subscription's buffer (Config.SendBuffer) is full, unless a stale stream
// can be dropped instead.
func (ss *schedStream) Write(p []byte) (int, error) {
	if err := ss.writeObject(p, nil); err != nil {
		return 0, err
	}
	return len(p), nil
}

// writeObject queues an object: a copy of its header hdr (which the caller
// reuses) and its payload, which must not change until it is sent: it is
// a Frame's, and Frames are immutable. A payload of at most maxInline
// bytes is copied next to the header, a larger one only referenced. Like
// Write, it waits while the subscription's buffer is full.
func (ss *schedStream) writeObject(hdr, payload []byte) error {
	return ss.writePrio(hdr, payload, -1, false)
}

// writePrio is writeObject for an object of publisher priority prio, or
// of the stream's if prio is negative: a fetch stream's objects each have
// their own (draft-14 §Priorities), and the stream is scheduled by that of
// the first object not sent yet. With try set it never waits: where it
// would (no buffer space, or a direct write that could block in the
// transport) it queues nothing and returns ErrWouldBlock.
func (ss *schedStream) writePrio(hdr, payload []byte, prio int, try bool) error {
	s := ss.s
	size := len(hdr) + len(payload)
	s.mu.Lock()
	p := ss.prio
	if prio >= 0 {
		p = uint8(prio)
	}
	if !try && !ss.done && !ss.started && !s.busy && len(s.ready) == 0 && size <= schedChunk && ss.deadline == 0 {
		ss.started = true
		return ss.writeDirect(hdr, payload)
	}
	if err := ss.reserve(size, try); err != nil {
		s.mu.Unlock()
		return err
	}
	ss.queue().object(hdr, payload)
	ss.commit(size, time.Now(), p)
	s.mu.Unlock()
	return nil
}

// reserve waits, with s.mu held (and released meanwhile), until size more
// bytes fit in the subscription's buffer (Config.SendBuffer), dropping a
// stale stream of it if that makes room; with try set it returns
// ErrWouldBlock instead of waiting. It fails once ss is done.
func (ss *schedStream) reserve(size int, try bool) error {
	s := ss.s
	for {
		if ss.done {
			if ss.err != nil {
				return ss.err
			}
			return os.ErrClosed
		}
		if ss.tr.buffered == 0 || ss.tr.buffered+size <= s.limit || s.evict(ss) {
			return nil
		}
		if try {
			return ErrWouldBlock
		}
		if err := ss.waitSpace(); err != nil {
			return err
		}
	}
}

// queue returns the stream's queue, taking one from the pool for the
// first write that queues; ss is started from then on. Called with s.mu
// held.
func (ss *schedStream) queue() *schedBuf {
	ss.started = true
	q := ss.pooled
	if q == nil {
		q = schedBufs.Get().(*schedBuf)
		ss.pooled = q
	} else if !ss.writing {
		q.compact()
	}
	return q
}

// commit accounts for size bytes just queued as one write at time at, of
// publisher priority prio, and makes ss ready for the sender. Called with
// s.mu held.
func (ss *schedStream) commit(size int, at time.Time, prio uint8) {
	s := ss.s
	q := ss.pooled
	ss.queued += size
	q.marks = append(q.marks, schedMark{end: ss.queued, at: at, prio: prio})
	ss.tr.buffered += size
	if ss.idx < 0 {
		ss.prio = prio
		ss.idx = len(s.ready)
		s.ready = append(s.ready, ss)
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

// writeBatch queues a batch of objects as one write (one lock, one
// timestamp, one mark, so that the scheduler sends the batch as a unit):
// hdrs holds their headers back to back, the header of object i ending at
// ends[i], and objs their payloads, queued as writeObject queues them. It
// queues nothing and reports false unless all of it fits in the
// subscription's buffer now and it would not be written directly; the
// caller then writes the objects one by one.
func (ss *schedStream) writeBatch(hdrs []byte, ends []int, objs []*Object) bool {
	s := ss.s
	size := len(hdrs)
	for _, o := range objs {
		size += o.Frame.Len()
	}
	s.mu.Lock()
	if ss.done || !ss.started && !s.busy && len(s.ready) == 0 && size <= schedChunk && ss.deadline == 0 ||
		ss.tr.buffered != 0 && ss.tr.buffered+size > s.limit {
		s.mu.Unlock()
		return false
	}
	q := ss.queue()
	lo := 0
	for i, o := range objs {
		q.object(hdrs[lo:ends[i]], o.Frame.Bytes())
		lo = ends[i]
	}
	ss.commit(size, time.Now(), ss.prio)
	s.mu.Unlock()
	return true
}

// writeRun queues hdr (the subgroup header, if not sent yet; copied) and
// the run r, whose segments are referenced, never copied, as one write.
// It waits for buffer space as writeObject does, or with try set returns
// ErrWouldBlock instead, queuing nothing.
func (ss *schedStream) writeRun(hdr []byte, r *ObjectRun, try bool) error {
	s := ss.s
	size := len(hdr) + r.size
	s.mu.Lock()
	if err := ss.reserve(size, try); err != nil {
		s.mu.Unlock()
		return err
	}
	q := ss.queue()
	q.copy(hdr, nil)
	for _, b := range r.segs {
		q.segs = append(q.segs, schedSeg{ref: b})
	}
	ss.commit(size, time.Now(), ss.prio)
	s.mu.Unlock()
	return nil
}

// object queues an object: a copy of its header hdr and its payload,
// copied next to the header if it is at most maxInline bytes, else
// referenced (it is a Frame's: immutable). Called with s.mu held.
func (q *schedBuf) object(hdr, payload []byte) {
	if len(payload) <= maxInline {
		q.copy(hdr, payload)
		return
	}
	q.copy(hdr, nil)
	q.segs = append(q.segs, schedSeg{ref: payload})
}

// copy queues a copy of a and b, extending the last segment if it is a
// copied one.
func (q *schedBuf) copy(a, b []byte) {
	if len(a)+len(b) == 0 {
		return
	}
	lo := len(q.buf)
	q.buf = append(append(q.buf, a...), b...)
	if n := len(q.segs); n > q.seg && q.segs[n-1].ref == nil && q.segs[n-1].hi == lo {
		q.segs[n-1].hi = len(q.buf) // extends the last copied segment
	} else {
		q.segs = append(q.segs, schedSeg{lo: lo, hi: len(q.buf)})
	}
}

// writeDirect writes hdr and payload straight to the transport from the
// writer's goroutine, with s.mu held on entry and released on return. Only
// when nothing at all is pending (so this is exactly what the sender would
// send next) and the transport is idle: the common case of a live source
// that is not congested then costs neither a queue entry nor a goroutine
// hand-off, and the order the scheduler enforces is unchanged, because one
// write at a time is in the transport either way.
func (ss *schedStream) writeDirect(hdr, payload []byte) error {
	s := ss.s
	s.busy = true
	n := len(hdr) + len(payload)
	first := ss.sentOff == 0 && ss.hdrLen > 0 // see writeFirst
	ss.queued += n                            // and sent: nothing pending
	ss.sentOff += n
	s.mu.Unlock()
	var err error
	if len(payload) <= maxInline {
		// One transport write: quic-go copies a write this small anyway.
		s.scratch = append(append(s.scratch[:0], hdr...), payload...)
		if len(s.scratch) > 0 {
			err = writeStart(ss.st, s.scratch, first)
		}
	} else {
		if len(hdr) > 0 {
			err = writeStart(ss.st, hdr, first)
		}
		if err == nil {
			_, err = ss.st.Write(payload)
		}
	}
	s.mu.Lock()
	s.busy = false
	if err != nil && !ss.done {
		ss.err = err
		s.fail(ss)
	}
	if len(s.ready) > 0 {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
	s.mu.Unlock()
	return err
}

// waitSpace waits, with s.mu held and released meanwhile, until buffer
// space may have been freed.
func (ss *schedStream) waitSpace() error {
	s := ss.s
	if s.space == nil {
		s.space = make(chan struct{})
	}
	space, deadline := s.space, ss.deadline
	s.mu.Unlock()
	var timeout <-chan time.Time
	if deadline != 0 {
		t := time.NewTimer(time.Until(time.Unix(0, deadline)))
		defer t.Stop()
		timeout = t.C
	}
	var err error
	select {
	case <-space:
	case <-timeout:
		err = os.ErrDeadlineExceeded
	case <-s.ctx.Done():
		err = os.ErrClosed
	}
	s.mu.Lock()
	return err
}

// Close finishes the stream once its pending bytes are sent.
func (ss *schedStream) Close() error {
	s := ss.s
	s.mu.Lock()
	if ss.done || ss.fin {
		s.mu.Unlock()
		return nil
	}
	ss.fin = true
	now := ss.idx < 0
	if now {
		ss.end()
		ss.release()
	} else {
		ss.closing = true
		ss.tr.closing++
	}
	s.mu.Unlock()
	if now {
		return ss.st.Close()
	}
	return nil
}

// end marks ss done. Called with s.mu held, so an AfterSent callback
// still set runs on a goroutine of its own: the caller may hold its own
// locks too.
func (ss *schedStream) end() {
	ss.done = true
	if ss.ended != nil {
		close(ss.ended)
		ss.ended = nil
	}
	if f := ss.onSent; f != nil {
		ss.onSent = nil
		go f(ss.err)
	}
}

// afterSent arranges for f to be called with nil once ss has been handed
// to the transport in full, FIN included, or with why not once it was
// reset or failed; if ss is done already, f runs now, on the caller's
// goroutine.
func (ss *schedStream) afterSent(f func(error)) {
	s := ss.s
	s.mu.Lock()
	if !ss.done {
		ss.onSent = f
		s.mu.Unlock()
		return
	}
	err := ss.err
	s.mu.Unlock()
	f(err)
}

// unsent reports whether no byte of ss has been handed to the transport,
// or is being handed now.
func (ss *schedStream) unsent() bool {
	s := ss.s
	s.mu.Lock()
	defer s.mu.Unlock()
	return ss.sentOff == 0 && !ss.writing
}

// cancelUnsent resets the stream with code if it is not done yet: a
// closed stream whose bytes the scheduler still holds is dropped, one
// already handed to the transport in full is left alone.
func (ss *schedStream) cancelUnsent(code uint64) {
	s := ss.s
	s.mu.Lock()
	if !ss.done {
		s.drop(ss, GroupErrorCode(code))
	}
	s.mu.Unlock()
}

// wait waits until ss is done: everything written, FIN included, handed
// to the transport, or the stream reset. If ctx ends first, it resets the
// stream with code, dropping what is still queued. It returns nil if the
// stream was finished, else why not.
func (ss *schedStream) wait(ctx context.Context, code uint64) error {
	s := ss.s
	s.mu.Lock()
	if !ss.done {
		if ss.ended == nil {
			ss.ended = make(chan struct{})
		}
		ended := ss.ended
		s.mu.Unlock()
		select {
		case <-ended:
		case <-ctx.Done():
			s.mu.Lock()
			if !ss.done {
				s.drop(ss, GroupErrorCode(code))
			}
			s.mu.Unlock()
			return ctx.Err()
		case <-s.ctx.Done():
			return os.ErrClosed
		}
		s.mu.Lock()
	}
	err := ss.err
	s.mu.Unlock()
	return err
}

// CancelWrite discards the pending bytes and resets the stream.
func (ss *schedStream) CancelWrite(code uint64) { ss.CancelWriteAfter(nil, code) }

// CancelWriteAfter is CancelWrite, resetting a stream of which nothing
// was sent after hdr (the stream's header, which the group has not
// queued yet) or else after the header queued (see discard).
func (ss *schedStream) CancelWriteAfter(hdr []byte, code uint64) {
	s := ss.s
	s.mu.Lock()
	if ss.done {
		s.mu.Unlock()
		ss.st.CancelWrite(code) // a no-op unless it ended with a FIN
		return
	}
	s.discard(ss, true, code, hdr)
	s.mu.Unlock()
}

// SetWriteDeadline bounds how long Write waits for buffer space.
func (ss *schedStream) SetWriteDeadline(t time.Time) error {
	var d int64
	if !t.IsZero() {
		d = max(t.UnixNano(), 1)
	}
	ss.s.mu.Lock()
	ss.deadline = d
	ss.s.mu.Unlock()
	return nil
}

// TryWriteReliable writes nothing (the caller then writes with Write):
// the scheduler makes a stream's first write reliable itself (writeFirst).
func (ss *schedStream) TryWriteReliable([]byte) bool { return false }

// SetPriority does nothing: the scheduler orders the streams.
func (ss *schedStream) SetPriority(int) {}

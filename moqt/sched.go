package moqt

import (
	"context"
	"os"
	"sync"
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

	mu      sync.Mutex
	ready   []*schedStream // streams with pending bytes
	tracks  map[*TrackWriter]*schedTrack
	stamp   uint64 // counts chunks sent, for round-robin between tracks
	running bool
	busy    bool          // a write is in the transport (sender or direct)
	wake    chan struct{} // wakes the sender when ready grows or busy ends
	space   chan struct{} // closed when buffer space frees; nil if nobody waits
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

// schedMark is the end offset and enqueue time of one write in a stream's
// buffer.
type schedMark struct {
	end int
	at  time.Time
}

// schedStream is a subgroup stream whose writes are buffered and sent by
// the scheduler. It implements transport.SendStream for GroupWriter.
type schedStream struct {
	s        *scheduler
	st       transport.SendStream
	tr       *schedTrack
	group    uint64
	subgroup uint64
	prio     uint8

	// guarded by s.mu
	pooled   *schedBuf // where buf and marks came from
	buf      []byte    // pending bytes are buf[off:]
	off      int
	marks    []schedMark
	idx      int  // index in s.ready, -1 if not there
	writing  bool // the sender is writing buf[off:...] unlocked
	partial  bool // a write (object) is partly sent
	fin      bool // Close called: FIN once drained
	closing  bool // fin with bytes pending: counted in tr.closing
	started  bool // written to: later writes queue, to be sent in chunks
	done     bool // no more writes: finished, reset or failed
	err      error
	deadline time.Time
}

// schedBuf is a stream's buffer, recycled when the stream ends so that a
// group per stream costs no buffer allocation in steady state.
type schedBuf struct {
	b     []byte
	marks []schedMark
}

var schedBufs = sync.Pool{New: func() any { return &schedBuf{b: make([]byte, 0, schedChunk)} }}

// release recycles the buffer of an ended stream. Called with s.mu held.
func (ss *schedStream) release() {
	if ss.pooled != nil && !ss.writing {
		ss.pooled.b, ss.pooled.marks = ss.buf[:0], ss.marks[:0]
		schedBufs.Put(ss.pooled)
	}
	ss.pooled, ss.buf, ss.off, ss.marks = nil, nil, 0, nil
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
// of tw.
func (s *scheduler) open(ss *schedStream, tw *TrackWriter, st transport.SendStream, group, subgroup uint64, prio uint8) {
	st.SetPriority(dataUrgency)
	s.mu.Lock()
	tr := s.tracks[tw]
	if tr == nil {
		s.mu.Unlock()
		cfg := tw.TrackConfig() // tw.mu is never taken under s.mu
		s.mu.Lock()
		if tr = s.tracks[tw]; tr == nil {
			tr = &schedTrack{}
			tr.apply(cfg)
			s.tracks[tw] = tr
			context.AfterFunc(tw.ctx, func() { s.forget(tw) })
		}
	}
	if !s.running {
		s.running = true
		go s.run()
	}
	*ss = schedStream{s: s, st: st, tr: tr, group: group, subgroup: subgroup, prio: prio, idx: -1}
	s.mu.Unlock()
}

func (tr *schedTrack) apply(c *TrackConfig) {
	tr.prio = c.Priority
	tr.desc = c.GroupOrder == GroupOrderDescending
	tr.timeout = c.DeliveryTimeout
}

// update applies a SUBSCRIBE_UPDATE of tw to the data not sent yet.
func (s *scheduler) update(tw *TrackWriter) {
	cfg := tw.TrackConfig()
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
		if t := ss.tr.timeout; t > 0 && !ss.writing && len(ss.marks) > 0 && now.Sub(ss.marks[0].at) > t {
			s.drop(ss, GroupErrorDeliveryTimeout)
			continue
		}
		if best == nil || before(ss, best) {
			best = ss
		}
	}
	return best
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
		chunk := ss.buf[ss.off:min(len(ss.buf), ss.off+schedChunk)]
		s.mu.Unlock()
		n, err := ss.st.Write(chunk)
		s.mu.Lock()
		s.busy = false
		ss.writing = false
		if ss.done && ss.idx < 0 { // reset while writing
			continue
		}
		s.sent(ss, n)
		switch {
		case err != nil:
			ss.err = err
			s.drop(ss, 0)
		case ss.off == len(ss.buf):
			s.unready(ss)
			ss.buf, ss.off, ss.marks = ss.buf[:0], 0, ss.marks[:0]
			if ss.fin {
				ss.done = true
				ss.release()
				s.mu.Unlock()
				_ = ss.st.Close()
				s.mu.Lock()
				ss.closed()
			}
		}
	}
}

// sent accounts for n bytes of ss written to the transport.
func (s *scheduler) sent(ss *schedStream, n int) {
	ss.off += n
	ss.tr.buffered -= n
	i := 0
	for i < len(ss.marks) && ss.marks[i].end <= ss.off {
		i++
	}
	ss.partial = n > 0 && (i == 0 || ss.marks[i-1].end != ss.off)
	// Shift rather than reslice, so that the array keeps its capacity
	// for the next writes and for the pool.
	ss.marks = ss.marks[:copy(ss.marks, ss.marks[i:])]
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

// drop discards the pending bytes of ss and ends it; a nonzero code resets
// its stream. Called with s.mu held.
func (s *scheduler) drop(ss *schedStream, code GroupErrorCode) {
	s.unready(ss)
	ss.tr.buffered -= len(ss.buf) - ss.off
	ss.release()
	ss.done = true
	ss.closed()
	if code != 0 {
		if ss.err == nil {
			ss.err = &transport.StreamError{Code: uint64(code)}
		}
		ss.st.CancelWrite(uint64(code))
	}
	s.freed()
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

// Write queues p for the scheduler. It waits while the subscription's
// buffer (Config.SendBuffer) is full, unless a stale stream can be
// dropped instead.
func (ss *schedStream) Write(p []byte) (int, error) {
	s := ss.s
	s.mu.Lock()
	for {
		if ss.done {
			err := ss.err
			s.mu.Unlock()
			if err == nil {
				err = os.ErrClosed
			}
			return 0, err
		}
		if !ss.started && !s.busy && len(s.ready) == 0 && len(p) <= schedChunk && ss.deadline.IsZero() {
			ss.started = true
			return ss.writeDirect(p)
		}
		if ss.tr.buffered == 0 || ss.tr.buffered+len(p) <= s.limit || s.evict(ss) {
			break
		}
		if err := ss.waitSpace(); err != nil {
			s.mu.Unlock()
			return 0, err
		}
	}
	ss.started = true
	if ss.off > 0 && !ss.writing {
		n := copy(ss.buf, ss.buf[ss.off:])
		ss.buf = ss.buf[:n]
		for i := range ss.marks {
			ss.marks[i].end -= ss.off
		}
		ss.off = 0
	}
	if ss.pooled == nil {
		ss.pooled = schedBufs.Get().(*schedBuf)
		ss.buf, ss.marks = ss.pooled.b, ss.pooled.marks
	}
	ss.buf = append(ss.buf, p...)
	ss.marks = append(ss.marks, schedMark{end: len(ss.buf), at: time.Now()})
	ss.tr.buffered += len(p)
	if ss.idx < 0 {
		ss.idx = len(s.ready)
		s.ready = append(s.ready, ss)
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
	s.mu.Unlock()
	return len(p), nil
}

// writeDirect writes p straight to the transport from the writer's
// goroutine, with s.mu held on entry and released on return. Only when
// nothing at all is pending (so p is exactly what the sender would send
// next) and the transport is idle: the common case of a live source that
// is not congested then costs neither a copy nor a goroutine hand-off, and
// the order the scheduler enforces is unchanged, because one write at a
// time is in the transport either way.
func (ss *schedStream) writeDirect(p []byte) (int, error) {
	s := ss.s
	s.busy = true
	s.mu.Unlock()
	n, err := ss.st.Write(p)
	s.mu.Lock()
	s.busy = false
	if err != nil && !ss.done {
		ss.err = err
		s.drop(ss, 0)
	}
	if len(s.ready) > 0 {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
	s.mu.Unlock()
	return n, err
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
	if !deadline.IsZero() {
		t := time.NewTimer(time.Until(deadline))
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
	ss.done = now
	if now {
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

// CancelWrite discards the pending bytes and resets the stream.
func (ss *schedStream) CancelWrite(code uint64) {
	s := ss.s
	s.mu.Lock()
	s.drop(ss, 0)
	s.mu.Unlock()
	ss.st.CancelWrite(code)
}

// SetWriteDeadline bounds how long Write waits for buffer space.
func (ss *schedStream) SetWriteDeadline(t time.Time) error {
	ss.s.mu.Lock()
	ss.deadline = t
	ss.s.mu.Unlock()
	return nil
}

// SetPriority does nothing: the scheduler orders the streams.
func (ss *schedStream) SetPriority(int) {}

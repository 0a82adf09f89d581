package moqt

import (
	"context"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/moqgo/moqgo/internal/wire"
)

// datagramState is a session's receive state for datagram groups: per
// subscription, the groups it remembers. Only the datagram loop adds to it;
// timers end idle groups.
type datagramState struct {
	mu        sync.Mutex
	tracks    map[*TrackReader]*datagramTrack
	held      []heldDatagram // for aliases not known yet
	replaying bool           // replayHeld is running
}

// datagramTrack holds a subscription's datagram groups, open and recently
// ended (so that a late datagram does not reopen an ended group).
type datagramTrack struct {
	groups map[uint64]*GroupReader
	newest uint64
	floor  uint64 // datagrams of groups below it are dropped
}

// datagramGroup is the datagram side of a GroupReader.
type datagramGroup struct {
	objs     chan datagramObject // closed when the group ends
	stop     chan struct{}       // closed by CancelRead
	stopOnce sync.Once
	code     GroupErrorCode
	deadline atomic.Int64 // Unix ns of the read deadline, 0 for none

	// guarded by datagramState.mu
	ended bool
	last  time.Time
	timer *time.Timer
}

type datagramObject struct {
	id     uint64
	status wire.ObjectStatus
	ext    []byte
	frame  *Frame
}

// startDatagramLoop starts the session's datagram loop once: when the
// session first sends a SUBSCRIBE or FETCH (bringsData) or accepts a
// PUBLISH, as startUniLoop. Datagrams only carry
// objects of the session's own subscriptions, so until then the loop has
// nothing to deliver, and a session that only serves subscribers (most of
// a relay's) saves its goroutine. The trade-off: datagrams a peer sends
// before that stay in quic-go's bounded datagram queue (the excess is
// dropped, as datagrams may be), so a malformed one is only noticed once
// the loop runs.
func (s *Session) startDatagramLoop() {
	s.dgramLoop.Do(func() {
		s.wg.Add(1)
		go s.datagramLoop()
	})
}

// datagramLoop receives the session's datagrams. A malformed datagram
// closes the session (PROTOCOL_VIOLATION); one for an unknown track alias
// is dropped (a datagram is never worth holding).
func (s *Session) datagramLoop() {
	defer s.wg.Done()
	var d wire.Datagram
	for {
		b, err := s.conn.ReceiveDatagram(s.ctx)
		if err != nil {
			return
		}
		if err := wire.ParseDatagram(b, &d, s.version); err != nil {
			s.failErr(err)
			return
		}
		s.mu.Lock()
		tr := s.aliases[d.TrackAlias]
		s.mu.Unlock()
		if tr != nil {
			s.dgram.mu.Lock()
			if len(s.dgram.held) > 0 {
				s.replayLocked() // earlier datagrams first
			}
			s.dgram.receiveLocked(tr, &d)
			s.dgram.mu.Unlock()
		} else {
			s.holdDatagram(d)
		}
	}
}

// maxHeldDatagrams bounds the datagrams held for unknown track aliases.
const maxHeldDatagrams = 64

// heldDatagram is a datagram that arrived before the SUBSCRIBE_OK naming
// its track alias.
type heldDatagram struct {
	d  wire.Datagram
	at time.Time
}

// holdDatagram keeps d for Config.PendingStreamTimeout in case the
// SUBSCRIBE_OK of its alias is still being processed: the publisher sends
// it before any datagram, but the control stream and the datagrams are read
// by different goroutines. At most maxHeldDatagrams are held; others are
// dropped, as are datagrams for subscriptions that ended.
func (s *Session) holdDatagram(d wire.Datagram) {
	st := &s.dgram
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.held) >= maxHeldDatagrams {
		return
	}
	st.held = append(st.held, heldDatagram{d: d, at: time.Now()})
	if !st.replaying {
		st.replaying = true
		s.wg.Add(1)
		go s.replayHeld()
	}
}

// replayLocked delivers the held datagrams whose alias is known now and
// drops the expired ones; s.dgram.mu is held.
func (s *Session) replayLocked() {
	st := &s.dgram
	kept := st.held[:0]
	for _, h := range st.held {
		s.mu.Lock()
		tr := s.aliases[h.d.TrackAlias]
		s.mu.Unlock()
		switch {
		case tr != nil:
			st.receiveLocked(tr, &h.d)
		case time.Since(h.at) < s.cfg.PendingStreamTimeout && s.ctx.Err() == nil:
			kept = append(kept, h)
		}
	}
	clear(st.held[len(kept):])
	st.held = kept
}

// replayHeld delivers held datagrams once their alias is known and drops
// them when they expire, returning when none is left.
func (s *Session) replayHeld() {
	defer s.wg.Done()
	st := &s.dgram
	timer := time.NewTimer(s.cfg.PendingStreamTimeout)
	defer timer.Stop()
	for {
		s.mu.Lock()
		more := s.aliasMore
		s.mu.Unlock()
		st.mu.Lock()
		s.replayLocked()
		if len(st.held) == 0 {
			st.replaying = false
			st.mu.Unlock()
			return
		}
		wait := s.cfg.PendingStreamTimeout - time.Since(st.held[0].at)
		st.mu.Unlock()
		timer.Reset(max(wait, 0))
		select {
		case <-more:
		case <-timer.C:
		case <-s.ctx.Done():
		}
	}
}

// receiveLocked files one datagram under its group, opening the group if
// new; st.mu is held.
func (st *datagramState) receiveLocked(tr *TrackReader, d *wire.Datagram) {
	cfg := tr.sess.cfg
	t := st.tracks[tr]
	if t == nil {
		if tr.ctx.Err() != nil {
			return
		}
		if st.tracks == nil {
			st.tracks = make(map[*TrackReader]*datagramTrack)
		}
		t = &datagramTrack{groups: make(map[uint64]*GroupReader), newest: d.GroupID}
		st.tracks[tr] = t
		context.AfterFunc(tr.ctx, func() { st.forget(tr) })
	}
	gr := t.groups[d.GroupID]
	if gr == nil {
		if d.GroupID < t.floor {
			return
		}
		for len(t.groups) >= cfg.MaxDatagramGroups {
			st.evict(t)
		}
		gr = groupReaders.new()
		gr.setHeader(tr, wire.SubgroupHeader{TrackAlias: d.TrackAlias, GroupID: d.GroupID, PublisherPriority: d.PublisherPriority}, tr.sess.version)
		gr.dg = &datagramGroup{objs: make(chan datagramObject, cfg.MaxDatagramObjects), stop: make(chan struct{})}
		t.groups[d.GroupID] = gr
		// Not deliver: PUBLISH_DONE's stream count does not include
		// datagram groups.
		if !tr.groups.push(gr, cfg.MaxPendingGroups) {
			st.end(gr.dg) // the reader is behind: drop the group
		}
		if d.GroupID > t.newest {
			t.newest = d.GroupID
			st.superseded(t, cfg.DatagramGroupTimeout)
		}
	}
	g := gr.dg
	if g.ended {
		return
	}
	g.last = time.Now()
	o := datagramObject{id: d.ObjectID, status: d.Status, ext: d.Extensions}
	if d.Status == wire.StatusNormal {
		o.frame = frames.new()
		o.frame.b = d.Payload // the datagram buffer is ours: no copy
	}
	select {
	case g.objs <- o:
	default: // the reader is behind: drop it like a lost datagram
	}
	if d.EndOfGroup || d.Status == wire.StatusEndOfGroup || d.Status == wire.StatusEndOfTrack {
		st.end(g)
	}
}

// superseded arms the idle timer of every open group older than the newest.
func (st *datagramState) superseded(t *datagramTrack, timeout time.Duration) {
	for id, gr := range t.groups {
		g := gr.dg
		if id >= t.newest || g.ended || g.timer != nil {
			continue
		}
		g.timer = time.AfterFunc(timeout, func() { st.idle(g, timeout) })
	}
}

// idle ends g if no datagram arrived for timeout, or checks again later.
func (st *datagramState) idle(g *datagramGroup, timeout time.Duration) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if g.ended {
		return
	}
	if wait := timeout - time.Since(g.last); wait > 0 {
		g.timer.Reset(wait)
		return
	}
	st.end(g)
}

// evict forgets the oldest group of t, ending it if open.
func (st *datagramState) evict(t *datagramTrack) {
	oldest := uint64(0)
	first := true
	for id := range t.groups {
		if first || id < oldest {
			oldest, first = id, false
		}
	}
	st.end(t.groups[oldest].dg)
	delete(t.groups, oldest)
	t.floor = max(t.floor, oldest+1)
}

// end ends a group: ReadFrame returns io.EOF after the queued objects.
func (st *datagramState) end(g *datagramGroup) {
	if g.ended {
		return
	}
	g.ended = true
	close(g.objs)
	if g.timer != nil {
		g.timer.Stop()
	}
}

// forget drops the state of a subscription that ended.
func (st *datagramState) forget(tr *TrackReader) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if t := st.tracks[tr]; t != nil {
		for _, gr := range t.groups {
			st.end(gr.dg)
		}
		delete(st.tracks, tr)
	}
}

// Datagram reports whether the group arrives as datagrams
// (TrackWriter.OpenDatagramGroup) rather than on a subgroup stream; a relay
// forwards it the same way.
func (gr *GroupReader) Datagram() bool { return gr.dg != nil }

// cancel stops reading: a blocked ReadFrame returns a *GroupError.
func (g *datagramGroup) cancel(code GroupErrorCode) {
	g.stopOnce.Do(func() {
		g.code = code
		close(g.stop)
	})
}

// nextDatagram takes the next object of a datagram group into gr.obj; gr.mu
// is held.
func (gr *GroupReader) nextDatagram() (*Frame, error) {
	g := gr.dg
	var timeout <-chan time.Time
	if ns := g.deadline.Load(); ns != 0 {
		t := time.NewTimer(time.Until(time.Unix(0, ns)))
		defer t.Stop()
		timeout = t.C
	}
	select {
	case o, ok := <-g.objs:
		if !ok {
			gr.err = io.EOF
			return nil, io.EOF
		}
		return gr.takeDatagram(o), nil
	case <-g.stop:
		gr.err = &GroupError{Code: g.code}
		return nil, gr.err
	case <-gr.tr.ctx.Done():
		// The track ended: what arrived is still read, then the group ends.
		select {
		case o, ok := <-g.objs:
			if ok {
				return gr.takeDatagram(o), nil
			}
		default:
		}
		gr.err = io.EOF
		if c := context.Cause(gr.tr.ctx); c != io.EOF {
			gr.err = c
		}
		return nil, gr.err
	case <-timeout:
		return nil, os.ErrDeadlineExceeded
	}
}

// takeDatagram makes o the current object, as next does for a stream.
func (gr *GroupReader) takeDatagram(o datagramObject) *Frame {
	gr.obj = wire.Object{GroupID: uint64(gr.seq), ObjectID: o.id, Status: o.status, Extensions: o.ext}
	return o.frame
}

package moqt

import (
	"sync"
	"time"
)

// streamHold bounds how long a data stream keeps its place ahead of the
// streams the peer opened after it: while its header or its SUBSCRIBE_OK
// has not arrived, or while it has not been accepted at all although a
// later stream has (WebTransport accepts streams concurrently). Past it,
// the later streams go ahead and the stream is delivered when it is ready.
const streamHold = 10 * time.Millisecond

// streamOrder hands a session's data streams to their subscriptions in the
// order the peer opened them, which is the order of their QUIC stream IDs.
//
// QUIC lets a stream's data arrive, and webtransport-go lets a stream be
// accepted, before the data or acceptance of a stream opened earlier; and a
// stream that arrives before its SUBSCRIBE_OK is resolved on a goroutine of
// its own. Without this order, groups written back to back would reach
// TrackReader.AcceptGroup in whatever order those races end. The common
// case, the next stream in order ready at once, passes straight through;
// only streams behind a gap or an unready stream are held, each for at most
// streamHold, so that neither flow control nor a lost header can hold the
// rest for long.
type streamOrder struct {
	mu    sync.Mutex
	init  bool
	next  uint64       // ID of the next stream in opening order
	held  []orderEntry // streams waiting for their turn, by ID
	timer *time.Timer  // runs release at the front's deadline
	armed time.Time    // when timer fires; zero if it is not set
}

type orderEntry struct {
	gr    *GroupReader
	id    uint64
	at    time.Time // when it was accepted
	ready bool      // gr.tr is known: deliver it in its turn
}

// uniStreamStep is the distance between the IDs of consecutive streams of
// one type opened by one peer (RFC 9000 §2.1).
const uniStreamStep = 4

// admitStream takes a data stream from the accept loop: ready if its track
// is known, else it stays unresolved until resolveStream.
func (s *Session) admitStream(gr *GroupReader, ready bool) {
	o := &s.order
	id := gr.rs.StreamID()
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.init {
		o.init = true
		o.next = id % uniStreamStep // the peer's first unidirectional stream
		if s.conn.Protocol() != "quic" {
			// The first is HTTP/3's control stream, which WebTransport
			// does not hand over.
			o.next += uniStreamStep
		}
	}
	if id < o.next { // its place has gone: it is late
		if ready {
			deliverStream(gr)
		}
		return
	}
	if ready && id == o.next && len(o.held) == 0 {
		o.next = id + uniStreamStep
		deliverStream(gr)
		return
	}
	i := len(o.held)
	for i > 0 && o.held[i-1].id > id {
		i--
	}
	o.held = append(o.held, orderEntry{})
	copy(o.held[i+1:], o.held[i:])
	o.held[i] = orderEntry{gr: gr, id: id, at: time.Now(), ready: ready}
	s.releaseStreams(time.Now())
}

// resolveStream ends the wait of a stream admitted unresolved: ready if
// gr.tr is now known; otherwise the stream is no group (a fetch stream) or
// is being dropped by the caller, and it only gives up its place.
func (s *Session) resolveStream(gr *GroupReader, ready bool) {
	o := &s.order
	o.mu.Lock()
	defer o.mu.Unlock()
	for i := range o.held {
		if e := &o.held[i]; e.gr == gr {
			if !ready {
				copy(o.held[i:], o.held[i+1:])
				o.held[len(o.held)-1] = orderEntry{}
				o.held = o.held[:len(o.held)-1]
			} else {
				e.ready = true
			}
			s.releaseStreams(time.Now())
			return
		}
	}
	if ready { // late: its place has gone
		deliverStream(gr)
	}
}

// releaseStreams delivers the held streams whose turn came, and sets the
// timer for the deadline of the first one that still waits. s.order.mu is
// held.
func (s *Session) releaseStreams(now time.Time) {
	o := &s.order
	for len(o.held) > 0 {
		e := o.held[0]
		if (e.id != o.next || !e.ready) && now.Before(e.at.Add(streamHold)) {
			o.arm(e.at.Add(streamHold), s.tickStreams)
			return
		}
		// Its turn, or the wait for it (or for the streams before it)
		// is over.
		n := copy(o.held, o.held[1:])
		o.held[n] = orderEntry{}
		o.held = o.held[:n]
		o.next = e.id + uniStreamStep
		if e.ready {
			deliverStream(e.gr)
		} // else it is delivered late, by resolveStream
	}
}

// arm sets the timer to run f at t unless it fires earlier already.
func (o *streamOrder) arm(t time.Time, f func()) {
	if !o.armed.IsZero() && !o.armed.After(t) {
		return
	}
	o.armed = t
	if o.timer == nil {
		o.timer = time.AfterFunc(time.Until(t), f)
	} else {
		o.timer.Reset(time.Until(t))
	}
}

func (s *Session) tickStreams() {
	o := &s.order
	o.mu.Lock()
	o.armed = time.Time{}
	s.releaseStreams(time.Now())
	o.mu.Unlock()
}

// deliverStream hands gr to its subscription, or refuses it if the
// subscription is gone.
func deliverStream(gr *GroupReader) {
	if !gr.tr.deliver(gr) {
		dropDataStream(gr)
	}
}

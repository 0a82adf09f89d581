package moqt

import (
	"bufio"
	"errors"
	"io"
	"time"

	"github.com/moqgo/moqgo/internal/transport"
	"github.com/moqgo/moqgo/internal/wire"
)

// headerWait is how long the accept loop waits for the first bytes of a
// data stream before handing the stream to a goroutine of its own. Data
// that has arrived is read at once; the wait only matters for a stream that
// QUIC opened because a later stream's packet overtook its own.
const headerWait = 200 * time.Microsecond

// acceptDataStream takes a data stream from the accept loop.
//
// The common case is handled right here, without a goroutine: the stream's
// header has arrived and its track alias is known. Such streams are queued
// for TrackReader.AcceptGroup (which never makes this loop wait) in the
// order the publisher opened them; a subscriber reading groups one after another then never waits on a group
// whose data is held back by flow control spent on groups queued behind it.
// Anything that would have to wait (a header not here yet, an alias before
// its SUBSCRIBE_OK, a fetch stream) moves to a goroutine, so that one slow
// stream never holds up the others for long; either way the streams reach
// their subscriptions in the order the peer opened them (data_order.go).
func (s *Session) acceptDataStream(rs transport.ReceiveStream, hs *sliceReader) {
	gr := groupReaders.new()
	gr.rs = rs
	gr.br = readerPool.Get().(*bufio.Reader)
	gr.br.Reset((*groupSource)(gr))
	if s.tryDataStream(gr, hs) {
		s.admitStream(gr, true) // data_order.go
		return
	}
	s.admitStream(gr, false)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.handleDataStream(gr)
	}()
}

// dropDataStream refuses a data stream nobody will read.
func dropDataStream(gr *GroupReader) {
	gr.rs.CancelRead(uint64(GroupErrorCancelled))
	gr.br.Reset(nil)
	readerPool.Put(gr.br)
	gr.br = nil
}

// tryDataStream parses the header of a subgroup stream from the bytes
// already received and looks up its track, without waiting for anything.
// It consumes the header and reports true on success; otherwise nothing is
// consumed. hs is the accept loop's scratch reader for the header.
//
// The read deadline that bounds the wait for the first bytes is lifted
// again unless that read reached the stream's end: a stream that arrived
// whole (a small group) is never read from the transport again, so the
// deadline no longer matters and lifting it would cost a call for nothing.
func (s *Session) tryDataStream(gr *GroupReader, hs *sliceReader) bool {
	gr.probing = true
	_ = gr.rs.SetReadDeadline(time.Now().Add(headerWait))
	_, err := gr.br.Peek(1)
	if !gr.eof {
		_ = gr.rs.SetReadDeadline(time.Time{})
	}
	gr.probing = false
	if err != nil {
		return false
	}
	b, _ := gr.br.Peek(gr.br.Buffered())
	*hs = sliceReader{b: b}
	defer func() { *hs = sliceReader{} }()
	t, err := wire.ReadStreamType(hs)
	if err != nil {
		return false
	}
	if kind, err := wire.ClassifyStreamType(t, s.version); err != nil || kind != wire.StreamKindSubgroup {
		return false
	}
	var hdr wire.SubgroupHeader
	if err := wire.ReadSubgroupHeader(hs, t, &hdr, s.version); err != nil {
		return false
	}
	s.mu.Lock()
	tr := s.aliases[hdr.TrackAlias]
	s.mu.Unlock()
	if tr == nil {
		return false
	}
	_, _ = gr.br.Discard(hs.off)
	gr.setHeader(tr, hdr, s.version)
	return true
}

// setHeader makes gr a group of tr with stream header h.
func (gr *GroupReader) setHeader(tr *TrackReader, h wire.SubgroupHeader, v wire.Version) {
	gr.tr = tr
	gr.seq, gr.prio = GroupSequence(h.GroupID), h.PublisherPriority
	gr.sr.Reset(h, v)
}

// handleDataStream reads a data stream's header and hands the stream to its
// subscription, waiting (a bounded time) for its SUBSCRIBE_OK.
func (s *Session) handleDataStream(gr *GroupReader) {
	rs, br := gr.rs, gr.br
	ok, placed := false, true
	defer func() {
		if !ok {
			if placed {
				s.resolveStream(gr, false)
			}
			dropDataStream(gr)
		}
	}()
	t, err := wire.ReadStreamType(br)
	if err != nil {
		return
	}
	kind, err := wire.ClassifyStreamType(t, s.version)
	if err != nil {
		s.failErr(err)
		return
	}
	if kind == wire.StreamKindFetch {
		s.resolveStream(gr, false) // no group: it keeps no place
		placed = false
		ok = s.handleFetchStream(rs, br) // fetch_reader.go
		return
	}
	var hdr wire.SubgroupHeader
	if err := wire.ReadSubgroupHeader(br, t, &hdr, s.version); err != nil {
		var we *wire.Error
		if errors.As(err, &we) && we.Kind != wire.KindIncomplete {
			s.failErr(err)
		}
		return
	}
	tr := s.waitAlias(hdr.TrackAlias)
	if tr == nil {
		s.log.Debug("dropping data stream for unknown track alias", "alias", hdr.TrackAlias)
		return
	}
	gr.setHeader(tr, hdr, s.version)
	ok = true
	s.resolveStream(gr, true) // delivered in its turn
}

// groupSource is what a GroupReader's bufio.Reader reads: the stream,
// except that while probing for the header (under a short read deadline) a
// read that returned data never reports the deadline's error. A QUIC read
// can return data together with a deadline error that struck halfway
// through; bufio would keep that error and return it after the buffered
// bytes, long after the deadline was lifted. The stream's end is kept: it
// tells tryDataStream that the stream arrived whole. It is a conversion of
// the GroupReader rather than a field of it, which saves a field per group.
type groupSource GroupReader

func (g *groupSource) Read(p []byte) (int, error) {
	n, err := g.rs.Read(p)
	if err == io.EOF {
		g.eof = true
	} else if g.probing && n > 0 {
		err = nil
	}
	return n, err
}

// sliceReader reads a byte slice; unlike bytes.Reader it lives inside the
// GroupReader, so parsing a header from it allocates nothing.
type sliceReader struct {
	b   []byte
	off int
}

func (r *sliceReader) Read(p []byte) (int, error) {
	if r.off >= len(r.b) {
		return 0, io.EOF
	}
	n := copy(p, r.b[r.off:])
	r.off += n
	return n, nil
}

func (r *sliceReader) ReadByte() (byte, error) {
	if r.off >= len(r.b) {
		return 0, io.EOF
	}
	c := r.b[r.off]
	r.off++
	return c, nil
}

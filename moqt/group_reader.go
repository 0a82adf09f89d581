package moqt

import (
	"bufio"
	"errors"
	"io"
	"sync"
	"time"

	"github.com/moqgo/moqgo/internal/transport"
	"github.com/moqgo/moqgo/internal/wire"
)

// GroupReader reads the objects of one subgroup stream of a group, in
// order.
type GroupReader struct {
	tr  *TrackReader
	rs  transport.ReceiveStream
	br  *bufio.Reader
	sr  wire.SubgroupReader
	hdr wire.SubgroupHeader
	obj wire.Object

	mu   sync.Mutex
	err  error // sticky read error
	done bool  // stream finished or canceled; br returned to the pool
}

var readerPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 4096) }}

// GroupSequence returns the Group ID.
func (gr *GroupReader) GroupSequence() GroupSequence { return GroupSequence(gr.hdr.GroupID) }

// SubgroupID returns the subgroup ID (known once the first object was read
// if the publisher encoded it as the first object's ID).
func (gr *GroupReader) SubgroupID() uint64 { return gr.sr.Header().SubgroupID }

// PublisherPriority returns the subgroup's publisher priority.
func (gr *GroupReader) PublisherPriority() uint8 { return gr.hdr.PublisherPriority }

// ReadFrame returns the payload of the next object with a payload. It
// returns io.EOF at the end of the group (the stream's end, or an End of
// Group or End of Track object). Objects that do not exist are skipped.
func (gr *GroupReader) ReadFrame() (*Frame, error) {
	gr.mu.Lock()
	defer gr.mu.Unlock()
	for {
		f, err := gr.next()
		if err != nil {
			return nil, err
		}
		switch ObjectStatus(gr.obj.Status) {
		case StatusNormal:
			return f, nil
		case StatusEndOfGroup, StatusEndOfTrack:
			return nil, io.EOF
		}
	}
}

// ReadObject returns the next object with its ID, status and extension
// headers. It returns io.EOF at the end of the stream.
func (gr *GroupReader) ReadObject() (*Object, error) {
	gr.mu.Lock()
	defer gr.mu.Unlock()
	f, err := gr.next()
	if err != nil {
		return nil, err
	}
	o := &Object{ID: gr.obj.ObjectID, Status: ObjectStatus(gr.obj.Status), Frame: f}
	if len(gr.obj.Extensions) > 0 {
		kvs, err := wire.ParseExtensions(gr.obj.Extensions)
		if err != nil {
			return nil, gr.fail(err)
		}
		o.Extensions = make([]Extension, len(kvs))
		for i, kv := range kvs {
			o.Extensions[i] = Extension{Type: kv.Type, Value: kv.Value, Bytes: append([]byte(nil), kv.Bytes...)}
		}
	}
	return o, nil
}

// next reads the next object header into gr.obj and returns its payload
// (nil for a status object). gr.mu is held.
func (gr *GroupReader) next() (*Frame, error) {
	if gr.err != nil {
		return nil, gr.err
	}
	if err := gr.sr.ReadObject(gr.br, &gr.obj); err != nil {
		return nil, gr.fail(err)
	}
	if gr.obj.PayloadLength > uint64(gr.tr.sess.cfg.MaxFrameSize) {
		gr.rs.CancelRead(uint64(GroupErrorInternal))
		return nil, gr.fail(ErrFrameTooLarge)
	}
	if gr.obj.Status != wire.StatusNormal {
		return nil, nil
	}
	f := &Frame{b: make([]byte, gr.obj.PayloadLength)}
	if _, err := io.ReadFull(gr.br, f.b); err != nil {
		return nil, gr.fail(err)
	}
	return f, nil
}

// fail records a read error; a malformed stream closes the session.
func (gr *GroupReader) fail(err error) error {
	var we *wire.Error
	var se *transport.StreamError
	switch {
	case errors.Is(err, io.EOF):
		err = io.EOF
	case errors.As(err, &we) && !(we.Kind == wire.KindIncomplete && we.NeedMore()):
		gr.tr.sess.failErr(we)
		err = gr.tr.sess.sessionErr()
	case errors.As(err, &se):
		err = &GroupError{Code: GroupErrorCode(se.Code), Remote: se.Remote}
	case errors.As(err, &we):
		err = io.ErrUnexpectedEOF
	}
	gr.err = err
	gr.release()
	return err
}

// release returns the buffered reader to the pool once the stream is done.
func (gr *GroupReader) release() {
	if gr.done {
		return
	}
	gr.done = true
	gr.br.Reset(nil)
	readerPool.Put(gr.br)
	gr.br = nil
}

// CancelRead stops reading the group and asks the publisher to stop
// sending it (STOP_SENDING with code).
func (gr *GroupReader) CancelRead(code GroupErrorCode) {
	gr.rs.CancelRead(uint64(code))
	gr.mu.Lock()
	if gr.err == nil {
		gr.err = &GroupError{Code: code}
		gr.release()
	}
	gr.mu.Unlock()
}

// SetReadDeadline sets a deadline for reads; a read past it fails.
func (gr *GroupReader) SetReadDeadline(t time.Time) error { return gr.rs.SetReadDeadline(t) }

// handleDataStream reads a data stream's header and hands it to its
// subscription.
func (s *Session) handleDataStream(rs transport.ReceiveStream) {
	br := readerPool.Get().(*bufio.Reader)
	br.Reset(rs)
	gr := &GroupReader{rs: rs, br: br}
	ok := false
	defer func() {
		if !ok {
			rs.CancelRead(uint64(GroupErrorCancelled))
			br.Reset(nil)
			readerPool.Put(br)
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
	if kind != wire.StreamKindSubgroup {
		return // FETCH is not supported; we never sent one
	}
	if err := wire.ReadSubgroupHeader(br, t, &gr.hdr, s.version); err != nil {
		var we *wire.Error
		if errors.As(err, &we) && we.Kind != wire.KindIncomplete {
			s.failErr(err)
		}
		return
	}
	tr := s.waitAlias(gr.hdr.TrackAlias)
	if tr == nil {
		s.log.Debug("dropping data stream for unknown track alias", "alias", gr.hdr.TrackAlias)
		return
	}
	gr.tr = tr
	gr.sr.Reset(gr.hdr, s.version)
	ok = tr.deliver(gr)
}

package moqt

import (
	"bufio"
	"errors"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/moqgo/moqgo/internal/transport"
	"github.com/moqgo/moqgo/internal/wire"
)

// GroupReader reads the objects of one subgroup stream of a group, in
// order, or the objects of a datagram group (TrackWriter.OpenDatagramGroup)
// in the order their datagrams arrived.
//
// A datagram group's GroupReader appears with the first datagram of a
// group the subscription has not seen. Lost objects are simply missing
// (ReadObject shows the gaps in the IDs). The group ends (ReadFrame returns
// io.EOF) on its End of Group (or End of Track) datagram; if that is lost,
// it ends once a newer group has begun and no datagram of it arrived for
// Config.DatagramGroupTimeout. Memory per subscription is bounded by
// Config.MaxDatagramGroups groups of Config.MaxDatagramObjects unread
// objects; beyond that objects are dropped like lost datagrams.
type GroupReader struct {
	tr  *TrackReader
	rs  transport.ReceiveStream
	br  *bufio.Reader
	sr  wire.SubgroupReader
	obj wire.Object
	seq GroupSequence  // the header's, immutable: sr changes as it reads
	dg  *datagramGroup // a datagram group (datagram_reader.go); rs is nil

	mu   sync.Mutex
	err  error // sticky read error
	done bool  // stream finished or canceled; br returned to the pool
	prio uint8 // the header's publisher priority

	// Set by br's reads (groupSource) on the accept loop, before gr is
	// shared.
	probing bool // reading the header under a short deadline
	eof     bool // the stream's end was read
}

var readerPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 4096) }}

// GroupSequence returns the Group ID.
func (gr *GroupReader) GroupSequence() GroupSequence { return gr.seq }

// SubgroupID returns the subgroup ID (known once the first object was read
// if the publisher encoded it as the first object's ID).
func (gr *GroupReader) SubgroupID() uint64 { return gr.sr.Header().SubgroupID }

// PublisherPriority returns the subgroup's publisher priority.
func (gr *GroupReader) PublisherPriority() uint8 { return gr.prio }

// ReadFrame returns the payload of the next object with a payload. It
// returns io.EOF at the end of the group (the stream's end, or an End of
// Group or End of Track object). Objects that do not exist are skipped.
func (gr *GroupReader) ReadFrame() (*Frame, error) {
	gr.mu.Lock()
	defer gr.mu.Unlock()
	return gr.readFrame()
}

// readFrame is ReadFrame with gr.mu held.
func (gr *GroupReader) readFrame() (*Frame, error) {
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

// AppendFrame is ReadFrame for a reader that reuses its own buffer: it
// appends the payload of the next object with a payload to dst and returns
// the extended slice, growing it only if its capacity is short. Reading a
// stream this way allocates nothing per frame. It returns dst unchanged
// and io.EOF at the end of the group.
func (gr *GroupReader) AppendFrame(dst []byte) ([]byte, error) {
	gr.mu.Lock()
	defer gr.mu.Unlock()
	if gr.dg != nil { // a datagram object arrives as a Frame already
		f, err := gr.readFrame()
		if err != nil {
			return dst, err
		}
		return append(dst, f.b...), nil
	}
	for {
		if err := gr.nextHeader(); err != nil {
			return dst, err
		}
		switch ObjectStatus(gr.obj.Status) {
		case StatusNormal:
			n := len(dst)
			dst = slices.Grow(dst, int(gr.obj.PayloadLength))[:n+int(gr.obj.PayloadLength)]
			if _, err := io.ReadFull(gr.br, dst[n:]); err != nil {
				return dst[:n], gr.fail(err)
			}
			return dst, nil
		case StatusEndOfGroup, StatusEndOfTrack:
			return dst, io.EOF
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
	return gr.object(f)
}

// TryReadObject is ReadObject that never waits: it returns the next object
// if all of it has arrived, else ErrWouldBlock, and always ErrWouldBlock
// for a datagram group. The end of the group, and any error, are left for
// ReadObject to report. A relay uses it to take every object that arrived
// together before forwarding them as one batch.
func (gr *GroupReader) TryReadObject() (*Object, error) {
	if gr.dg != nil {
		return nil, ErrWouldBlock
	}
	gr.mu.Lock()
	defer gr.mu.Unlock()
	if gr.err != nil || gr.br == nil || gr.br.Buffered() == 0 {
		return nil, ErrWouldBlock
	}
	b, _ := gr.br.Peek(gr.br.Buffered())
	hs := sliceReader{b: b}
	saved := gr.sr
	err := gr.sr.ReadObject(&hs, &gr.obj)
	if err != nil || gr.obj.PayloadLength > uint64(len(b)-hs.off) || gr.obj.PayloadLength > uint64(gr.tr.sess.cfg.MaxFrameSize) {
		gr.sr = saved // ReadObject reads it again, waiting or failing
		return nil, ErrWouldBlock
	}
	_, _ = gr.br.Discard(hs.off)
	var f *Frame
	if gr.obj.Status == wire.StatusNormal {
		f = newFrame(int(gr.obj.PayloadLength))
		_, _ = io.ReadFull(gr.br, f.b) // buffered: it cannot fail
	}
	return gr.object(f)
}

// object returns the object just read into gr.obj, with payload f.
func (gr *GroupReader) object(f *Frame) (*Object, error) {
	o := &Object{ID: gr.obj.ObjectID, Status: ObjectStatus(gr.obj.Status), Frame: f}
	var err error
	if o.Extensions, err = parseExtensions(gr.obj.Extensions); err != nil {
		return nil, gr.fail(err)
	}
	return o, nil
}

// next reads the next object header into gr.obj and returns its payload
// (nil for a status object). gr.mu is held.
func (gr *GroupReader) next() (*Frame, error) {
	if gr.err != nil {
		return nil, gr.err
	}
	if gr.dg != nil {
		return gr.nextDatagram()
	}
	if err := gr.nextHeader(); err != nil {
		return nil, err
	}
	if gr.obj.Status != wire.StatusNormal {
		return nil, nil
	}
	f := newFrame(int(gr.obj.PayloadLength))
	if _, err := io.ReadFull(gr.br, f.b); err != nil {
		return nil, gr.fail(err)
	}
	return f, nil
}

// nextHeader reads the next object header of a stream into gr.obj,
// checking its payload length against Config.MaxFrameSize. gr.mu is held.
func (gr *GroupReader) nextHeader() error {
	if gr.err != nil {
		return gr.err
	}
	if err := gr.sr.ReadObject(gr.br, &gr.obj); err != nil {
		return gr.fail(err)
	}
	if gr.obj.PayloadLength > uint64(gr.tr.sess.cfg.MaxFrameSize) {
		gr.rs.CancelRead(uint64(GroupErrorInternal))
		return gr.fail(ErrFrameTooLarge)
	}
	return nil
}

// fail records a read error; a malformed stream closes the session.
func (gr *GroupReader) fail(err error) error {
	if err == io.EOF {
		gr.err = err
		gr.release()
		return err
	}
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
	if gr.done || gr.br == nil {
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
	if gr.dg != nil {
		gr.dg.cancel(code) // wakes a blocked ReadFrame, which holds gr.mu
	} else {
		gr.rs.CancelRead(uint64(code))
	}
	gr.mu.Lock()
	if gr.err == nil {
		gr.err = &GroupError{Code: code}
		gr.release()
	}
	gr.mu.Unlock()
}

// SetReadDeadline sets a deadline for reads; a read past it fails.
func (gr *GroupReader) SetReadDeadline(t time.Time) error {
	if gr.dg != nil {
		var ns int64
		if !t.IsZero() {
			ns = t.UnixNano()
		}
		gr.dg.deadline.Store(ns)
		return nil
	}
	return gr.rs.SetReadDeadline(t)
}

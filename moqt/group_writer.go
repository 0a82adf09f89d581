package moqt

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/moqgo/moqgo/internal/transport"
	"github.com/moqgo/moqgo/internal/wire"
)

// GroupWriter writes the objects of one subgroup of a group, in order, on
// its own stream. Close ends the subgroup (FIN); CancelWrite abandons it
// (stream reset).
type GroupWriter struct {
	tw       *TrackWriter
	st       transport.SendStream
	seq      GroupSequence
	subgroup uint64
	priority uint8

	mu      sync.Mutex
	sw      wire.SubgroupWriter
	obj     wire.Object
	buf     []byte
	ext     []byte
	nextID  uint64
	done    bool
	pending int // bytes of header in buf not written yet

	ctx    context.Context // created on demand by Context
	cancel context.CancelFunc
}

// maxCoalesce is the largest payload copied next to its header so that both
// go out in one stream write.
const maxCoalesce = 16 << 10

func newGroupWriter(tw *TrackWriter, st transport.SendStream, seq GroupSequence, subgroup uint64, priority uint8) *GroupWriter {
	gw := &GroupWriter{tw: tw, st: st, seq: seq, subgroup: subgroup, priority: priority}
	mode := wire.SubgroupIDZero
	if subgroup != 0 {
		mode = wire.SubgroupIDExplicit
	}
	gw.sw.Reset(wire.SubgroupHeader{
		TrackAlias:        tw.alias,
		GroupID:           uint64(seq),
		SubgroupID:        subgroup,
		PublisherPriority: priority,
		IDMode:            mode,
		Extensions:        true,
	}, tw.sess.version)
	return gw
}

// writeHeader prepares the subgroup header; it goes out with the first
// object (or on Close), saving a stream write per group.
func (gw *GroupWriter) writeHeader() error {
	gw.mu.Lock()
	defer gw.mu.Unlock()
	var err error
	gw.buf, err = gw.sw.AppendHeader(make([]byte, 0, 64))
	gw.pending = len(gw.buf)
	return err
}

// GroupSequence returns the Group ID.
func (gw *GroupWriter) GroupSequence() GroupSequence { return gw.seq }

// SubgroupID returns the subgroup ID.
func (gw *GroupWriter) SubgroupID() uint64 { return gw.subgroup }

// PublisherPriority returns the subgroup's publisher priority.
func (gw *GroupWriter) PublisherPriority() uint8 { return gw.priority }

// Context returns a context canceled when the group is closed or canceled,
// or the subscription ends.
func (gw *GroupWriter) Context() context.Context {
	gw.mu.Lock()
	defer gw.mu.Unlock()
	if gw.ctx == nil {
		gw.ctx, gw.cancel = context.WithCancel(gw.tw.ctx)
		if gw.done {
			gw.cancel()
		}
	}
	return gw.ctx
}

// WriteFrame writes f as the next object (the next Object ID).
func (gw *GroupWriter) WriteFrame(f *Frame) error {
	gw.mu.Lock()
	defer gw.mu.Unlock()
	return gw.writeLocked(gw.nextID, StatusNormal, nil, f)
}

// WriteObject writes o. Its ID must not be below the next Object ID (the
// previous object's ID plus one; IDs may skip). A status other than
// StatusNormal carries no payload.
func (gw *GroupWriter) WriteObject(o *Object) error {
	gw.mu.Lock()
	defer gw.mu.Unlock()
	if o.ID < gw.nextID {
		return errors.New("moqt: object IDs must increase within a subgroup")
	}
	return gw.writeLocked(o.ID, o.Status, o.Extensions, o.Frame)
}

func (gw *GroupWriter) writeLocked(id uint64, status ObjectStatus, exts []Extension, f *Frame) error {
	if gw.done {
		return ErrClosed
	}
	var err error
	gw.ext = gw.ext[:0]
	for _, e := range exts {
		if gw.ext, err = wire.AppendExtension(gw.ext, wire.KeyValue{Type: e.Type, Value: e.Value, Bytes: e.Bytes}); err != nil {
			return err
		}
	}
	p := f.Bytes()
	gw.obj = wire.Object{
		GroupID:       uint64(gw.seq),
		SubgroupID:    gw.subgroup,
		ObjectID:      id,
		Status:        wire.ObjectStatus(status),
		Extensions:    gw.ext,
		PayloadLength: uint64(len(p)),
	}
	if gw.buf, err = gw.sw.AppendObject(gw.buf[:gw.pending], &gw.obj); err != nil {
		return err
	}
	gw.pending = 0
	if len(p) <= maxCoalesce {
		gw.buf = append(gw.buf, p...)
		p = nil
	}
	if _, err = gw.st.Write(gw.buf); err == nil && len(p) > 0 {
		_, err = gw.st.Write(p)
	}
	if err != nil {
		return gw.writeErr(err)
	}
	gw.nextID = id + 1
	return nil
}

func (gw *GroupWriter) writeErr(err error) error {
	var se *transport.StreamError
	if errors.As(err, &se) {
		return &GroupError{Code: GroupErrorCode(se.Code), Remote: se.Remote}
	}
	if gw.tw.ctx.Err() != nil {
		return gw.tw.err()
	}
	return err
}

// SetWriteDeadline sets a deadline for writes; a write past it fails.
func (gw *GroupWriter) SetWriteDeadline(t time.Time) error { return gw.st.SetWriteDeadline(t) }

// CancelWrite abandons the group, resetting its stream with code.
func (gw *GroupWriter) CancelWrite(code GroupErrorCode) { gw.abort(code) }

func (gw *GroupWriter) abort(code GroupErrorCode) {
	if gw.finish() {
		gw.st.CancelWrite(uint64(code))
	}
}

// finish marks the group done and reports whether it was open.
func (gw *GroupWriter) finish() bool {
	gw.mu.Lock()
	done := gw.done
	gw.done = true
	if gw.cancel != nil {
		gw.cancel()
	}
	gw.mu.Unlock()
	if !done {
		gw.tw.removeGroup(gw)
	}
	return !done
}

// Close ends the group: the stream is finished after the objects written.
func (gw *GroupWriter) Close() error {
	gw.mu.Lock()
	hdr := gw.buf[:gw.pending]
	gw.pending = 0
	gw.mu.Unlock()
	if !gw.finish() {
		return nil
	}
	if len(hdr) > 0 {
		if _, err := gw.st.Write(hdr); err != nil {
			return gw.writeErr(err)
		}
	}
	return gw.st.Close()
}

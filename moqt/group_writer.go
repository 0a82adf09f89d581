package moqt

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/moqgo/moqgo/internal/transport"
	"github.com/moqgo/moqgo/internal/wire"
)

// GroupWriter writes the objects of one subgroup of a group, in order, on
// its own stream. Close ends the subgroup (FIN); CancelWrite abandons it
// (stream reset).
//
// A GroupWriter is allocated per group, so it is kept small: it holds the
// headers it writes (the payload is joined to them by the stream, see
// writeJoined and schedStream.writeObject), and what few groups use (a
// Context, datagram state) hangs off pointers.
type GroupWriter struct {
	tw       *TrackWriter
	st       transport.SendStream
	seq      GroupSequence
	subgroup uint64
	priority uint8

	done atomic.Bool // closed or canceled

	mu      sync.Mutex // serializes writes
	sw      wire.SubgroupWriter
	buf     []byte // headers: backed by small unless extensions are long
	ext     []byte
	nextID  uint64
	pending int // bytes of header in buf not written yet

	dg  *datagramSender // datagram delivery (datagram_writer.go); st is nil
	ctx atomic.Pointer[groupContext]
	ss  schedStream // st, unless the scheduler is disabled

	// small backs buf: a subgroup header and an object header without
	// extensions fit.
	small [smallBuf]byte
}

// groupContext is a GroupWriter's Context, created on demand.
type groupContext struct {
	ctx    context.Context
	cancel context.CancelFunc
}

// smallBuf is the inline header buffer of a GroupWriter: a subgroup header
// (at most 26 bytes) and an object header without extensions (at most 32).
const smallBuf = 64

// scratchBufs are buffers that join a header and a small payload into one
// write where no longer-lived buffer is at hand (streams without the
// scheduler, datagrams). quic-go copies what it is handed, so a buffer is
// free again when the write returns.
var scratchBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1536); return &b }}

// writeJoined writes hdr and payload to st: in one write, joined in a
// scratch buffer, if payload is at most maxInline bytes. The first write
// of a stream goes with TryWriteReliable where it can, so that a reset
// still delivers the stream's header.
func writeJoined(st transport.SendStream, hdr, payload []byte, first bool) error {
	if len(payload) > maxInline {
		if err := writeStart(st, hdr, first); err != nil {
			return err
		}
		_, err := st.Write(payload)
		return err
	}
	b := scratchBufs.Get().(*[]byte)
	*b = append(append((*b)[:0], hdr...), payload...)
	err := writeStart(st, *b, first)
	scratchBufs.Put(b)
	return err
}

// writeStart writes b, which starts a stream (its header, and what goes
// with it) if first is set: then with TryWriteReliable where it can, so
// that a reset still delivers it, and with Write where it cannot.
func writeStart(st transport.SendStream, b []byte, first bool) error {
	if first && st.TryWriteReliable(b) {
		return nil
	}
	_, err := st.Write(b)
	return err
}

// maxCoalesce is the largest payload a FetchWriter copies next to its
// header so that both go out in one stream write.
const maxCoalesce = 16 << 10

// maxInline is the largest payload copied next to its header (by the
// scheduler, or into a scratch buffer) so that both go out in one write. quic-go copies a write that fits its packet buffer (1452 bytes)
// anyway, so below this a second copy costs less than a stream write of
// its own; larger payloads are never copied: the scheduler queues a
// reference to the Frame (which is immutable), and quic-go packs it
// straight from the Frame's memory, so fanning a Frame out to any number
// of subscriptions costs no copy of it.
const maxInline = 1 << 10

func newGroupWriter(tw *TrackWriter, st transport.SendStream, seq GroupSequence, subgroup uint64, priority uint8) *GroupWriter {
	gw := groupWriters.new()
	gw.tw, gw.st, gw.seq, gw.subgroup, gw.priority = tw, st, seq, subgroup, priority
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
// object (or on Close), saving a stream write per group. It is called
// before gw is shared, so it takes no lock.
func (gw *GroupWriter) writeHeader() error {
	var err error
	gw.buf, err = gw.sw.AppendHeader(gw.small[:0])
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
	if c := gw.ctx.Load(); c != nil {
		return c.ctx
	}
	c := new(groupContext)
	c.ctx, c.cancel = context.WithCancel(gw.tw.ctx)
	if !gw.ctx.CompareAndSwap(nil, c) {
		c.cancel()
		return gw.ctx.Load().ctx
	}
	// done is set before finished loads gw.ctx: either finished sees c,
	// or this sees done.
	if gw.done.Load() {
		c.cancel()
	}
	return c.ctx
}

// WriteFrame writes f as the next object (the next Object ID). While the
// subscriber has paused the subscription it sends nothing and returns
// ErrPaused; the object is not sent, and the next write takes its ID.
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
	id, err := gw.objectID(o.ID)
	if err != nil {
		return err
	}
	return gw.writeLocked(id, o.Status, o.Extensions, o.Frame)
}

// objectID is the ID an object written with ID id gets: zero means the
// next ID after the first object (Object.ID).
func (gw *GroupWriter) objectID(id uint64) (uint64, error) { return nextObjectID(id, gw.nextID) }

// nextObjectID is the ID an object written with ID id gets when next is
// the subgroup's next Object ID (zero before its first object): zero
// means next once there was a first object (Object.ID), and IDs may skip
// but not go back.
func nextObjectID(id, next uint64) (uint64, error) {
	if id == 0 && next > 0 {
		return next, nil
	}
	if id < next {
		return 0, errors.New("moqt: object IDs must increase within a subgroup")
	}
	return id, nil
}

// appendObjectHeader appends to b the header of the object with ID id,
// status, extensions exts and an n-byte payload, as sw, the stream's
// writer, encodes it (advancing sw) for group seq, subgroup subgroup. ext
// is scratch for the encoded extensions. Every path that writes a
// subgroup object (write, queueBatch, RunEncoder.Encode) encodes it here.
func appendObjectHeader(sw *wire.SubgroupWriter, b []byte, ext *[]byte, seq GroupSequence, subgroup, id uint64, status ObjectStatus, exts []Extension, n int) ([]byte, error) {
	var err error
	if *ext, err = appendExtensions((*ext)[:0], exts); err != nil {
		return b, err
	}
	obj := wire.Object{
		GroupID:       uint64(seq),
		SubgroupID:    subgroup,
		ObjectID:      id,
		Status:        wire.ObjectStatus(status),
		Extensions:    *ext,
		PayloadLength: uint64(n),
	}
	return sw.AppendObject(b, &obj)
}

// WriteObjects writes objs in order, as WriteObject would one by one, and
// returns how many were written before an error. A relay forwarding the
// objects that arrived since its last write uses it: the batch is queued
// for sending together, so the transport gets fuller packets.
func (gw *GroupWriter) WriteObjects(objs []*Object) (int, error) {
	return gw.writeObjects(objs, false)
}

// TryWriteObjects is WriteObjects that never waits. It queues objs in
// order for the send scheduler and stops at the first object that does
// not fit in the subscription's send buffer, returning how many were
// queued and ErrWouldBlock; the group stays usable, and a later write
// continues with the object that did not fit. A relay forwarding one
// object to many subscribers from one goroutine uses it, writing with
// WriteObjects on a goroutine of its own only for a subscriber whose
// buffer is full. A group that is not sent through the scheduler (a
// datagram group, or Config.DisableScheduler) always returns
// ErrWouldBlock.
func (gw *GroupWriter) TryWriteObjects(objs []*Object) (int, error) {
	if gw.dg != nil || gw.st != &gw.ss {
		return 0, ErrWouldBlock
	}
	return gw.writeObjects(objs, true)
}

func (gw *GroupWriter) writeObjects(objs []*Object, try bool) (int, error) {
	gw.mu.Lock()
	defer gw.mu.Unlock()
	done := 0
	if gw.st == &gw.ss && len(objs) > 1 {
		done = gw.queueBatches(objs)
	}
	for i, o := range objs[done:] {
		i += done
		id, err := gw.objectID(o.ID)
		if err == nil {
			err = gw.write(id, o.Status, o.Extensions, o.Frame, try)
		}
		if err != nil {
			return i, err
		}
	}
	return len(objs), nil
}

// maxBatch is the most objects queueBatches hands the scheduler at once.
const maxBatch = 16

// queueBatches queues objs for the scheduler maxBatch at a time, each
// batch as one write (schedStream.writeBatch: one lock, one timestamp),
// as long as whole batches fit in the subscription's buffer; it returns
// how many objects it queued, and the caller writes the rest one by one,
// which handles everything else (a full buffer, errors, a direct write).
// gw.mu is held.
func (gw *GroupWriter) queueBatches(objs []*Object) int {
	done := 0
	for done+1 < len(objs) {
		k := min(len(objs)-done, maxBatch)
		if !gw.queueBatch(objs[done : done+k]) {
			break
		}
		done += k
	}
	return done
}

// queueBatch queues objs, at least two and at most maxBatch, as one
// scheduler write, or nothing (reporting false) if any of them is not
// plain sailing.
func (gw *GroupWriter) queueBatch(objs []*Object) bool {
	if gw.done.Load() || gw.tw.paused() {
		return false
	}
	pending, sw, nextID := gw.pending, gw.sw, gw.nextID
	var ends [maxBatch]int // end of each object's header in gw.buf
	b := gw.buf[:gw.pending]
	var err error
	for i, o := range objs {
		var id uint64
		if id, err = gw.objectID(o.ID); err != nil {
			break
		}
		if b, err = appendObjectHeader(&gw.sw, b, &gw.ext, gw.seq, gw.subgroup, id, o.Status, o.Extensions, o.Frame.Len()); err != nil {
			break
		}
		ends[i] = len(b)
		gw.nextID = id + 1
	}
	gw.buf = b
	if err == nil && gw.ss.writeBatch(b, ends[:len(objs)], objs) {
		gw.pending = 0
		return true
	}
	gw.pending, gw.sw, gw.nextID = pending, sw, nextID
	return false
}

func (gw *GroupWriter) writeLocked(id uint64, status ObjectStatus, exts []Extension, f *Frame) error {
	return gw.write(id, status, exts, f, false)
}

// write writes one object, gw.mu held; with try set it queues nothing and
// returns ErrWouldBlock where it would wait (TryWriteObjects).
func (gw *GroupWriter) write(id uint64, status ObjectStatus, exts []Extension, f *Frame, try bool) error {
	if gw.done.Load() {
		return ErrClosed
	}
	if gw.tw.paused() {
		return ErrPaused
	}
	p := f.Bytes()
	if gw.dg != nil { // writeDatagram sends gw.ext
		var err error
		if gw.ext, err = appendExtensions(gw.ext[:0], exts); err != nil {
			return err
		}
		return gw.writeDatagram(id, status, exts, p)
	}
	pending := gw.pending
	var sw wire.SubgroupWriter
	if try {
		sw = gw.sw
	}
	var err error
	if gw.buf, err = appendObjectHeader(&gw.sw, gw.buf[:gw.pending], &gw.ext, gw.seq, gw.subgroup, id, status, exts, len(p)); err != nil {
		return err
	}
	gw.pending = 0
	if gw.st == &gw.ss {
		err = gw.ss.writePrio(gw.buf, p, -1, try)
		if err == ErrWouldBlock {
			// Nothing was queued: the next write starts from the same
			// state (the subgroup header still pending, the same ID
			// delta).
			gw.pending, gw.sw = pending, sw
			return err
		}
	} else {
		// The stream's first write (its header pending) is reliable
		// where it can be, as the scheduler's is (writeFirst).
		err = writeJoined(gw.st, gw.buf, p, pending > 0)
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
// For a datagram group it applies to the subgroup stream that carries the
// objects too large for a datagram.
func (gw *GroupWriter) SetWriteDeadline(t time.Time) error {
	if gw.dg != nil {
		return gw.dg.setDeadline(t)
	}
	return gw.st.SetWriteDeadline(t)
}

// CancelWrite abandons the group, resetting its stream with code. It may be
// called while another goroutine is blocked in WriteFrame, which then
// fails. After Close it resets the stream only if the priority scheduler
// still holds some of it (see Priorities in the package docs); a group
// already handed to the transport in full is left to finish.
func (gw *GroupWriter) CancelWrite(code GroupErrorCode) { gw.abort(code) }

func (gw *GroupWriter) abort(code GroupErrorCode) {
	if gw.done.Swap(true) {
		if gw.st == &gw.ss {
			gw.ss.cancelUnsent(uint64(code)) // closed, maybe not sent
		}
		return
	}
	switch {
	case gw.dg != nil:
		gw.dg.cancel(code)
	case gw.st == &gw.ss:
		// The header (never changed once the group is open) goes out
		// with the reset if nothing was sent (scheduler.discard).
		var b [32]byte
		hdr, _ := gw.sw.AppendHeader(b[:0])
		gw.ss.CancelWriteAfter(hdr, uint64(code))
	case gw.mu.TryLock():
		// No write in progress (Config.DisableScheduler): if none was
		// made, the header goes with the reset, as the scheduler's does.
		if gw.pending > 0 {
			gw.st.CancelWriteAfter(gw.buf[:gw.pending], uint64(code))
		} else {
			gw.st.CancelWrite(uint64(code))
		}
		gw.mu.Unlock()
	default: // a write in progress fails
		gw.st.CancelWrite(uint64(code))
	}
	gw.finished()
}

// finished releases what an open group holds, once it is closed or
// canceled.
func (gw *GroupWriter) finished() {
	if c := gw.ctx.Load(); c != nil {
		c.cancel()
	}
	gw.tw.removeGroup(gw)
}

// Close ends the group: the stream is finished after the objects written.
func (gw *GroupWriter) Close() error {
	gw.mu.Lock()
	if gw.done.Swap(true) {
		gw.mu.Unlock()
		return nil
	}
	var err error
	if gw.dg != nil {
		err = gw.closeDatagrams()
		gw.mu.Unlock()
		gw.finished()
		return err
	}
	if gw.pending > 0 {
		_, err = gw.st.Write(gw.buf[:gw.pending])
		gw.pending = 0
	}
	if err == nil {
		err = gw.st.Close()
	} else {
		err = gw.writeErr(err)
	}
	gw.mu.Unlock()
	gw.finished()
	return err
}

package moqt

import (
	"errors"
	"sync"

	"github.com/moqgo/moqgo/internal/wire"
)

// An ObjectRun is a run of consecutive objects of one subgroup, encoded
// once for the wire so that any number of GroupWriters send it without
// encoding or copying it again (GroupWriter.WriteRun): a relay fanning one
// upstream subgroup out to many subscribers encodes each run of arriving
// objects once, with a RunEncoder per subgroup, and every subscriber's
// stream queues references to the same bytes. An ObjectRun is immutable.
type ObjectRun struct {
	v        wire.Version
	group    GroupSequence
	subgroup uint64
	after    bool   // the run follows object prev; else it starts the subgroup
	prev     uint64 // the ID of the object before the run
	last     uint64 // the ID of the run's last object
	status   ObjectStatus
	objects  int
	segs     [][]byte // the encoding: object headers with small payloads, larger payloads by reference
	size     int
}

// Len returns the number of objects in the run.
func (r *ObjectRun) Len() int { return r.objects }

// Size returns the number of bytes the run takes on a stream.
func (r *ObjectRun) Size() int { return r.size }

// RunEncoder encodes the objects of one subgroup, in order, into
// ObjectRuns. Payloads of at most 1 KiB are copied next to their headers,
// once; larger ones are referenced. A RunEncoder is not safe for
// concurrent use.
//
// The bytes of runs are carved out of blocks of memory: the runs of one
// subgroup encoded one after another lie next to each other, so that a
// stream sending them back to back hands them to the transport in one
// write. Close gives what is left of the encoder's block to the encoders
// made after it, so that groups of a few small objects share a block
// instead of costing one each. The price is the same as for small Frames:
// a retained run keeps its block (at most runBlock bytes) alive.
type RunEncoder struct {
	group    GroupSequence
	subgroup uint64
	sw       wire.SubgroupWriter
	nextID   uint64
	ext      []byte
	block    *runBlockOf // nil until the first Encode, and after Close
}

// runBlock is the size of the blocks runs are carved from (a run larger
// than that gets a block of its own size).
const runBlock = 16 << 10

// runBlocks holds the blocks closed encoders left room in; an encoder
// owns its block until Close, so its writes are its own.
var runBlocks sync.Pool

// runBlockOf is the pooled block: its length is the part carved already.
type runBlockOf struct{ b []byte }

// ErrRunMismatch is returned by GroupWriter.WriteRun for a run that does
// not continue the GroupWriter's subgroup where the writes before it ended;
// nothing is written.
var ErrRunMismatch = errors.New("moqt: object run does not continue the subgroup where its last write ended")

// NewRunEncoder returns an encoder for the objects of subgroup subgroup
// of group group, from the subgroup's first object on.
func NewRunEncoder(group GroupSequence, subgroup uint64) *RunEncoder {
	e := &RunEncoder{group: group, subgroup: subgroup}
	mode := wire.SubgroupIDZero
	if subgroup != 0 {
		mode = wire.SubgroupIDExplicit
	}
	// The header fields that reach the wire are the GroupWriter's own;
	// these only decide how objects are encoded, which is the same for
	// every stream of the subgroup (GroupWriters always carry extensions).
	e.sw.Reset(wire.SubgroupHeader{GroupID: uint64(group), SubgroupID: subgroup, IDMode: mode, Extensions: true}, wire.Draft14)
	return e
}

// Encode encodes objs, the subgroup's next objects, as one run. Object IDs
// follow the rules of GroupWriter.WriteObject (an ID of zero after the
// first object is the next one). A payload the run copies (at most 1 KiB)
// gets a new Frame over the copy in its Object, so that the objects and
// the run share that memory: call Encode before sharing objs. On error no
// run is returned and neither the encoder nor objs change.
func (e *RunEncoder) Encode(objs []*Object) (*ObjectRun, error) {
	if len(objs) == 0 {
		return nil, errors.New("moqt: empty object run")
	}
	if e.sw.Ended() {
		return nil, errors.New("moqt: objects after the end of the group")
	}
	r := &ObjectRun{v: wire.Draft14, group: e.group, subgroup: e.subgroup, objects: len(objs)}
	r.prev, r.after = e.sw.Last()
	// Reserve room for the whole run in one block: a header is at most
	// four varints and its extensions.
	need := 0
	for _, o := range objs {
		need += 4*8 + 2*len(o.Extensions)*8
		for _, x := range o.Extensions {
			need += len(x.Bytes)
		}
		if n := o.Frame.Len(); n <= maxInline {
			need += n
		}
	}
	pb := e.block
	if pb == nil {
		pb, _ = runBlocks.Get().(*runBlockOf)
		if pb == nil {
			pb = new(runBlockOf)
		}
		e.block = pb
	}
	block := pb.b
	if cap(block)-len(block) < need {
		block = make([]byte, 0, max(runBlock, need))
	}
	sw, nextID := e.sw, e.nextID
	lo := len(block)
	var small [maxBatch]int
	copied := small[:] // where each copied payload starts in block
	if len(objs) > len(small) {
		copied = make([]int, len(objs))
	}
	var err error
	for i, o := range objs {
		var id uint64
		if id, err = nextObjectID(o.ID, nextID); err != nil {
			break
		}
		p := o.Frame.Bytes()
		if block, err = appendObjectHeader(&sw, block, &e.ext, e.group, e.subgroup, id, o.Status, o.Extensions, len(p)); err != nil {
			break
		}
		if len(p) <= maxInline {
			copied[i] = len(block)
			block = append(block, p...)
		} else {
			r.segs = append(r.segs, block[lo:], p)
			lo = len(block)
		}
		nextID = id + 1
		r.last, r.status = id, o.Status
	}
	if err != nil {
		return nil, err
	}
	if lo < len(block) {
		r.segs = append(r.segs, block[lo:])
	}
	for _, s := range r.segs {
		r.size += len(s)
	}
	e.sw, e.nextID, pb.b = sw, nextID, block
	for i, o := range objs {
		if n := o.Frame.Len(); n > 0 && n <= maxInline {
			o.Frame = &Frame{b: block[copied[i] : copied[i]+n : copied[i]+n]}
		}
	}
	return r, nil
}

// Close ends the encoder's use of its block, leaving the room it did not
// use to encoders made after it. Encode may still be called; it starts a
// block of its own.
func (e *RunEncoder) Close() {
	if pb := e.block; pb != nil {
		e.block = nil
		if cap(pb.b)-len(pb.b) >= 1<<10 {
			runBlocks.Put(pb)
		}
	}
}

// WriteRun writes the objects of r, which must continue the group where
// the writes before it ended: encoded for this group and subgroup, after
// the object this GroupWriter wrote last (or as the subgroup's first
// objects, if it wrote none). Its bytes are queued by reference, as Frames
// are, so a run written to many groups costs no copy per group.
func (gw *GroupWriter) WriteRun(r *ObjectRun) error { return gw.writeRun(r, false) }

// TryWriteRun is WriteRun that never waits: where WriteRun would wait for
// room in the send buffer, it writes nothing and returns ErrWouldBlock, as
// TryWriteObjects does; so does a group not sent through the scheduler.
func (gw *GroupWriter) TryWriteRun(r *ObjectRun) error {
	if gw.dg != nil || gw.st != &gw.ss {
		return ErrWouldBlock
	}
	return gw.writeRun(r, true)
}

func (gw *GroupWriter) writeRun(r *ObjectRun, try bool) error {
	gw.mu.Lock()
	defer gw.mu.Unlock()
	if gw.done.Load() {
		return ErrClosed
	}
	if gw.tw.paused() {
		return ErrPaused
	}
	if gw.dg != nil {
		return errors.New("moqt: object runs are written to subgroup streams, not datagram groups")
	}
	last, started := gw.sw.Last()
	if r.v != gw.tw.sess.version || r.group != gw.seq || r.subgroup != gw.subgroup ||
		started != r.after || (started && last != r.prev) || gw.sw.Ended() {
		return ErrRunMismatch
	}
	hdr := gw.buf[:gw.pending]
	var err error
	if gw.st == &gw.ss {
		err = gw.ss.writeRun(hdr, r, try)
		if err == ErrWouldBlock {
			return err
		}
	} else {
		err = writeSegs(gw.st, hdr, r.segs)
	}
	if err != nil {
		return gw.writeErr(err)
	}
	gw.pending = 0
	gw.sw.Skip(r.last, wire.ObjectStatus(r.status))
	gw.nextID = r.last + 1
	return nil
}

// writeSegs writes hdr and then segs to a stream that is not scheduled.
func writeSegs(st interface{ Write([]byte) (int, error) }, hdr []byte, segs [][]byte) error {
	if len(hdr) > 0 {
		if _, err := st.Write(hdr); err != nil {
			return err
		}
	}
	for _, s := range segs {
		if _, err := st.Write(s); err != nil {
			return err
		}
	}
	return nil
}

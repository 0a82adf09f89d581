package moqt

import (
	"errors"
	"sync"
	"time"

	"github.com/moqgo/moqgo/internal/transport"
	"github.com/moqgo/moqgo/internal/wire"
)

// OpenDatagramGroup opens group seq for datagram delivery (draft-14 §10.3):
// each object written to the returned GroupWriter is sent as one
// OBJECT_DATAGRAM, so a lost packet loses that object and nothing else (no
// retransmission, no head-of-line blocking). Use it for data where late is
// worthless: audio, telemetry, cursor positions.
//
// An object too large for a datagram (the path MTU and the peer's limit)
// is sent on a subgroup stream of the same group instead, automatically and
// reliably; the subscriber accepts that stream as a second GroupReader with
// the same GroupSequence. Close sends an End of Group status datagram. The
// objects use the session's default publisher priority.
//
// The subscriber reads a datagram group with the same GroupReader API; see
// GroupReader for when such a group ends.
func (tw *TrackWriter) OpenDatagramGroup(seq GroupSequence) (*GroupWriter, error) {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	if tw.closed || tw.ctx.Err() != nil {
		return nil, tw.err()
	}
	if !tw.config.inRange(seq) || seq < tw.config.StartGroup {
		return nil, ErrOutOfRange
	}
	if !tw.infoSent {
		if err := tw.writeInfoLocked(Info{}); err != nil {
			return nil, err
		}
	}
	gw := newGroupWriter(tw, nil, seq, 0, tw.sess.cfg.DefaultPublisherPriority)
	gw.dg = &datagramSender{}
	return gw, nil
}

// datagramSender is the datagram state of a GroupWriter.
type datagramSender struct {
	max int // largest datagram the transport took, 0 until one was refused

	mu       sync.Mutex
	stream   *GroupWriter // carries objects too large for a datagram
	deadline time.Time
}

// writeDatagram sends one object; gw.mu is held.
func (gw *GroupWriter) writeDatagram(id uint64, status ObjectStatus, exts []Extension, p []byte) error {
	d := wire.Datagram{
		TrackAlias: gw.tw.alias,
		Object: wire.Object{
			GroupID:           uint64(gw.seq),
			ObjectID:          id,
			PublisherPriority: gw.priority,
			Status:            wire.ObjectStatus(status),
			Extensions:        gw.ext,
		},
		Payload:       p,
		StatusPresent: status != StatusNormal,
	}
	b := scratchBufs.Get().(*[]byte) // SendDatagram copies it
	defer scratchBufs.Put(b)
	var err error
	if *b, err = wire.AppendDatagram((*b)[:0], &d, gw.tw.sess.version); err != nil {
		return err
	}
	if gw.dg.max == 0 || len(*b) <= gw.dg.max {
		err = gw.tw.sess.conn.SendDatagram(*b)
		var tooLarge *transport.DatagramTooLargeError
		if !errors.As(err, &tooLarge) {
			if err != nil {
				return gw.writeErr(err)
			}
			gw.nextID = id + 1
			return nil
		}
		gw.dg.max = tooLarge.Max
	}
	st, err := gw.dg.fallback(gw)
	if err != nil {
		return err
	}
	if err := st.WriteObject(&Object{ID: id, Status: status, Extensions: exts, Frame: &Frame{b: p}}); err != nil {
		return err
	}
	gw.nextID = id + 1
	return nil
}

// fallback returns the group's subgroup stream, opening it on first use.
func (dg *datagramSender) fallback(gw *GroupWriter) (*GroupWriter, error) {
	dg.mu.Lock()
	defer dg.mu.Unlock()
	if dg.stream == nil {
		st, err := gw.tw.OpenSubgroup(gw.seq, 0, gw.priority)
		if err != nil {
			return nil, err
		}
		if !dg.deadline.IsZero() {
			_ = st.SetWriteDeadline(dg.deadline)
		}
		dg.stream = st
	}
	return dg.stream, nil
}

func (dg *datagramSender) setDeadline(t time.Time) error {
	dg.mu.Lock()
	defer dg.mu.Unlock()
	dg.deadline = t
	if dg.stream != nil {
		return dg.stream.SetWriteDeadline(t)
	}
	return nil
}

func (dg *datagramSender) cancel(code GroupErrorCode) {
	dg.mu.Lock()
	st := dg.stream
	dg.mu.Unlock()
	if st != nil {
		st.CancelWrite(code)
	}
}

// closeDatagrams ends a datagram group: an End of Group status datagram
// (best effort: if it is lost the subscriber ends the group by timeout) and
// the end of the fallback stream. gw.mu is held.
func (gw *GroupWriter) closeDatagrams() error {
	d := wire.Datagram{
		TrackAlias: gw.tw.alias,
		Object: wire.Object{
			GroupID:           uint64(gw.seq),
			ObjectID:          gw.nextID,
			PublisherPriority: gw.priority,
			Status:            wire.StatusEndOfGroup,
		},
		StatusPresent: true,
	}
	b := scratchBufs.Get().(*[]byte) // SendDatagram copies it
	var err error
	if *b, err = wire.AppendDatagram((*b)[:0], &d, gw.tw.sess.version); err == nil {
		if err = gw.tw.sess.conn.SendDatagram(*b); err != nil {
			err = gw.writeErr(err)
		}
	}
	scratchBufs.Put(b)
	gw.dg.mu.Lock()
	st := gw.dg.stream
	gw.dg.mu.Unlock()
	if st != nil {
		if cerr := st.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

package moqt

import (
	"context"
	"errors"
	"sync"

	"github.com/moqgo/moqgo/internal/transport"
	"github.com/moqgo/moqgo/internal/wire"
)

// FetchWriter is the publisher's side of one FETCH, handed to a
// FetchHandler. WriteInfo accepts the fetch with FETCH_OK; WriteObject sends
// the objects, in the requested order, on the fetch's stream; Close ends
// the stream. CloseWithError before WriteInfo refuses the fetch with
// FETCH_ERROR, and after it resets the stream.
//
// The fetch stream is a scheduled stream of its own pseudo-subscription
// (see Priorities in the package docs): it competes with the session's
// subscriptions and other fetches by the FETCH's subscriber priority and
// then the publisher priority of its next object, WriteObject waits while
// Config.SendBuffer bytes of the fetch are queued, and Close waits until
// the stream has been handed to the transport (or the fetch is cancelled).
type FetchWriter struct {
	// BroadcastPath and TrackName name the fetched track.
	BroadcastPath BroadcastPath
	TrackName     TrackName

	sess   *Session
	id     uint64
	config FetchConfig

	mu       sync.Mutex // serializes the writers
	infoSent bool
	closed   bool
	w        *wire.FetchWriter
	obj      wire.Object
	buf      []byte
	ext      []byte
	last     Location // last object written
	wrote    bool

	smu     sync.Mutex           // guards st and aborted, taken by FETCH_CANCEL
	st      transport.SendStream // &ss when scheduled
	ss      schedStream          // the scheduled stream, unless Config.DisableScheduler
	tr      schedTrack           // ss's pseudo-subscription
	aborted bool
	fin     bool // the stream ended cleanly
	ended   bool // finish ran

	ctx    context.Context
	cancel context.CancelCauseFunc
}

// errFetchCancelled is the cause of a FetchWriter's context after
// FETCH_CANCEL.
var errFetchCancelled = errors.New("moqt: fetch cancelled by the subscriber")

// Context returns a context canceled when the fetch ends: the subscriber
// cancelled it (FETCH_CANCEL), the writer was closed, or the session ended.
func (fw *FetchWriter) Context() context.Context { return fw.ctx }

// RequestID returns the Request ID of the FETCH.
func (fw *FetchWriter) RequestID() uint64 { return fw.id }

// FetchConfig returns the requested range, with a joining fetch's range
// already computed from its subscription (draft-14 §9.16.2.1) and the group
// order resolved to ascending or descending.
func (fw *FetchWriter) FetchConfig() *FetchConfig {
	c := fw.config
	return &c
}

// WriteInfo accepts the fetch, sending info in FETCH_OK. It may be called
// once; without it Close sends FETCH_OK with the requested range's end.
// A zero GroupOrder means the requested one.
func (fw *FetchWriter) WriteInfo(info FetchInfo) error {
	fw.mu.Lock()
	defer fw.mu.Unlock()
	if fw.closed {
		return ErrClosed
	}
	if fw.infoSent {
		return errors.New("moqt: WriteInfo called twice")
	}
	return fw.writeInfoLocked(info)
}

func (fw *FetchWriter) writeInfoLocked(info FetchInfo) error {
	if info.GroupOrder == GroupOrderDefault {
		info.GroupOrder = fw.config.GroupOrder
	}
	if err := fw.ctx.Err(); err != nil {
		return fw.err()
	}
	err := fw.sess.writeControl(&wire.FetchOK{
		RequestID:  fw.id,
		GroupOrder: wire.GroupOrder(info.GroupOrder),
		EndOfTrack: info.EndOfTrack,
		End:        info.End.wire(),
	})
	if err != nil {
		return err
	}
	fw.infoSent = true
	if err := fw.openLocked(); err != nil {
		return err
	}
	return fw.writeHeaderLocked()
}

// writeHeaderLocked sends the fetch stream's header with FETCH_OK, before
// any object, so that the subscriber knows the stream as this fetch's
// from then on: a fetch abandoned before its first object (CancelWrite,
// the session's end) still ends the subscriber's FetchReader with the
// reset, instead of leaving it waiting for a stream it cannot identify
// (it gives up after its RequestTimeout). Over raw QUIC the header is the
// reset's reliable part (TryWriteReliable). The header goes to the
// transport stream directly, not through the send scheduler: nothing of
// the stream is queued yet, and a few bytes need not wait their turn
// behind more urgent data. fw.mu is held.
func (fw *FetchWriter) writeHeaderLocked() error {
	st := fw.st
	if st == &fw.ss {
		st = fw.ss.st
	}
	err := writeStart(st, fw.buf, true)
	fw.buf = fw.buf[:0]
	if err != nil && fw.ctx.Err() != nil {
		return fw.err()
	}
	return err
}

func (fw *FetchWriter) err() error {
	if c := context.Cause(fw.ctx); c != nil {
		return c
	}
	return ErrClosed
}

// WriteObject sends o on the fetch stream. Objects must follow the fetch's
// group order, and ascend by object ID within a group.
func (fw *FetchWriter) WriteObject(o *TrackObject) error {
	fw.mu.Lock()
	defer fw.mu.Unlock()
	if fw.closed {
		return ErrClosed
	}
	if fw.wrote && !fw.inOrder(o.Location()) {
		return errors.New("moqt: fetched objects out of order")
	}
	if err := fw.openLocked(); err != nil {
		return err
	}
	var err error
	if fw.ext, err = appendExtensions(fw.ext[:0], o.Extensions); err != nil {
		return err
	}
	p := o.Frame.Bytes()
	fw.obj = wire.Object{
		GroupID:           uint64(o.Group),
		SubgroupID:        o.Subgroup,
		ObjectID:          o.ID,
		PublisherPriority: o.PublisherPriority,
		Status:            wire.ObjectStatus(o.Status),
		Extensions:        fw.ext,
		PayloadLength:     uint64(len(p)),
	}
	if fw.buf, err = fw.w.AppendObject(fw.buf, &fw.obj); err != nil {
		return err
	}
	if fw.st == &fw.ss {
		// Queued: the header copied, a large payload only referenced.
		err = fw.ss.writePrio(fw.buf, p, int(o.PublisherPriority), false)
	} else {
		if len(p) <= maxCoalesce {
			fw.buf = append(fw.buf, p...)
			p = nil
		}
		_, err = fw.st.Write(fw.buf)
		if err == nil && len(p) > 0 {
			_, err = fw.st.Write(p)
		}
	}
	fw.buf = fw.buf[:0]
	if err != nil {
		if fw.ctx.Err() != nil {
			return fw.err()
		}
		return err
	}
	fw.last, fw.wrote = o.Location(), true
	return nil
}

// inOrder reports whether an object at l may follow the last one written.
func (fw *FetchWriter) inOrder(l Location) bool {
	if l.Group == fw.last.Group {
		return l.Object > fw.last.Object
	}
	if fw.config.GroupOrder == GroupOrderDescending {
		return l.Group < fw.last.Group
	}
	return l.Group > fw.last.Group
}

// openLocked opens the fetch stream and queues its header; fw.mu is held.
func (fw *FetchWriter) openLocked() error {
	if fw.st != nil {
		return nil
	}
	st, err := fw.sess.conn.OpenUniStream(fw.ctx)
	if err != nil {
		if fw.ctx.Err() != nil {
			return fw.err()
		}
		return err
	}
	var ws transport.SendStream = st
	if s := fw.sess.sched; s != nil {
		// One stream in its own pseudo-subscription, in the stream's own
		// order, with no delivery timeout: a fetch is not live data.
		fw.tr = schedTrack{prio: fw.config.Priority}
		s.open(&fw.ss, nil, &fw.tr, st, 0, 0, 0)
		ws = &fw.ss
	} else {
		st.SetPriority(int(fw.config.Priority) * 8 / 256)
	}
	fw.smu.Lock()
	if fw.aborted {
		fw.smu.Unlock()
		ws.CancelWrite(uint64(GroupErrorCancelled))
		return fw.err()
	}
	fw.st = ws
	fw.smu.Unlock()
	fw.w = wire.NewFetchWriter(fw.sess.version)
	fw.buf, err = wire.AppendFetchHeader(fw.buf[:0], fw.id, fw.sess.version)
	return err
}

// Close ends the fetch normally: FETCH_OK if not sent yet, then the end of
// the stream.
func (fw *FetchWriter) Close() error {
	fw.mu.Lock()
	if fw.closed {
		fw.mu.Unlock()
		return nil
	}
	fw.closed = true
	var err error
	if !fw.infoSent {
		err = fw.writeInfoLocked(FetchInfo{End: fw.config.End})
	}
	if err == nil {
		err = fw.openLocked()
	}
	if err == nil && len(fw.buf) > 0 {
		_, err = fw.st.Write(fw.buf)
	}
	fin := false
	if err == nil {
		fw.smu.Lock()
		fw.fin = !fw.aborted
		fin = fw.fin
		fw.smu.Unlock()
		err = fw.st.Close()
	} else if fw.st != nil {
		fw.st.CancelWrite(uint64(GroupErrorInternal))
	}
	fw.mu.Unlock()
	if err == nil && fin && fw.st == &fw.ss {
		// The fetch lasts until its queued objects are on their way, so
		// that FETCH_CANCEL (or the session's end) still drops them and
		// resets the stream; quic-go took the unscheduled stream's bytes
		// in its blocking Writes already.
		if werr := fw.ss.wait(fw.ctx, uint64(GroupErrorCancelled)); werr != nil {
			err = werr
			if fw.ctx.Err() != nil {
				err = fw.err()
			}
		}
	}
	fw.finish(ErrClosed)
	return err
}

// CloseWithError refuses the fetch with FETCH_ERROR and code if it was not
// accepted yet, or resets its stream.
func (fw *FetchWriter) CloseWithError(code SubscribeErrorCode) {
	fw.fail(code, GroupErrorInternal, &FetchError{Code: code, Reason: "closed by publisher"})
}

// CancelWrite abandons an accepted fetch, resetting its stream with code
// (a relay passing on the reset of the stream it forwards, for one). Before
// WriteInfo it refuses the fetch like CloseWithError(SubscribeErrorInternal).
// After WriteInfo the fetch stream and its header are out already
// (reliably over raw QUIC, so the reset reaches the subscriber's
// FetchReader even before the first object; over WebTransport the header
// may lose the race with a reset that follows it at once).
func (fw *FetchWriter) CancelWrite(code GroupErrorCode) {
	fw.fail(SubscribeErrorInternal, code, &GroupError{Code: code})
}

// fail ends the fetch: FETCH_ERROR with refuse if it was not accepted yet,
// else a reset of its stream with reset; cause is what Context reports.
func (fw *FetchWriter) fail(refuse SubscribeErrorCode, reset GroupErrorCode, cause error) {
	fw.mu.Lock()
	if fw.closed {
		fw.mu.Unlock()
		return
	}
	fw.closed = true
	if !fw.infoSent && fw.ctx.Err() == nil {
		fw.sess.send(&wire.FetchError{RequestID: fw.id, ErrorCode: uint64(refuse), ReasonPhrase: "refused by publisher"})
	}
	fw.mu.Unlock()
	fw.abort(reset)
	fw.finish(cause)
}

// abort resets the stream, if open, and keeps a later one from opening.
func (fw *FetchWriter) abort(code GroupErrorCode) {
	fw.smu.Lock()
	fw.aborted = true
	st, fin := fw.st, fw.fin
	fw.smu.Unlock()
	if st != nil && !fin {
		st.CancelWrite(uint64(code))
	}
}

// finish ends the fetch's state once and grants the peer its request back.
func (fw *FetchWriter) finish(cause error) {
	fw.smu.Lock()
	ended := fw.ended
	fw.ended = true
	fw.smu.Unlock()
	if ended {
		return
	}
	fw.cancel(cause)
	s := fw.sess
	s.mu.Lock()
	delete(s.fetchPubs, fw.id)
	s.mu.Unlock()
	s.releaseRequest()
}

// handleFetch serves a FETCH through the TrackMux.
func (s *Session) handleFetch(m *wire.Fetch) error {
	if err := s.acceptRequestID(m.RequestID); err != nil {
		return err
	}
	refuse := func(code SubscribeErrorCode, reason string) error {
		s.send(&wire.FetchError{RequestID: m.RequestID, ErrorCode: uint64(code), ReasonPhrase: reason})
		s.releaseRequest()
		return nil
	}
	fw := &FetchWriter{sess: s, id: m.RequestID}
	fw.config = FetchConfig{Priority: m.SubscriberPriority, GroupOrder: resolveOrder(GroupOrder(m.GroupOrder))}
	if m.FetchType == wire.FetchStandalone {
		fw.BroadcastPath, fw.TrackName = pathOf(m.TrackNamespace), TrackName(m.TrackName)
		fw.config.Start, fw.config.End = locationOf(m.Start), locationOf(m.End)
		if fw.config.End.Group < fw.config.Start.Group ||
			(fw.config.End.Group == fw.config.Start.Group && fw.config.End.Object != 0 && fw.config.End.Object <= fw.config.Start.Object) {
			return refuse(FetchErrorInvalidRange, "end before start")
		}
	} else {
		s.mu.Lock()
		tw := s.pubs[m.JoiningRequestID]
		s.mu.Unlock()
		if tw == nil || tw.outgoing {
			return refuse(FetchErrorInvalidJoiningRequestID, "no such subscription")
		}
		tw.mu.Lock()
		filter, info, sent := tw.joinFilter, tw.info, tw.infoSent
		tw.mu.Unlock()
		if filter != FilterLatestObject {
			return &SessionError{Code: ErrCodeProtocolViolation, Reason: "joining FETCH for a subscription whose filter is not Largest Object"}
		}
		if !sent {
			return refuse(FetchErrorInvalidJoiningRequestID, "subscription not accepted yet")
		}
		if !info.ContentExists {
			return refuse(FetchErrorInvalidRange, "no objects published yet")
		}
		fw.BroadcastPath, fw.TrackName = tw.BroadcastPath, tw.TrackName
		largest := Location{Group: info.LatestGroup, Object: info.LatestObject}
		// The end is the largest object, inclusive: End Object is the
		// object plus one (draft-14 §9.16.2.1). A largest object at the
		// top of the varint range has no successor: the whole group (End
		// Object 0) ends at it all the same, as no object can follow it.
		fw.config.End = Location{Group: largest.Group}
		if largest.Object < wire.MaxVarint {
			fw.config.End.Object = largest.Object + 1
		}
		if m.FetchType == wire.FetchRelativeJoining {
			start := uint64(0)
			if m.JoiningStart < uint64(largest.Group) {
				start = uint64(largest.Group) - m.JoiningStart
			}
			fw.config.Start = Location{Group: GroupSequence(start)}
		} else {
			fw.config.Start = Location{Group: GroupSequence(m.JoiningStart)}
			if largest.Less(fw.config.Start) {
				return refuse(FetchErrorInvalidRange, "start after the largest object")
			}
		}
	}
	fw.ctx, fw.cancel = context.WithCancelCause(s.ctx)
	context.AfterFunc(fw.ctx, func() { fw.abort(GroupErrorCancelled) })
	s.mu.Lock()
	s.fetchPubs[m.RequestID] = fw
	s.mu.Unlock()
	go func() {
		defer fw.Close()
		s.mux.ServeFetch(fw)
	}()
	return nil
}

// handleFetchCancel stops a FETCH the peer no longer wants.
func (s *Session) handleFetchCancel(m *wire.FetchCancel) error {
	s.mu.Lock()
	fw := s.fetchPubs[m.RequestID]
	s.mu.Unlock()
	if fw != nil {
		fw.finish(errFetchCancelled)
	}
	return nil
}

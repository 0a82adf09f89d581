package moqt

import (
	"bufio"
	"context"
	"errors"
	"io"
	"sync"
	"time"

	"github.com/moqgo/moqgo/internal/transport"
	"github.com/moqgo/moqgo/internal/wire"
)

// FetchReader is the fetcher's side of a FETCH: it yields the fetched
// objects, in the fetch's group order, from the fetch's stream.
type FetchReader struct {
	// BroadcastPath and TrackName name the fetched track.
	BroadcastPath BroadcastPath
	TrackName     TrackName

	sess   *Session
	id     uint64
	config FetchConfig

	ready    chan struct{} // closed on FETCH_OK or FETCH_ERROR
	info     FetchInfo     // set before ready is closed
	setupErr error         // set before ready is closed
	arrived  chan struct{} // closed when the stream arrives

	smu      sync.Mutex  // guards rs, done, closing, noStream
	noStream *time.Timer // after FETCH_OK, bounds the wait for the stream
	rs       transport.ReceiveStream
	br       *bufio.Reader
	done     bool // the stream ended or failed: nothing to cancel
	closing  bool

	mu    sync.Mutex // serializes reads
	r     *wire.FetchReader
	obj   wire.Object
	last  Location
	read  bool
	order GroupOrder // the groups' order; the publisher's if still default
	err   error      // sticky

	ctx    context.Context
	cancel context.CancelCauseFunc
}

// Fetch asks the peer for past objects of a track (a standalone FETCH) and
// waits for the answer: FETCH_OK, or FETCH_ERROR as a *FetchError. ctx
// bounds the wait, as does Config.RequestTimeout. A nil config fetches
// group 0.
func (s *Session) Fetch(ctx context.Context, path BroadcastPath, name TrackName, config *FetchConfig) (*FetchReader, error) {
	var cfg FetchConfig
	if config != nil {
		cfg = *config
	}
	if cfg.End.Less(cfg.Start) && !(cfg.End.Group == cfg.Start.Group && cfg.End.Object == 0) {
		return nil, errors.New("moqt: fetch range ends before it starts")
	}
	path = cleanPath(path)
	return s.fetch(ctx, path, name, cfg, func(id uint64) *wire.Fetch {
		return &wire.Fetch{
			RequestID:          id,
			SubscriberPriority: cfg.Priority,
			GroupOrder:         wire.GroupOrder(cfg.GroupOrder),
			FetchType:          wire.FetchStandalone,
			TrackNamespace:     path.namespace(),
			TrackName:          string(name),
			Start:              cfg.Start.wire(),
			End:                cfg.End.wire(),
		}
	})
}

// Join fetches the past groups of the subscription's track that lead up to
// it (a relative joining FETCH, draft-14 §9.16.2): groups groups in all,
// counting the group of the subscription's largest location, which is
// fetched from its start up to that location. Together with the
// subscription this delivers every object of the last groups groups once.
// Only a FilterLatestObject subscription can be joined. config supplies
// the priority and group order; its range is ignored.
func (tr *TrackReader) Join(ctx context.Context, groups uint64, config *FetchConfig) (*FetchReader, error) {
	if groups == 0 {
		return nil, errors.New("moqt: Join needs at least one group")
	}
	return tr.join(ctx, wire.FetchRelativeJoining, groups-1, config)
}

// JoinFrom fetches the subscription's track from the start of group up to
// the subscription's largest location (an absolute joining FETCH).
func (tr *TrackReader) JoinFrom(ctx context.Context, group GroupSequence, config *FetchConfig) (*FetchReader, error) {
	return tr.join(ctx, wire.FetchAbsoluteJoining, uint64(group), config)
}

func (tr *TrackReader) join(ctx context.Context, typ wire.FetchType, start uint64, config *FetchConfig) (*FetchReader, error) {
	var cfg FetchConfig
	if config != nil {
		cfg = *config
	}
	tr.mu.Lock()
	filter := tr.config.Filter
	tr.mu.Unlock()
	if filter != FilterLatestObject {
		return nil, errors.New("moqt: only a FilterLatestObject subscription can be joined")
	}
	if tr.ctx.Err() != nil {
		return nil, ErrClosed
	}
	cfg.End = Location{}
	cfg.Start = Location{}
	return tr.sess.fetch(ctx, tr.BroadcastPath, tr.TrackName, cfg, func(id uint64) *wire.Fetch {
		return &wire.Fetch{
			RequestID:          id,
			SubscriberPriority: cfg.Priority,
			GroupOrder:         wire.GroupOrder(cfg.GroupOrder),
			FetchType:          typ,
			JoiningRequestID:   tr.id,
			JoiningStart:       start,
		}
	})
}

// SubscribeJoining subscribes to a track from its latest object and fetches
// its last groups groups (see TrackReader.Join) in one call: read the
// FetchReader for the past, then the TrackReader for what follows. The
// FetchReader is nil if groups is zero or the track has no objects yet.
// config.Filter is ignored (a joined subscription starts at the latest
// object).
func (s *Session) SubscribeJoining(path BroadcastPath, name TrackName, groups uint64, config *TrackConfig) (*TrackReader, *FetchReader, error) {
	var cfg TrackConfig
	if config != nil {
		cfg = *config
	}
	cfg.Filter = FilterLatestObject
	tr, err := s.Subscribe(path, name, &cfg)
	if err != nil {
		return nil, nil, err
	}
	if groups == 0 || !tr.Info().ContentExists {
		return tr, nil, nil
	}
	ctx, cancel := s.requestContext()
	defer cancel()
	fr, err := tr.Join(ctx, groups, &FetchConfig{Priority: cfg.Priority, GroupOrder: cfg.GroupOrder})
	if err != nil {
		tr.Close()
		return nil, nil, err
	}
	return tr, fr, nil
}

// fetch sends the FETCH build returns and waits for its answer.
func (s *Session) fetch(ctx context.Context, path BroadcastPath, name TrackName, cfg FetchConfig, build func(id uint64) *wire.Fetch) (*FetchReader, error) {
	rctx, cancel := s.requestContext()
	defer cancel()
	stop := context.AfterFunc(ctx, cancel)
	defer stop()
	var fr *FetchReader
	_, err := s.sendRequest(rctx, func(id uint64) wire.Message {
		fr = &FetchReader{
			BroadcastPath: path,
			TrackName:     name,
			sess:          s,
			id:            id,
			config:        cfg,
			ready:         make(chan struct{}),
			arrived:       make(chan struct{}),
			r:             wire.NewFetchReader(s.version),
		}
		fr.order = cfg.GroupOrder
		fr.ctx, fr.cancel = context.WithCancelCause(s.ctx)
		s.mu.Lock()
		s.fetches[id] = fr
		s.mu.Unlock()
		return build(id)
	})
	if err != nil {
		if fr != nil {
			fr.forget()
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	// FETCH_OK may follow the objects (draft-14 §9.16.3): the stream
	// arriving first is an answer too.
	select {
	case <-fr.ready:
		if fr.setupErr != nil {
			return nil, fr.setupErr
		}
		return fr, nil
	case <-fr.arrived:
		return fr, nil
	case <-rctx.Done():
		fr.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, s.ctxErr(rctx)
	case <-fr.ctx.Done():
		select {
		case <-fr.ready:
			if fr.setupErr != nil {
				return nil, fr.setupErr
			}
		default:
		}
		fr.Close()
		return nil, s.sessionErr()
	}
}

// forget drops the fetch from the session.
func (fr *FetchReader) forget() {
	s := fr.sess
	s.mu.Lock()
	if s.fetches[fr.id] == fr {
		delete(s.fetches, fr.id)
	}
	s.mu.Unlock()
}

// Info returns what the publisher said in FETCH_OK, waiting for it if the
// objects came first (a publisher sends FETCH_OK once it knows where the
// range ends). It returns a zero FetchInfo if the fetch ended without one.
func (fr *FetchReader) Info() FetchInfo {
	select {
	case <-fr.ready:
		return fr.info
	case <-fr.ctx.Done():
	}
	select {
	case <-fr.ready:
		return fr.info
	default:
		return FetchInfo{}
	}
}

// RequestID returns the Request ID of the FETCH.
func (fr *FetchReader) RequestID() uint64 { return fr.id }

// Context returns a context canceled when the fetch is closed or the
// session ends.
func (fr *FetchReader) Context() context.Context { return fr.ctx }

// ReadObject returns the next fetched object. It returns io.EOF after the
// last one, a *GroupError if the publisher reset the stream, and ErrClosed
// after Close. Objects that arrive out of the fetch's order end the fetch
// with an error, and so does a stream that has not arrived within
// Config.RequestTimeout of FETCH_OK.
func (fr *FetchReader) ReadObject() (*TrackObject, error) {
	select {
	case <-fr.arrived:
	case <-fr.ctx.Done():
		return nil, fr.ctxErr()
	}
	fr.mu.Lock()
	defer fr.mu.Unlock()
	if fr.err != nil {
		return nil, fr.err
	}
	if err := fr.r.ReadObject(fr.br, &fr.obj); err != nil {
		return nil, fr.fail(err)
	}
	s := fr.sess
	if fr.obj.PayloadLength > uint64(s.cfg.MaxFrameSize) {
		return nil, fr.fail(ErrFrameTooLarge)
	}
	// One allocation for the object and its Frame, one for the payload.
	x := &fetchedObject{TrackObject: TrackObject{
		Group:             GroupSequence(fr.obj.GroupID),
		Subgroup:          fr.obj.SubgroupID,
		PublisherPriority: fr.obj.PublisherPriority,
		Object:            Object{ID: fr.obj.ObjectID, Status: ObjectStatus(fr.obj.Status)},
	}}
	o := &x.TrackObject
	if fr.read && !fr.inOrder(o.Location()) {
		return nil, fr.fail(errors.New("moqt: fetched objects out of order"))
	}
	fr.last, fr.read = o.Location(), true
	var err error
	if o.Extensions, err = parseExtensions(fr.obj.Extensions); err != nil {
		return nil, fr.fail(err)
	}
	if fr.obj.Status == wire.StatusNormal {
		x.frame.b = make([]byte, fr.obj.PayloadLength)
		o.Frame = &x.frame
		if _, err := io.ReadFull(fr.br, x.frame.b); err != nil {
			return nil, fr.fail(err)
		}
	}
	return o, nil
}

// fetchedObject holds a fetched object and its Frame in one allocation.
type fetchedObject struct {
	TrackObject
	frame Frame
}

// inOrder reports whether an object at l may follow the last one read. The
// first change of group tells the publisher's order if the fetch left it
// to the publisher. fr.mu is held.
func (fr *FetchReader) inOrder(l Location) bool {
	switch {
	case l.Group == fr.last.Group:
		return l.Object > fr.last.Object
	case fr.order == GroupOrderDefault && l.Group < fr.last.Group:
		fr.order = GroupOrderDescending
	case fr.order == GroupOrderDefault:
		fr.order = GroupOrderAscending
	}
	if fr.order == GroupOrderDescending {
		return l.Group < fr.last.Group
	}
	return l.Group > fr.last.Group
}

func (fr *FetchReader) ctxErr() error {
	c := context.Cause(fr.ctx)
	if c == nil {
		return ErrClosed
	}
	return c
}

// fail records a read error and ends the stream; fr.mu is held.
func (fr *FetchReader) fail(err error) error {
	var we *wire.Error
	var se *transport.StreamError
	switch {
	case errors.Is(err, io.EOF):
		err = io.EOF
	case errors.As(err, &we) && !(we.Kind == wire.KindIncomplete && we.NeedMore()):
		fr.sess.failErr(we)
		err = fr.sess.sessionErr()
	case errors.As(err, &se):
		err = &GroupError{Code: GroupErrorCode(se.Code), Remote: se.Remote}
	case errors.As(err, &we):
		err = io.ErrUnexpectedEOF
	case fr.ctx.Err() != nil:
		err = fr.ctxErr()
	}
	fr.smu.Lock()
	closing := fr.closing
	fr.done = err == io.EOF || closing
	rs := fr.rs
	fr.smu.Unlock()
	if err != io.EOF && !closing {
		// Out of order, too large, or malformed: stop the stream and the
		// fetch.
		rs.CancelRead(uint64(GroupErrorCancelled))
		fr.sess.send(&wire.FetchCancel{RequestID: fr.id})
	}
	fr.err = err
	fr.releaseLocked()
	select {
	case <-fr.ready:
		fr.forget()
	default:
		if err != io.EOF {
			fr.forget()
		}
		// Else FETCH_OK is still to come: handleFetchOK forgets the
		// fetch once it has arrived.
	}
	return err
}

// releaseLocked returns the buffered reader to the pool; fr.mu is held.
func (fr *FetchReader) releaseLocked() {
	if fr.br != nil {
		fr.br.Reset(nil)
		readerPool.Put(fr.br)
		fr.br = nil
	}
}

// Close cancels the fetch (FETCH_CANCEL) unless it already ended, stopping
// its stream.
func (fr *FetchReader) Close() error {
	fr.smu.Lock()
	if fr.closing {
		fr.smu.Unlock()
		return nil
	}
	fr.closing = true
	done, rs := fr.done, fr.rs
	if fr.noStream != nil {
		fr.noStream.Stop()
	}
	fr.smu.Unlock()
	if rs != nil && !done {
		rs.CancelRead(uint64(GroupErrorCancelled))
	}
	fr.cancel(ErrClosed)
	fr.forget()
	var err error
	if !done && fr.sess.ctx.Err() == nil {
		err = fr.sess.writeControl(&wire.FetchCancel{RequestID: fr.id})
	}
	fr.mu.Lock()
	if fr.err == nil {
		fr.err = ErrClosed
	}
	if rs != nil {
		fr.releaseLocked()
	}
	fr.mu.Unlock()
	return err
}

func (s *Session) handleFetchOK(m *wire.FetchOK) error {
	s.mu.Lock()
	fr := s.fetches[m.RequestID]
	s.mu.Unlock()
	if fr == nil {
		return nil // answer to a fetch we gave up on
	}
	select {
	case <-fr.ready:
		return &SessionError{Code: ErrCodeProtocolViolation, Reason: "second FETCH_OK"}
	default:
	}
	end := locationOf(m.End)
	if end.Less(fr.config.Start) && end.Group != fr.config.Start.Group {
		return &SessionError{Code: ErrCodeProtocolViolation, Reason: "FETCH_OK end before the fetch's start"}
	}
	fr.info = FetchInfo{GroupOrder: GroupOrder(m.GroupOrder), EndOfTrack: m.EndOfTrack, End: end}
	close(fr.ready)
	fr.smu.Lock()
	done := fr.done
	if fr.rs == nil && !fr.closing {
		fr.noStream = time.AfterFunc(s.cfg.RequestTimeout, fr.streamTimedOut)
	}
	fr.smu.Unlock()
	if done {
		fr.forget()
	}
	return nil
}

func (s *Session) handleFetchError(m *wire.FetchError) error {
	s.mu.Lock()
	fr := s.fetches[m.RequestID]
	delete(s.fetches, m.RequestID)
	s.mu.Unlock()
	if fr == nil {
		return nil
	}
	select {
	case <-fr.ready:
		return &SessionError{Code: ErrCodeProtocolViolation, Reason: "FETCH_ERROR after FETCH_OK"}
	default:
	}
	fr.setupErr = &FetchError{Code: SubscribeErrorCode(m.ErrorCode), Reason: m.ReasonPhrase}
	close(fr.ready)
	fr.cancel(fr.setupErr)
	return nil
}

// errFetchNoStream ends a fetch whose stream did not arrive in time.
var errFetchNoStream = errors.New("moqt: the fetch's stream did not arrive within Config.RequestTimeout of FETCH_OK (reset before its header got here, or never opened)")

// streamTimedOut ends a fetch whose stream did not arrive within
// Config.RequestTimeout of FETCH_OK, with FETCH_CANCEL: a publisher can
// reset the stream before its header reaches us (over WebTransport a reset
// can overtake the header written just before it; the stream is then not
// known as the fetch's), or never open it, and ReadObject would wait for
// it as long as the session lasts.
func (fr *FetchReader) streamTimedOut() {
	fr.smu.Lock()
	if fr.rs != nil || fr.closing {
		fr.smu.Unlock()
		return
	}
	fr.closing = true // a stream arriving now is refused
	fr.smu.Unlock()
	fr.cancel(errFetchNoStream)
	fr.forget()
	fr.sess.send(&wire.FetchCancel{RequestID: fr.id})
}

// handleFetchStream hands a fetch stream, its type already read from br, to
// its FetchReader. It reports whether the stream was taken.
func (s *Session) handleFetchStream(rs transport.ReceiveStream, br *bufio.Reader) bool {
	id, err := wire.ReadFetchHeader(br, s.version)
	if err != nil {
		return false
	}
	s.mu.Lock()
	fr := s.fetches[id]
	s.mu.Unlock()
	if fr == nil {
		return false
	}
	fr.smu.Lock()
	if fr.rs != nil || fr.closing {
		fr.smu.Unlock()
		return false
	}
	fr.rs = rs
	fr.br = br // read only after arrived is closed
	if fr.noStream != nil {
		fr.noStream.Stop()
	}
	fr.smu.Unlock()
	close(fr.arrived)
	return true
}

package moqt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/moqgo/moqgo/internal/transport"
	"github.com/moqgo/moqgo/internal/wire"
)

// Session is an established MoQT session (draft-14 §3) over raw QUIC or
// WebTransport. It subscribes to the peer's tracks (Subscribe), learns about
// the peer's broadcasts (AcceptAnnounce) and serves the peer's subscriptions
// from its TrackMux.
type Session struct {
	conn     transport.Conn
	cfg      *Config
	log      *slog.Logger
	mux      *TrackMux
	isClient bool
	version  wire.Version

	ctx    context.Context
	cancel context.CancelCauseFunc
	ctrl   transport.Stream
	ctrlR  ctrlReader // reads ctrl

	wmu  sync.Mutex // serializes control stream writes
	wbuf []byte

	mu sync.Mutex
	// outgoing request IDs
	nextReqID    uint64
	peerMaxReqID uint64
	reqIDMore    chan struct{} // closed when peerMaxReqID grows
	blockedSent  uint64        // peerMaxReqID last reported in REQUESTS_BLOCKED, +1
	// incoming request IDs
	expectReqID uint64
	ourMaxReqID uint64

	subs       map[uint64]*TrackReader // our subscriptions by request ID
	aliases    map[uint64]*TrackReader // our subscriptions by track alias
	aliasMore  chan struct{}           // closed when aliases grows
	pendingStr int                     // data streams waiting for an alias
	order      streamOrder             // data streams in opening order (data_order.go)
	pubs       map[uint64]*TrackWriter // the peer's subscriptions by request ID
	nextAlias  uint64

	nsReaders map[uint64]*AnnouncementReader // our SUBSCRIBE_NAMESPACEs
	// The namespace maps below are made on first use (put).
	peerPrefixes map[uint64]wire.Namespace // the peer's SUBSCRIBE_NAMESPACEs
	sentAnn      map[BroadcastPath]bool    // our PUBLISH_NAMESPACEs
	peerAnn      map[BroadcastPath]*Announcement
	peerAnnReq   map[uint64]BroadcastPath // the peer's PUBLISH_NAMESPACE request IDs
	announceAll  bool                     // announce proactively: Config.AnnounceMode or PublishNamespaces
	nsFilter     NamespaceFilter          // SetNamespaceFilter (relay_hooks.go)

	fetches    map[uint64]*FetchReader        // our FETCHes
	fetchPubs  map[uint64]*FetchWriter        // the peer's FETCHes
	statusReqs map[uint64]chan<- wire.Message // our TRACK_STATUS requests

	dgram     datagramState // datagram groups received (datagram_reader.go)
	dgramLoop sync.Once     // starts datagramLoop (startDatagramLoop)
	uniLoop   sync.Once     // starts acceptUniLoop (startUniLoop)

	goaway    chan struct{}
	sched     *scheduler // nil with Config.DisableScheduler
	goawayURI string

	wg sync.WaitGroup
}

func newSession(conn transport.Conn, cfg *Config, log *slog.Logger, mux *TrackMux, isClient bool) *Session {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Session{
		conn:        conn,
		cfg:         cfg,
		log:         log.With("transport", conn.Protocol()),
		mux:         mux,
		isClient:    isClient,
		version:     wire.Draft14,
		reqIDMore:   make(chan struct{}),
		aliasMore:   make(chan struct{}),
		subs:        make(map[uint64]*TrackReader),
		aliases:     make(map[uint64]*TrackReader),
		pubs:        make(map[uint64]*TrackWriter),
		nsReaders:   make(map[uint64]*AnnouncementReader),
		fetches:     make(map[uint64]*FetchReader),
		fetchPubs:   make(map[uint64]*FetchWriter),
		statusReqs:  make(map[uint64]chan<- wire.Message),
		goaway:      make(chan struct{}),
		ourMaxReqID: 2 * cfg.MaxRequests,
	}
	s.ctx, s.cancel = context.WithCancelCause(context.Background())
	if !cfg.DisableScheduler {
		s.sched = newScheduler(s.ctx, cfg)
	}
	s.announceAll = cfg.AnnounceMode.proactive(isClient)
	if isClient {
		s.nextReqID, s.expectReqID = 0, 1
	} else {
		s.nextReqID, s.expectReqID = 1, 0
	}
	return s
}

// start runs the session's loops once setup is complete.
func (s *Session) start() {
	s.mux.observe(s, true)
	if s.announceAll { // Config.AnnounceMode
		for _, a := range s.mux.announcements() {
			s.announceLocal(a)
		}
	}
	s.wg.Add(1)
	go s.controlLoop()
	// The data stream and datagram loops start with the session's first
	// subscription (startUniLoop, startDatagramLoop).
	context.AfterFunc(s.conn.Context(), func() {
		s.closeLocal(s.connError(context.Cause(s.conn.Context())), false)
	})
}

// Context returns a context canceled when the session ends; its cause
// (context.Cause) is a *SessionError.
func (s *Session) Context() context.Context { return s.ctx }

// Err returns why the session ended, or nil while it is open.
func (s *Session) Err() error {
	if s.ctx.Err() == nil {
		return nil
	}
	return context.Cause(s.ctx)
}

// GoAway returns a channel closed when the peer sent GOAWAY: the session
// keeps working, but the application should move to a new session (at
// NewSessionURI if set) and close this one.
func (s *Session) GoAway() <-chan struct{} { return s.goaway }

// NewSessionURI returns the URI carried by the peer's GOAWAY, if any.
func (s *Session) NewSessionURI() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.goawayURI
}

// Protocol reports the transport: "quic" or "webtransport".
func (s *Session) Protocol() string { return s.conn.Protocol() }

// CloseWithError closes the session with a draft-14 termination code and a
// reason.
func (s *Session) CloseWithError(code SessionErrorCode, msg string) error {
	s.closeLocal(&SessionError{Code: code, Reason: msg}, true)
	return nil
}

// Close closes the session with NO_ERROR.
//
// Close (and CloseWithError) does not wait for goroutines to finish. When it
// returns, the session's Context is canceled, the transport is closed with
// the code, and every subscription, FETCH and namespace subscription of the
// session has ended with the session's error, so that reads and writes on
// them fail at once. The session's own loops (control stream, data stream
// acceptance, TRACK_STATUS answers) and the goroutines running handlers
// (ServeTrack, ServeFetch, ServePublish) exit afterwards, on their own; a
// handler returns when it notices its context ended. Close does not wait for
// them because it may be called from any of them, where waiting would
// deadlock, and because a handler may block for as long as it likes.
func (s *Session) Close() error { return s.CloseWithError(ErrCodeNoError, "") }

// closeLocal ends the session with err. If send is set the transport is
// closed with err's code.
func (s *Session) closeLocal(err *SessionError, send bool) {
	s.mu.Lock()
	if s.ctx.Err() != nil {
		s.mu.Unlock()
		return
	}
	s.cancel(err)
	s.mu.Unlock()
	if send {
		if err.Code != ErrCodeNoError {
			s.log.Info("closing session", "code", uint64(err.Code), "reason", err.Reason)
		}
		_ = s.conn.CloseWithError(uint64(err.Code), err.Reason)
	} else if err.Err != nil {
		s.log.Info("session lost", "err", err.Err, "remote", err.Remote)
	}
	s.mux.observe(s, false)
	s.mu.Lock()
	readers := make([]*TrackReader, 0, len(s.subs))
	for _, tr := range s.subs {
		readers = append(readers, tr)
	}
	nsr := make([]*AnnouncementReader, 0, len(s.nsReaders))
	for _, r := range s.nsReaders {
		nsr = append(nsr, r)
	}
	s.mu.Unlock()
	for _, tr := range readers {
		tr.finish(err)
	}
	for _, r := range nsr {
		r.finish(err)
	}
}

// fail closes the session because of a protocol error.
func (s *Session) fail(code SessionErrorCode, format string, args ...any) {
	s.closeLocal(&SessionError{Code: code, Reason: fmt.Sprintf(format, args...)}, true)
}

// failErr closes the session after a failed read or write: a transport close
// is recorded as it is, a codec error closes with its code.
func (s *Session) failErr(err error) {
	var se *SessionError
	if errors.As(err, &se) {
		s.closeLocal(se, !se.Remote)
		return
	}
	var ae *transport.ApplicationError
	if errors.As(err, &ae) || transport.ConnLost(err) {
		s.closeLocal(s.connError(err), false)
		return
	}
	var we *wire.Error
	if errors.As(err, &we) {
		s.fail(SessionErrorCode(we.SessionCode()), "%v", we)
		return
	}
	if errors.Is(err, io.EOF) {
		s.fail(ErrCodeProtocolViolation, "control stream closed")
		return
	}
	if s.ctx.Err() == nil && s.conn.Context().Err() == nil {
		s.fail(ErrCodeInternalError, "%v", err)
		return
	}
	s.closeLocal(s.connError(err), false)
}

// connError is the SessionError of a session whose connection ended under
// it with err (a read's error, or the connection's cause): the application
// close it carries, the peer's where the transport's own close hid it;
// else the transport failure itself.
func (s *Session) connError(err error) *SessionError {
	var ae *transport.ApplicationError
	if !errors.As(err, &ae) || !ae.Remote {
		if peer := s.conn.CloseError(); peer != nil && (ae == nil || peer.Remote) {
			ae = peer
		}
	}
	if ae != nil {
		return &SessionError{Code: SessionErrorCode(ae.Code), Reason: ae.Reason, Remote: ae.Remote}
	}
	if err == nil || errors.Is(err, context.Canceled) {
		err = errors.New("connection closed")
	}
	return &SessionError{Err: err, Remote: transport.RemoteFailure(err)}
}

// sessionErr returns the session's end error.
func (s *Session) sessionErr() error {
	if err := context.Cause(s.ctx); err != nil {
		return err
	}
	return ErrClosed
}

// writeControl sends m on the control stream.
func (s *Session) writeControl(m wire.Message) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	return s.writeLocked(m)
}

// writeLocked sends m; s.wmu is held.
func (s *Session) writeLocked(m wire.Message) error {
	var err error
	s.wbuf, err = wire.AppendMessage(s.wbuf[:0], m, s.version)
	if err != nil {
		return err
	}
	if _, err = s.ctrl.Write(s.wbuf); err != nil {
		s.failErr(err)
		return s.sessionErr()
	}
	return nil
}

// send writes m and logs a failure; for replies whose loss ends the session
// anyway.
func (s *Session) send(m wire.Message) {
	if err := s.writeControl(m); err != nil {
		s.log.Debug("control write failed", "type", m.Type(), "err", err)
	}
}

// ctrlReader reads the control stream without a buffer. Control messages
// are few and small: a read buffer would cost every session its bytes for
// as long as it lives (a relay holds one session per subscriber, most of
// them idle), while reading unbuffered costs three or four stream reads
// per message. ReadByte serves the varints of the message header.
type ctrlReader struct {
	r io.Reader
	b [1]byte
}

func (c *ctrlReader) Read(p []byte) (int, error) { return c.r.Read(p) }

func (c *ctrlReader) ReadByte() (byte, error) {
	_, err := io.ReadFull(c.r, c.b[:])
	return c.b[0], err
}

// controlLoop reads and dispatches control messages.
func (s *Session) controlLoop() {
	defer s.wg.Done()
	var buf []byte
	for {
		var m wire.Message
		var err error
		m, buf, err = wire.ReadMessage(&s.ctrlR, s.version, buf)
		if err != nil {
			s.failErr(err)
			return
		}
		if err := s.handleControl(m); err != nil {
			s.failErr(err)
			return
		}
	}
}

// sendRequest allocates the next request ID, waiting for MAX_REQUEST_ID
// credit, and sends the message build returns for it. IDs reach the wire in
// order because allocation and write happen under the write lock. build may
// register state for the ID before the message is sent. The message is
// encoded before the ID is consumed: if it cannot be encoded (bad input,
// such as an empty namespace), the ID is left for the next request, so the
// peer never sees a gap in the IDs, and the error is returned; the caller
// must then drop the state build registered.
func (s *Session) sendRequest(ctx context.Context, build func(id uint64) wire.Message) (uint64, error) {
	for {
		s.wmu.Lock()
		s.mu.Lock()
		if err := s.ctx.Err(); err != nil {
			s.mu.Unlock()
			s.wmu.Unlock()
			return 0, s.sessionErr()
		}
		if s.nextReqID < s.peerMaxReqID {
			id := s.nextReqID
			s.mu.Unlock()
			m := build(id)
			if bringsData(m) { // before the request: the data may beat its answer
				s.startDatagramLoop()
				s.startUniLoop()
			}
			var err error
			if s.wbuf, err = wire.AppendMessage(s.wbuf[:0], m, s.version); err != nil {
				s.wmu.Unlock()
				return id, &requestNotSentError{typ: m.Type(), err: err}
			}
			s.mu.Lock()
			s.nextReqID += 2
			s.mu.Unlock()
			if _, err = s.ctrl.Write(s.wbuf); err != nil {
				s.failErr(err)
				err = s.sessionErr()
			}
			s.wmu.Unlock()
			return id, err
		}
		more := s.reqIDMore
		sendBlocked := s.blockedSent != s.peerMaxReqID+1
		s.blockedSent = s.peerMaxReqID + 1
		max := s.peerMaxReqID
		s.mu.Unlock()
		var err error
		if sendBlocked {
			err = s.writeLocked(&wire.RequestsBlocked{MaxRequestID: max})
		}
		s.wmu.Unlock()
		if err != nil {
			return 0, err
		}
		select {
		case <-more:
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-s.ctx.Done():
			return 0, s.sessionErr()
		}
	}
}

// requestNotSentError is sendRequest's error for a request that could not be
// encoded: nothing reached the peer, so the caller drops the state its build
// function registered without telling the peer anything.
type requestNotSentError struct {
	typ wire.MessageType
	err error
}

func (e *requestNotSentError) Error() string {
	return fmt.Sprintf("moqt: cannot send %v: %v", e.typ, e.err)
}

func (e *requestNotSentError) Unwrap() error { return e.err }

// acceptRequestID validates the Request ID of an incoming request.
func (s *Session) acceptRequestID(id uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id != s.expectReqID {
		return &SessionError{Code: ErrCodeInvalidRequestID, Reason: fmt.Sprintf("request ID %d, expected %d", id, s.expectReqID)}
	}
	if id >= s.ourMaxReqID {
		return &SessionError{Code: ErrCodeTooManyRequests, Reason: fmt.Sprintf("request ID %d exceeds maximum %d", id, s.ourMaxReqID)}
	}
	s.expectReqID += 2
	return nil
}

// releaseRequest grants the peer one more request after one of its requests
// ended. The new maximum is computed and sent under the write lock, so that
// concurrent releases reach the wire in increasing order (a decrease is a
// protocol violation). A session that ended grants nothing.
func (s *Session) releaseRequest() {
	if s.ctx.Err() != nil {
		return
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.mu.Lock()
	s.ourMaxReqID += 2
	max := s.ourMaxReqID
	s.mu.Unlock()
	if err := s.writeLocked(&wire.MaxRequestID{RequestID: max}); err != nil {
		s.log.Debug("control write failed", "type", wire.TypeMaxRequestID, "err", err)
	}
}

// requestTimeout returns a context bounding a request.
func (s *Session) requestContext() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.RequestTimeout)
	return ctx, cancel
}

func (s *Session) handleControl(m wire.Message) error {
	if err := s.checkAnswer(m); err != nil { // answer_id.go
		return err
	}
	switch m := m.(type) {
	case *wire.Subscribe:
		return s.handleSubscribe(m)
	case *wire.SubscribeOK:
		return s.handleSubscribeOK(m)
	case *wire.SubscribeError:
		return s.handleSubscribeError(m)
	case *wire.SubscribeUpdate:
		return s.handleSubscribeUpdate(m)
	case *wire.Unsubscribe:
		return s.handleUnsubscribe(m)
	case *wire.PublishDone:
		return s.handlePublishDone(m)
	case *wire.MaxRequestID:
		s.mu.Lock()
		if m.RequestID < s.peerMaxReqID {
			s.mu.Unlock()
			return &SessionError{Code: ErrCodeProtocolViolation, Reason: "MAX_REQUEST_ID decreased"}
		}
		if m.RequestID > s.peerMaxReqID {
			s.peerMaxReqID = m.RequestID
			close(s.reqIDMore)
			s.reqIDMore = make(chan struct{})
		}
		s.mu.Unlock()
	case *wire.RequestsBlocked:
		s.log.Debug("peer is blocked on request IDs", "max", m.MaxRequestID)
	case *wire.Goaway:
		s.mu.Lock()
		select {
		case <-s.goaway:
			s.mu.Unlock()
			return &SessionError{Code: ErrCodeProtocolViolation, Reason: "second GOAWAY"}
		default:
		}
		s.goawayURI = m.NewSessionURI
		close(s.goaway)
		s.mu.Unlock()
	case *wire.ClientSetup, *wire.ServerSetup:
		return &SessionError{Code: ErrCodeProtocolViolation, Reason: "setup message after setup"}
	default:
		return s.handleOtherControl(m)
	}
	return nil
}

// handleOtherControl handles FETCH, TRACK_STATUS and PUBLISH and their
// answers, and the messages of namespace discovery.
func (s *Session) handleOtherControl(m wire.Message) error {
	switch m := m.(type) {
	case *wire.Fetch:
		return s.handleFetch(m)
	case *wire.FetchOK:
		return s.handleFetchOK(m)
	case *wire.FetchError:
		return s.handleFetchError(m)
	case *wire.FetchCancel:
		return s.handleFetchCancel(m)
	case *wire.TrackStatus:
		return s.handleTrackStatus(m)
	case *wire.TrackStatusOK:
		s.answerTrackStatus(m.RequestID, m)
	case *wire.TrackStatusError:
		s.answerTrackStatus(m.RequestID, m)
	case *wire.Publish:
		return s.handlePublish(m)
	case *wire.PublishOK:
		return s.handlePublishOK(m)
	case *wire.PublishError:
		return s.handlePublishError(m)
	default:
		return s.handleNamespaceControl(m)
	}
	return nil
}

// startUniLoop starts the session's data stream loop (acceptUniLoop)
// once: when the session first sends a SUBSCRIBE or FETCH, or accepts a
// PUBLISH. Data streams only carry objects of the session's own
// subscriptions and FETCHes, so until then the loop has nothing to deliver,
// and a session that only serves subscribers (most of a relay's) saves its
// goroutine and stack, a quarter of what such an idle session costs above
// its QUIC connection. The trade-off: streams a peer opens before that wait
// in quic-go, within the stream limit it granted (MaxIncomingUniStreams)
// and their flow-control windows, so a malformed one is only noticed once
// the loop runs.
func (s *Session) startUniLoop() {
	s.uniLoop.Do(func() {
		s.wg.Add(1)
		go s.acceptUniLoop()
	})
}

// bringsData reports whether request m is answered with data: a
// SUBSCRIBE's objects (on streams or datagrams), a FETCH's response stream.
// The session's data loops start with the first such request.
func bringsData(m wire.Message) bool {
	switch m.(type) {
	case *wire.Subscribe, *wire.Fetch:
		return true
	}
	return false
}

// acceptUniLoop accepts data streams.
func (s *Session) acceptUniLoop() {
	defer s.wg.Done()
	var hs sliceReader // parses stream headers already received
	for {
		rs, err := s.conn.AcceptUniStream(s.ctx)
		if err != nil {
			return
		}
		s.acceptDataStream(rs, &hs) // data_stream.go
	}
}

// waitAlias returns the subscription with track alias alias, waiting a
// bounded time for its SUBSCRIBE_OK.
func (s *Session) waitAlias(alias uint64) *TrackReader {
	s.mu.Lock()
	if tr := s.aliases[alias]; tr != nil {
		s.mu.Unlock()
		return tr
	}
	if s.pendingStr >= s.cfg.MaxPendingStreams {
		s.mu.Unlock()
		return nil
	}
	s.pendingStr++
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.pendingStr--
		s.mu.Unlock()
	}()
	t := time.NewTimer(s.cfg.PendingStreamTimeout)
	defer t.Stop()
	for {
		s.mu.Lock()
		tr := s.aliases[alias]
		more := s.aliasMore
		s.mu.Unlock()
		if tr != nil {
			return tr
		}
		select {
		case <-more:
		case <-t.C:
			return nil
		case <-s.ctx.Done():
			return nil
		}
	}
}

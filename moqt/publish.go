package moqt

import (
	"context"
	"errors"

	"github.com/moqgo/moqgo/internal/wire"
)

// PublishHandler serves tracks the peer pushes with PUBLISH: ServePublish is
// called, in its own goroutine, once per accepted PUBLISH for a track under
// the handler's broadcast path, with the subscriber's side of the new
// subscription. It reads groups from the TrackReader and should return when
// done (a TrackReader left open is closed, with UNSUBSCRIBE, when
// ServePublish returns).
type PublishHandler interface {
	ServePublish(*TrackReader)
}

// PublishAcceptor is an optional interface of a PublishHandler: it decides
// whether to take a PUBLISH before the session answers it. AcceptPublish
// runs on the session's control goroutine, so it must not block; a non-nil
// error refuses the PUBLISH with PUBLISH_ERROR, and ServePublish is not
// called. A *SubscribeError sends its code and reason (for instance
// SubscribeErrorNotSupported); any other error is UNAUTHORIZED with the
// error's text as the reason. A handler that refuses from ServePublish
// instead (by returning or with TrackReader.CloseWithError) refuses after
// the peer already got PUBLISH_OK: the peer sees PUBLISH_DONE or an
// UNSUBSCRIBE, not PUBLISH_ERROR.
type PublishAcceptor interface {
	AcceptPublish(s *Session, path BroadcastPath, name TrackName) error
}

// PublishHandlerFunc adapts a function to a PublishHandler.
type PublishHandlerFunc func(*TrackReader)

// ServePublish calls f(tr).
func (f PublishHandlerFunc) ServePublish(tr *TrackReader) { f(tr) }

// HandlePublish accepts the peer's PUBLISH of tracks under path (the
// longest registered prefix wins) and hands them to h; a nil h removes the
// registration. A PUBLISH no handler matches is refused with PUBLISH_ERROR
// (UNINTERESTED).
func (m *TrackMux) HandlePublish(path BroadcastPath, h PublishHandler) {
	path = cleanPath(path)
	m.mu.Lock()
	defer m.mu.Unlock()
	if h == nil {
		delete(m.publishers, path)
		return
	}
	if m.publishers == nil {
		m.publishers = make(map[BroadcastPath]PublishHandler)
	}
	m.publishers[path] = h
}

// HandlePublishFunc is HandlePublish with a function.
func (m *TrackMux) HandlePublishFunc(path BroadcastPath, f func(*TrackReader)) {
	m.HandlePublish(path, PublishHandlerFunc(f))
}

// publishHandler returns the PublishHandler of the longest registered prefix
// of path.
func (m *TrackMux) publishHandler(path BroadcastPath) PublishHandler {
	if m == nil {
		return nil
	}
	ns := path.namespace()
	m.mu.Lock()
	defer m.mu.Unlock()
	var best PublishHandler
	bestLen := -1
	for p, h := range m.publishers {
		if pns := p.namespace(); len(pns) > bestLen && ns.HasPrefix(pns) {
			best, bestLen = h, len(pns)
		}
	}
	return best
}

// Publish pushes a track to the peer (PUBLISH, draft-14 §9.13) and waits for
// its answer: on PUBLISH_OK it returns the TrackWriter of the new
// subscription, configured as the peer asked; PUBLISH_ERROR is a
// *SubscribeError. info (nil for none) is what the PUBLISH says about the
// track: its group order and largest location. ctx bounds the wait, as does
// Config.RequestTimeout. The TrackWriter is used as one a TrackHandler gets;
// Close sends PUBLISH_DONE.
func (s *Session) Publish(ctx context.Context, path BroadcastPath, name TrackName, info *Info) (*TrackWriter, error) {
	var inf Info
	if info != nil {
		inf = *info
	}
	inf.GroupOrder = resolveOrder(inf.GroupOrder)
	path = cleanPath(path)
	rctx, cancel := s.requestContext()
	defer cancel()
	stop := context.AfterFunc(ctx, cancel)
	defer stop()
	var tw *TrackWriter
	_, err := s.sendRequest(rctx, func(id uint64) wire.Message {
		s.mu.Lock()
		s.nextAlias++
		tw = &TrackWriter{
			BroadcastPath: path,
			TrackName:     name,
			sess:          s,
			id:            id,
			alias:         s.nextAlias,
			infoSent:      true,
			info:          inf,
			outgoing:      true,
			ready:         make(chan struct{}),
			updated:       make(chan struct{}, 1),
			groups:        make(map[*GroupWriter]struct{}),
		}
		tw.ctx, tw.cancel = context.WithCancelCause(s.ctx)
		context.AfterFunc(tw.ctx, tw.abortGroups)
		s.pubs[id] = tw
		s.mu.Unlock()
		return &wire.Publish{
			RequestID:      id,
			TrackNamespace: path.namespace(),
			TrackName:      string(name),
			TrackAlias:     tw.alias,
			GroupOrder:     wire.GroupOrder(inf.GroupOrder),
			ContentExists:  inf.ContentExists,
			Largest:        wire.Location{Group: uint64(inf.LatestGroup), Object: inf.LatestObject},
		}
	})
	if err == nil {
		select {
		case <-tw.ready:
			if tw.setupErr != nil {
				return nil, tw.setupErr
			}
			return tw, nil
		case <-rctx.Done():
			err = s.ctxErr(rctx)
		}
	}
	var notSent *requestNotSentError
	switch {
	case errors.As(err, &notSent):
		// The PUBLISH never reached the peer: forget it without a
		// PUBLISH_DONE for a request ID the peer has not seen.
		s.mu.Lock()
		if s.pubs[tw.id] == tw {
			delete(s.pubs, tw.id)
		}
		s.mu.Unlock()
		tw.cancel(err)
		return nil, err
	case tw != nil:
		tw.CloseWithError(DoneInternalError)
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return nil, err
}

func (s *Session) outgoingPublish(id uint64) *TrackWriter {
	s.mu.Lock()
	defer s.mu.Unlock()
	if tw := s.pubs[id]; tw != nil && tw.outgoing {
		return tw
	}
	return nil
}

func (s *Session) handlePublishOK(m *wire.PublishOK) error {
	tw := s.outgoingPublish(m.RequestID)
	if tw == nil {
		return nil // answer to a PUBLISH we gave up on
	}
	tw.mu.Lock()
	defer tw.mu.Unlock()
	select {
	case <-tw.ready:
		return &SessionError{Code: ErrCodeProtocolViolation, Reason: "second PUBLISH_OK"}
	default:
	}
	tw.config = configFromWire(m.SubscriberPriority, m.GroupOrder, m.Forward, m.FilterType, m.Start, m.EndGroup, m.Params)
	tw.joinFilter = tw.config.Filter
	tw.start = subscriptionStart(&tw.config, tw.info)
	tw.pause.Store(tw.config.Paused)
	close(tw.ready)
	return nil
}

func (s *Session) handlePublishError(m *wire.PublishError) error {
	tw := s.outgoingPublish(m.RequestID)
	if tw == nil {
		return nil
	}
	s.mu.Lock()
	delete(s.pubs, m.RequestID)
	s.mu.Unlock()
	tw.mu.Lock()
	defer tw.mu.Unlock()
	select {
	case <-tw.ready:
		return &SessionError{Code: ErrCodeProtocolViolation, Reason: "PUBLISH_ERROR after PUBLISH_OK"}
	default:
	}
	tw.setupErr = &SubscribeError{Code: SubscribeErrorCode(m.ErrorCode), Reason: m.ReasonPhrase}
	tw.closed = true
	close(tw.ready)
	tw.cancel(tw.setupErr)
	return nil
}

// handlePublish accepts the peer's PUBLISH if the session's namespace
// filter allows it (SetNamespaceFilter, publish set), the TrackMux has a
// PublishHandler for it and that handler, if a PublishAcceptor, accepts it.
func (s *Session) handlePublish(m *wire.Publish) error {
	if err := s.acceptRequestID(m.RequestID); err != nil {
		return err
	}
	path, name := pathOf(m.TrackNamespace), TrackName(m.TrackName)
	refuse := func(code uint64, reason string) error {
		s.send(&wire.PublishError{RequestID: m.RequestID, ErrorCode: code, ReasonPhrase: reason})
		s.releaseRequest()
		return nil
	}
	s.mu.Lock()
	filter := s.nsFilter
	s.mu.Unlock()
	if filter != nil {
		if err := filter(path, true); err != nil {
			return refuse(wire.ReqErrUnauthorized, err.Error())
		}
	}
	h := s.mux.publishHandler(path)
	if h == nil {
		return refuse(wire.ReqErrUninterested, "no handler for this track")
	}
	if a, ok := h.(PublishAcceptor); ok {
		if err := a.AcceptPublish(s, path, name); err != nil {
			var se *SubscribeError
			if errors.As(err, &se) {
				return refuse(uint64(se.Code), se.Reason)
			}
			return refuse(wire.ReqErrUnauthorized, err.Error())
		}
	}
	cfg := TrackConfig{GroupOrder: GroupOrder(m.GroupOrder)}
	tr := newTrackReader(s, m.RequestID, path, name, cfg)
	tr.incoming = true
	tr.alias = m.TrackAlias
	tr.info = Info{
		GroupOrder:    GroupOrder(m.GroupOrder),
		ContentExists: m.ContentExists,
		LatestGroup:   GroupSequence(m.Largest.Group),
		LatestObject:  m.Largest.Object,
	}
	tr.start = subscriptionStart(&cfg, tr.info)
	if d, ok := m.Params.DeliveryTimeout(); ok {
		tr.config.DeliveryTimeout = d
	}
	close(tr.ready)
	s.mu.Lock()
	if s.aliases[m.TrackAlias] != nil {
		s.mu.Unlock()
		return &SessionError{Code: ErrCodeDuplicateTrackAlias, Reason: "PUBLISH reuses an active track alias"}
	}
	s.subs[m.RequestID] = tr
	s.aliases[m.TrackAlias] = tr
	close(s.aliasMore)
	s.aliasMore = make(chan struct{})
	s.mu.Unlock()
	s.startDatagramLoop()
	s.startUniLoop()
	s.send(&wire.PublishOK{
		RequestID:  m.RequestID,
		Forward:    true,
		GroupOrder: m.GroupOrder,
		FilterType: wire.FilterLatestObject,
	})
	go func() {
		defer tr.Close()
		h.ServePublish(tr)
	}()
	return nil
}

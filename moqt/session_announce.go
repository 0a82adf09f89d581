package moqt

import (
	"context"
	"fmt"

	"github.com/moqgo/moqgo/internal/wire"
)

// AcceptAnnounce subscribes to the peer's announcements under prefix
// (SUBSCRIBE_NAMESPACE) and returns a reader yielding them. The prefix must
// have 1 to 32 segments (draft-14 §9.28): the empty prefix or "/" is an
// error, sent nothing, and leaves the session as it was.
func (s *Session) AcceptAnnounce(prefix BroadcastPath) (*AnnouncementReader, error) {
	prefix = cleanPath(prefix)
	if n := len(prefix.namespace()); n == 0 || n > maxNamespaceFields {
		return nil, fmt.Errorf("moqt: AcceptAnnounce prefix %q has %d segments; draft-14 §9.28 allows 1 to %d", prefix, n, maxNamespaceFields)
	}
	ctx, cancel := s.requestContext()
	defer cancel()
	var r *AnnouncementReader
	ready := make(chan struct{})
	id, err := s.sendRequest(ctx, func(id uint64) wire.Message {
		r = newAnnouncementReader(s, prefix, id)
		r.ready = ready
		s.mu.Lock()
		s.nsReaders[id] = r
		s.mu.Unlock()
		return &wire.SubscribeNamespace{RequestID: id, NamespacePrefix: prefix.namespace()}
	})
	if err != nil {
		if r != nil {
			s.dropNamespaceReader(r.reqID)
		}
		return nil, err
	}
	select {
	case <-ready:
	case <-ctx.Done():
		s.dropNamespaceReader(id)
		return nil, s.ctxErr(ctx)
	}
	if r.setupErr != nil {
		s.dropNamespaceReader(id)
		return nil, r.setupErr
	}
	return r, nil
}

// AnnounceMode says when a session announces the publications of its
// TrackMux to the peer with PUBLISH_NAMESPACE (Config.AnnounceMode).
type AnnounceMode int

const (
	// AnnounceDefault is AnnounceProactive for a client session and
	// AnnounceOnRequest for a server session: a publisher that dials a
	// relay announces what it publishes so the relay can route
	// subscriptions to it, while a server with many publications does not
	// flood every client that connects.
	AnnounceDefault AnnounceMode = iota
	// AnnounceProactive announces every active publication when the
	// session starts and each new one as it is added, without waiting for
	// SUBSCRIBE_NAMESPACE (draft-14 §6: SUBSCRIBE_NAMESPACE is not
	// required for a publisher to send PUBLISH_NAMESPACE). Each
	// announcement holds one of the peer's Request IDs (Config.MaxRequests
	// on the peer) until it ends.
	AnnounceProactive
	// AnnounceOnRequest announces only the publications under a prefix
	// the peer subscribed to with SUBSCRIBE_NAMESPACE.
	AnnounceOnRequest
)

// proactive reports whether a session with mode announces proactively.
func (m AnnounceMode) proactive(isClient bool) bool {
	return m == AnnounceProactive || (m == AnnounceDefault && isClient)
}

// maxNamespaceFields is the most fields a Track Namespace may have
// (draft-14 §2.4.1).
const maxNamespaceFields = 32

// ctxErr reports the session error if the session ended, else ctx's error.
func (s *Session) ctxErr(ctx context.Context) error {
	if s.ctx.Err() != nil {
		return s.sessionErr()
	}
	return ctx.Err()
}

func (s *Session) dropNamespaceReader(id uint64) {
	s.mu.Lock()
	delete(s.nsReaders, id)
	s.mu.Unlock()
}

func (s *Session) unsubscribeNamespace(r *AnnouncementReader) error {
	s.mu.Lock()
	_, ok := s.nsReaders[r.reqID]
	delete(s.nsReaders, r.reqID)
	s.mu.Unlock()
	if !ok || s.ctx.Err() != nil {
		return nil
	}
	return s.writeControl(&wire.UnsubscribeNamespace{NamespacePrefix: r.Prefix.namespace()})
}

// announceLocal is called by the TrackMux when a new announcement is made:
// it is sent to the peer if the peer subscribed to a matching prefix.
func (s *Session) announceLocal(a *Announcement) {
	ns := a.BroadcastPath.namespace()
	s.mu.Lock()
	match := s.announceAll
	for _, p := range s.peerPrefixes {
		if ns.HasPrefix(p) {
			match = true
			break
		}
	}
	if !match || s.sentAnn[a.BroadcastPath] || s.ctx.Err() != nil {
		s.mu.Unlock()
		return
	}
	put(&s.sentAnn, a.BroadcastPath, true)
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.publishNamespace(a)
	}()
}

// publishNamespace sends PUBLISH_NAMESPACE for a and PUBLISH_NAMESPACE_DONE
// when it ends.
func (s *Session) publishNamespace(a *Announcement) {
	_, err := s.sendRequest(s.ctx, func(id uint64) wire.Message {
		return &wire.PublishNamespace{RequestID: id, TrackNamespace: a.BroadcastPath.namespace()}
	})
	if err != nil {
		return
	}
	select {
	case <-a.Done():
		s.mu.Lock()
		sent := s.sentAnn[a.BroadcastPath]
		delete(s.sentAnn, a.BroadcastPath)
		s.mu.Unlock()
		if sent {
			s.send(&wire.PublishNamespaceDone{TrackNamespace: a.BroadcastPath.namespace()})
		}
	case <-s.ctx.Done():
	}
}

func (s *Session) handleNamespaceControl(m wire.Message) error {
	switch m := m.(type) {
	case *wire.SubscribeNamespace:
		if err := s.acceptRequestID(m.RequestID); err != nil {
			return err
		}
		if s.refuseNamespace(m.RequestID, pathOf(m.NamespacePrefix), false) {
			return nil
		}
		s.mu.Lock()
		for _, p := range s.peerPrefixes {
			if p.HasPrefix(m.NamespacePrefix) || m.NamespacePrefix.HasPrefix(p) {
				s.mu.Unlock()
				s.send(&wire.SubscribeNamespaceError{RequestID: m.RequestID, ErrorCode: wire.ReqErrNamespacePrefixOverlap, ReasonPhrase: "overlapping prefix"})
				s.releaseRequest()
				return nil
			}
		}
		put(&s.peerPrefixes, m.RequestID, m.NamespacePrefix)
		s.mu.Unlock()
		s.send(&wire.SubscribeNamespaceOK{RequestID: m.RequestID})
		for _, a := range s.mux.announcements() {
			s.announceLocal(a)
		}
	case *wire.UnsubscribeNamespace:
		s.mu.Lock()
		for id, p := range s.peerPrefixes {
			if p.Equal(m.NamespacePrefix) {
				delete(s.peerPrefixes, id)
				s.mu.Unlock()
				s.releaseRequest()
				return nil
			}
		}
		s.mu.Unlock()
	case *wire.SubscribeNamespaceOK:
		s.namespaceReply(m.RequestID, nil)
	case *wire.SubscribeNamespaceError:
		s.namespaceReply(m.RequestID, &SubscribeError{Code: SubscribeErrorCode(m.ErrorCode), Reason: m.ReasonPhrase})
	case *wire.PublishNamespace:
		if err := s.acceptRequestID(m.RequestID); err != nil {
			return err
		}
		if s.refuseNamespace(m.RequestID, pathOf(m.TrackNamespace), true) {
			return nil
		}
		path := pathOf(m.TrackNamespace)
		a, _ := NewAnnouncement(s.ctx, path)
		s.mu.Lock()
		old := s.peerAnn[path]
		if old != nil {
			// The new announcement replaces the old one, which ends
			// here: its Request ID is released now, as its
			// PUBLISH_NAMESPACE_DONE will never come.
			old.End()
			for id, p := range s.peerAnnReq {
				if p == path {
					delete(s.peerAnnReq, id)
				}
			}
		}
		put(&s.peerAnn, path, a)
		put(&s.peerAnnReq, m.RequestID, path)
		var readers []*AnnouncementReader
		for _, r := range s.nsReaders {
			if r.ready == nil && m.TrackNamespace.HasPrefix(r.Prefix.namespace()) {
				readers = append(readers, r)
			}
		}
		s.mu.Unlock()
		if old != nil {
			s.releaseRequest()
		}
		s.send(&wire.PublishNamespaceOK{RequestID: m.RequestID})
		for _, r := range readers {
			r.push(a)
		}
	case *wire.PublishNamespaceDone:
		path := pathOf(m.TrackNamespace)
		s.mu.Lock()
		a := s.peerAnn[path]
		delete(s.peerAnn, path)
		for id, p := range s.peerAnnReq {
			if p == path {
				delete(s.peerAnnReq, id)
			}
		}
		s.mu.Unlock()
		if a != nil {
			a.End()
			s.releaseRequest()
		}
	case *wire.PublishNamespaceCancel:
		path := pathOf(m.TrackNamespace)
		s.mu.Lock()
		delete(s.sentAnn, path)
		s.mu.Unlock()
	case *wire.PublishNamespaceOK:
	case *wire.PublishNamespaceError:
		s.log.Info("peer refused announcement", "code", m.ErrorCode, "reason", m.ReasonPhrase)
	default:
		return &SessionError{Code: ErrCodeProtocolViolation, Reason: "unexpected " + m.Type().String()}
	}
	return nil
}

func (s *Session) namespaceReply(id uint64, err error) {
	s.mu.Lock()
	r := s.nsReaders[id]
	if r == nil || r.ready == nil {
		s.mu.Unlock()
		return
	}
	r.setupErr = err
	ready := r.ready
	r.ready = nil
	if err == nil {
		// Announcements received before the reply are delivered too.
		for path, a := range s.peerAnn {
			if path.namespace().HasPrefix(r.Prefix.namespace()) {
				r.push(a)
			}
		}
	}
	s.mu.Unlock()
	close(ready)
}

// put sets m[k] = v, making m first: the namespace maps of a session are
// made on first use, as most sessions (a relay's subscribers) never use
// them.
func put[K comparable, V any](m *map[K]V, k K, v V) {
	if *m == nil {
		*m = make(map[K]V)
	}
	(*m)[k] = v
}

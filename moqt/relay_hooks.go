package moqt

import (
	"github.com/moqgo/moqgo/internal/wire"
)

// HandleUnannounced sets the handler for subscriptions whose path matches no
// active publication of the mux; nil, the default, refuses them with
// TRACK_DOES_NOT_EXIST. A relay uses it to hold a subscription that arrives
// before its publisher, or to refuse it with its own error.
func (m *TrackMux) HandleUnannounced(h TrackHandler) {
	m.mu.Lock()
	m.unannounced = h
	m.mu.Unlock()
}

// Session returns the session the subscription arrived on.
func (tw *TrackWriter) Session() *Session { return tw.sess }

// Session returns the session the FETCH arrived on.
func (fw *FetchWriter) Session() *Session { return fw.sess }

// AfterSent arranges for f to be called once, when the group's stream has
// been handed to the transport in full, its end included, after Close
// (f gets nil), or was reset instead (f gets why: a *GroupError with the
// reset's code, or the session's end). The priority scheduler may hold a
// closed group's objects (see Priorities in the package docs): a relay
// that counts a subscriber's backlog in groups learns here when a group
// stops counting, without a goroutine waiting for it; CancelWrite after
// Close drops what is still held. f runs on a goroutine of the session
// (so it must not block), or, if the stream is done already, before
// AfterSent returns. A group written straight to the transport
// (Config.DisableScheduler, datagrams) calls f at once with nil. Call it
// at most once per group.
func (gw *GroupWriter) AfterSent(f func(error)) {
	if gw.st != &gw.ss {
		f(nil)
		return
	}
	gw.ss.afterSent(func(err error) {
		if err != nil {
			err = gw.writeErr(err)
		}
		f(err)
	})
}

// Unsent reports whether nothing of the group's stream has been handed to
// the transport yet: whatever was written waits in the priority scheduler.
// A relay that must abandon one of a subscriber's groups prefers one with
// nothing sent, which wastes no bytes on the wire and leaves the group in
// progress whole. It reports false where it cannot tell (Config.
// DisableScheduler, datagrams).
func (gw *GroupWriter) Unsent() bool {
	return gw.st == &gw.ss && gw.ss.unsent()
}

// allAnnouncementsID keys the local reader of HandlePeerAnnouncements among the
// session's namespace subscriptions; it is never a valid Request ID.
const allAnnouncementsID = ^uint64(0)

// PublishNamespaces announces every publication of the session's TrackMux
// to the peer (PUBLISH_NAMESPACE), now and as they are added, without
// waiting for the peer to subscribe to a namespace prefix: it switches a
// session to AnnounceProactive after the fact. A client session needs no
// call, since it announces proactively by default (Config.AnnounceMode);
// a server session that should announce to its clients can call it, or
// set AnnounceProactive in its Config.
func (s *Session) PublishNamespaces() {
	s.mu.Lock()
	s.announceAll = true
	s.mu.Unlock()
	for _, a := range s.mux.announcements() {
		s.announceLocal(a)
	}
}

// HandlePeerAnnouncements calls f with every announcement the peer makes
// on its own (PUBLISH_NAMESPACE), including those made before the call,
// without sending SUBSCRIBE_NAMESPACE and without a goroutine per session:
// a relay uses it to learn what its publishers publish. f runs on the
// session's control goroutine (for those already made, on the caller's), so
// it must not block and must be safe for concurrent use; watch each
// announcement's Done channel to learn when it ends. Only the first call
// on a session has an effect.
func (s *Session) HandlePeerAnnouncements(f func(*Announcement)) {
	r := newAnnouncementReader(s, "/", allAnnouncementsID)
	r.handle = f
	s.mu.Lock()
	if s.nsReaders[allAnnouncementsID] != nil || s.ctx.Err() != nil {
		s.mu.Unlock()
		return
	}
	s.nsReaders[allAnnouncementsID] = r
	existing := make([]*Announcement, 0, len(s.peerAnn))
	for _, a := range s.peerAnn {
		existing = append(existing, a)
	}
	s.mu.Unlock()
	for _, a := range existing {
		f(a)
	}
}

// NamespaceFilter decides whether the peer may announce a broadcast path
// or push a track under it (publish set: PUBLISH_NAMESPACE, PUBLISH, the
// latter refused before PUBLISH_OK) or subscribe to the announcements under
// a prefix (SUBSCRIBE_NAMESPACE) or ask about a track under path
// (TRACK_STATUS, publish unset). A non-nil error refuses the request with
// UNAUTHORIZED and the error's text as the reason.
type NamespaceFilter func(path BroadcastPath, publish bool) error

// SetNamespaceFilter installs f for the peer's namespace requests from now
// on; nil accepts them all (the default).
func (s *Session) SetNamespaceFilter(f NamespaceFilter) {
	s.mu.Lock()
	s.nsFilter = f
	s.mu.Unlock()
}

// refuseNamespace applies the namespace filter to request id, answering
// it with an error and reporting true if refused.
func (s *Session) refuseNamespace(id uint64, path BroadcastPath, publish bool) bool {
	s.mu.Lock()
	f := s.nsFilter
	s.mu.Unlock()
	if f == nil {
		return false
	}
	err := f(path, publish)
	if err == nil {
		return false
	}
	if publish {
		s.send(&wire.PublishNamespaceError{RequestID: id, ErrorCode: wire.ReqErrUnauthorized, ReasonPhrase: err.Error()})
	} else {
		s.send(&wire.SubscribeNamespaceError{RequestID: id, ErrorCode: wire.ReqErrUnauthorized, ReasonPhrase: err.Error()})
	}
	s.releaseRequest()
	return true
}

// Session returns the session the subscription belongs to.
func (tr *TrackReader) Session() *Session { return tr.sess }

// AcceptSession is w.Accept(mux), calling configure with the session
// before it starts: a SetupHandler sets the session up (SetNamespaceFilter,
// HandlePeerAnnouncements, its own bookkeeping) before the peer's first
// request is handled.
func AcceptSession(w SetupResponseWriter, mux *TrackMux, configure func(*Session)) (*Session, error) {
	if sr, ok := w.(*setupResponse); ok && !sr.answered && configure != nil {
		configure(sr.s)
	}
	return w.Accept(mux)
}

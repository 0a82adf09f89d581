package moqt

import (
	"context"
	"sync"
)

// TrackHandler serves subscriptions: ServeTrack is called, in its own
// goroutine, once per SUBSCRIBE the peer sends for a track under the
// handler's broadcast path. It writes groups to the TrackWriter and should
// return when done, after closing it (a TrackWriter left open is closed when
// ServeTrack returns, unless the handler detached it with
// TrackWriter.Detach to serve it from callbacks).
//
// A handler may also implement FetchHandler (to answer FETCH) and
// TrackStatusHandler (TRACK_STATUS); Track and Broadcast implement all
// three.
type TrackHandler interface {
	ServeTrack(*TrackWriter)
}

// TrackHandlerFunc adapts a function to a TrackHandler.
type TrackHandlerFunc func(*TrackWriter)

// ServeTrack calls f(tw).
func (f TrackHandlerFunc) ServeTrack(tw *TrackWriter) { f(tw) }

// TrackMux routes subscriptions to handlers by broadcast path, like
// http.ServeMux routes requests: a SUBSCRIBE goes to the handler whose path is
// the longest (segment-wise) prefix of the requested namespace. Its
// publications are also what a session announces (PUBLISH_NAMESPACE) to a
// peer that subscribes to their namespace.
//
// A TrackMux may be shared by any number of sessions.
type TrackMux struct {
	mu        sync.Mutex
	entries   map[BroadcastPath]*muxEntry
	observers map[*Session]struct{}
	// unannounced serves paths no publication matches (relay_hooks.go).
	unannounced TrackHandler
	// publishers accept the peer's PUBLISH by path (publish.go).
	publishers map[BroadcastPath]PublishHandler
}

type muxEntry struct {
	ann     *Announcement
	handler TrackHandler
}

// NewTrackMux returns an empty TrackMux.
func NewTrackMux() *TrackMux { return &TrackMux{} }

// Publish serves path with h until ctx is done.
func (m *TrackMux) Publish(ctx context.Context, path BroadcastPath, h TrackHandler) {
	ann, _ := NewAnnouncement(ctx, path)
	m.Announce(ann, h)
}

// PublishFunc serves path with f until ctx is done.
func (m *TrackMux) PublishFunc(ctx context.Context, path BroadcastPath, f func(*TrackWriter)) {
	m.Publish(ctx, path, TrackHandlerFunc(f))
}

// Announce serves ann.BroadcastPath with h while ann is active. A later
// announcement of the same path replaces an earlier one.
func (m *TrackMux) Announce(ann *Announcement, h TrackHandler) {
	path := cleanPath(ann.BroadcastPath)
	e := &muxEntry{ann: ann, handler: h}
	m.mu.Lock()
	if !ann.IsActive() {
		m.mu.Unlock()
		return
	}
	if m.entries == nil {
		m.entries = make(map[BroadcastPath]*muxEntry)
	}
	m.entries[path] = e
	obs := m.observerList()
	m.mu.Unlock()
	for _, s := range obs {
		s.announceLocal(ann)
	}
	context.AfterFunc(ann.Context(), func() {
		m.mu.Lock()
		if m.entries[path] == e {
			delete(m.entries, path)
		}
		m.mu.Unlock()
	})
}

// handler returns the handler for the longest registered prefix of path.
func (m *TrackMux) handler(path BroadcastPath) TrackHandler {
	if m == nil {
		return nil
	}
	ns := path.namespace()
	m.mu.Lock()
	defer m.mu.Unlock()
	var best *muxEntry
	bestLen := -1
	for p, e := range m.entries {
		pns := p.namespace()
		if len(pns) > bestLen && ns.HasPrefix(pns) && e.ann.IsActive() {
			best, bestLen = e, len(pns)
		}
	}
	if best == nil {
		return m.unannounced
	}
	return best.handler
}

// ServeTrack dispatches tw to the handler registered for its path, or
// refuses the subscription with TRACK_DOES_NOT_EXIST.
func (m *TrackMux) ServeTrack(tw *TrackWriter) {
	h := m.handler(tw.BroadcastPath)
	if h == nil {
		tw.CloseWithError(SubscribeErrorTrackDoesNotExist)
		return
	}
	h.ServeTrack(tw)
}

// announcements returns the active announcements.
func (m *TrackMux) announcements() []*Announcement {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*Announcement, 0, len(m.entries))
	for _, e := range m.entries {
		if e.ann.IsActive() {
			out = append(out, e.ann)
		}
	}
	return out
}

func (m *TrackMux) observe(s *Session, on bool) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if !on {
		delete(m.observers, s)
		return
	}
	if m.observers == nil {
		m.observers = make(map[*Session]struct{})
	}
	m.observers[s] = struct{}{}
}

func (m *TrackMux) observerList() []*Session {
	out := make([]*Session, 0, len(m.observers))
	for s := range m.observers {
		out = append(out, s)
	}
	return out
}

func cleanPath(p BroadcastPath) BroadcastPath { return pathOf(p.namespace()) }

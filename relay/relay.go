package relay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/moqgo/moqgo/moqt"
)

// Relay forwards MoQT tracks from publishers to subscribers. It is both
// the moqt.SetupHandler and the moqt.TrackHandler of a moqt.Server:
//
//	r := relay.New(relay.Config{})
//	srv := &moqt.Server{Addr: ":4443", TLSConfig: tlsConf, SetupHandler: r}
//	srv.ListenAndServe()
//
// Close it after the server.
type Relay struct {
	cfg   Config
	log   *slog.Logger
	mux   *moqt.TrackMux
	stats stats

	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup // upstream subscriptions and announcement watchers
	serving sync.WaitGroup // ServeTrack calls

	mu       sync.Mutex
	origins  map[moqt.BroadcastPath]*origin
	tracks   map[trackKey]*track
	viewers  map[moqt.BroadcastPath]int // subscriptions per announced path
	sessions map[*moqt.Session]*peer
	changed  chan struct{} // closed and replaced when origins, waiting or sessions change
	waiting  int           // subscriptions waiting for a publisher
	closed   bool
}

// origin is an announced broadcast path and the publishers that announced
// it, most recent last: SUBSCRIBEs go to the most recent one.
type origin struct {
	path moqt.BroadcastPath
	pubs []*publication
	ann  *moqt.Announcement // the relay's own announcement of path
	end  func()
}

// publication is one publisher's announcement.
type publication struct {
	sess *moqt.Session
	ann  *moqt.Announcement
}

// peer is an accepted session and what it may do.
type peer struct {
	sess   *moqt.Session
	grants *Grants
}

// New returns a Relay with cfg's limits (zero fields mean the defaults).
func New(cfg Config) *Relay {
	cfg = cfg.withDefaults()
	r := &Relay{
		cfg:      cfg,
		log:      cfg.Logger,
		mux:      moqt.NewTrackMux(),
		origins:  make(map[moqt.BroadcastPath]*origin),
		tracks:   make(map[trackKey]*track),
		viewers:  make(map[moqt.BroadcastPath]int),
		sessions: make(map[*moqt.Session]*peer),
		changed:  make(chan struct{}),
	}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	r.mux.HandleUnannounced(r)
	r.mux.HandlePublish("/", r)
	return r
}

// Mux returns the TrackMux the relay serves its sessions with. It holds the
// relay's announcements: every broadcast path some publisher announced.
func (r *Relay) Mux() *moqt.TrackMux { return r.mux }

// ServeSetup accepts a session (if the Authorizer allows it) and from then
// on routes the broadcast paths it announces to it.
func (r *Relay) ServeSetup(w moqt.SetupResponseWriter, req *moqt.SetupRequest) {
	grants := AllowAll
	if r.cfg.Auth != nil {
		g, err := r.cfg.Auth.Authorize(req)
		if err != nil {
			code := moqt.ErrCodeUnauthorized
			var ae *AuthError
			if errors.As(err, &ae) {
				code = ae.Code
			}
			r.log.Info("session refused", "remote", req.RemoteAddr, "err", err)
			r.stats.refused.Add(1)
			w.Reject(code, err.Error())
			return
		}
		grants = g
	}
	p := &peer{grants: grants}
	_, err := moqt.AcceptSession(w, r.mux, func(sess *moqt.Session) { r.register(sess, p) })
	if err != nil {
		r.log.Debug("session setup failed", "err", err)
		return
	}
	r.log.Debug("session accepted", "remote", req.RemoteAddr, "protocol", req.Protocol, "path", req.Path)
}

// register sets up a session before it starts: authorization of its
// namespace requests, its announcements, and the relay's bookkeeping.
func (r *Relay) register(sess *moqt.Session, p *peer) {
	p.sess = sess
	grants := p.grants
	if grants != AllowAll {
		sess.SetNamespaceFilter(func(path moqt.BroadcastPath, publish bool) error {
			if publish && !grants.CanPublish(path) || !publish && !grants.CanSubscribe(path) {
				r.stats.refused.Add(1)
				return fmt.Errorf("not authorized for %s", path)
			}
			return nil
		})
	}
	r.mu.Lock()
	closed := r.closed
	if !closed {
		r.sessions[sess] = p
	}
	r.mu.Unlock()
	if closed {
		sess.CloseWithError(moqt.ErrCodeNoError, "relay closed")
		return
	}
	r.stats.sessions.Add(1)
	// Close closes the sessions in r.sessions; this is the session's only
	// watcher, so an idle subscriber costs the relay one callback.
	context.AfterFunc(sess.Context(), func() {
		var se *moqt.SessionError
		if errors.As(context.Cause(sess.Context()), &se) && se.Err != nil {
			r.stats.sessionsLost.Add(1) // its connection failed: no close
		}
		r.stats.sessions.Add(-1)
		r.mu.Lock()
		delete(r.sessions, sess)
		r.notifyLocked()
		r.mu.Unlock()
	})
	if !grants.publishNone() {
		sess.HandlePeerAnnouncements(func(ann *moqt.Announcement) { r.announced(p, ann) })
	}
}

// announced registers a broadcast a session announced.
func (r *Relay) announced(p *peer, ann *moqt.Announcement) {
	if !p.grants.CanPublish(ann.BroadcastPath) {
		r.log.Info("announcement refused", "path", ann.BroadcastPath)
		r.stats.refused.Add(1)
		return
	}
	r.addPublication(ann, p.sess)
}

// addPublication routes ann's path to sess until ann ends.
func (r *Relay) addPublication(ann *moqt.Announcement, sess *moqt.Session) {
	path := ann.BroadcastPath
	pub := &publication{sess: sess, ann: ann}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	o := r.origins[path]
	fresh := o == nil
	if fresh {
		o = &origin{path: path}
		o.ann, o.end = moqt.NewAnnouncement(r.ctx, path)
		r.origins[path] = o
	}
	o.pubs = append(o.pubs, pub)
	r.notifyLocked()
	r.mu.Unlock()
	r.log.Info("broadcast announced", "path", path)
	if fresh {
		r.mux.Announce(o.ann, r)
	}
	context.AfterFunc(ann.Context(), func() { r.removePublication(o, pub) })
}

func (r *Relay) removePublication(o *origin, pub *publication) {
	r.mu.Lock()
	for i, p := range o.pubs {
		if p == pub {
			o.pubs = append(o.pubs[:i], o.pubs[i+1:]...)
			break
		}
	}
	last := len(o.pubs) == 0 && r.origins[o.path] == o
	if last {
		delete(r.origins, o.path)
	}
	r.notifyLocked()
	r.mu.Unlock()
	if last {
		o.end()
		r.log.Info("broadcast ended", "path", o.path)
	}
}

func (r *Relay) notifyLocked() {
	close(r.changed)
	r.changed = make(chan struct{})
}

// routeLocked returns the origin of the longest announced prefix of path.
func (r *Relay) routeLocked(path moqt.BroadcastPath) *origin {
	p := string(path)
	for {
		if o := r.origins[moqt.BroadcastPath(p)]; o != nil && len(o.pubs) > 0 {
			return o
		}
		i := strings.LastIndexByte(p, '/')
		if i <= 0 {
			return nil
		}
		p = p[:i]
	}
}

// route finds the publisher of path, waiting up to WaitForPublisher for
// one; waited reports that it had to.
func (r *Relay) route(ctx context.Context, path moqt.BroadcastPath) (o *origin, sess *moqt.Session, waited bool) {
	var timeout <-chan time.Time
	for {
		r.mu.Lock()
		o := r.routeLocked(path)
		changed := r.changed
		if o != nil {
			sess := o.pubs[len(o.pubs)-1].sess
			r.mu.Unlock()
			return o, sess, timeout != nil
		}
		if r.cfg.WaitForPublisher <= 0 {
			r.mu.Unlock()
			return nil, nil, false
		}
		if timeout == nil {
			r.waiting++
			r.notifyLocked()
			r.mu.Unlock()
			defer func() {
				r.mu.Lock()
				r.waiting--
				r.mu.Unlock()
			}()
			t := time.NewTimer(r.cfg.WaitForPublisher)
			defer t.Stop()
			timeout = t.C
			continue
		}
		r.mu.Unlock()
		select {
		case <-changed:
		case <-timeout:
			return nil, nil, false
		case <-ctx.Done():
			return nil, nil, false
		}
	}
}

// ServeTrack serves one downstream subscription: it is routed to the
// publisher of the longest announced prefix of its path, sharing one
// upstream subscription per track with every other subscriber. Once the
// subscription is active, ServeTrack detaches it and returns: callbacks
// serve it from then on (serveDetached).
func (r *Relay) ServeTrack(tw *moqt.TrackWriter) {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		tw.CloseWithError(moqt.SubscribeErrorInternal)
		return
	}
	r.serving.Add(1)
	r.mu.Unlock()
	detached := false
	defer func() {
		if !detached {
			r.serving.Done()
		}
	}()
	if !r.grantsOf(tw.Session()).CanSubscribe(tw.BroadcastPath) {
		r.stats.refused.Add(1)
		tw.CloseWithError(moqt.SubscribeErrorUnauthorized)
		return
	}
	o, sess, waited := r.route(tw.Context(), tw.BroadcastPath)
	if o == nil {
		tw.CloseWithError(moqt.SubscribeErrorTrackDoesNotExist)
		return
	}
	t, created := r.acquire(trackKey{path: tw.BroadcastPath, name: tw.TrackName}, o.path, sess, waited)
	s := newSubscriber(t, tw)
	defer func() {
		if !detached {
			t.leave(s)
		}
	}()
	// The filter's live edge is where the track stood when the SUBSCRIBE
	// arrived: groups cached while it waits for the upstream subscription
	// came after it, and are its own. A track this SUBSCRIBE opened had
	// nothing cached: every group it gets is the subscriber's, however soon
	// the publisher's first groups beat this goroutine to the next line.
	var edge *group
	if !created {
		edge = t.newest()
	}
	select {
	case <-t.ready:
	case <-tw.Context().Done():
		return
	}
	if t.err != nil {
		tw.CloseWithError(refusalCode(t.err))
		return
	}
	if err := t.activate(s, edge); err != nil {
		s.stop()
		closeWith(tw, err)
		return
	}
	detached = true
	r.serveDetached(t, s, tw)
}

// serveDetached serves an active subscription without a goroutine of its
// own until it ends: SUBSCRIBE_UPDATE reconfigures the subscriber from the
// session's callback, and the end (the subscriber or its session ending
// it, or the subscriber finishing: track ended, range done) runs once, on
// a goroutine started then. An idle subscriber so costs the relay no
// goroutine stack beyond its session's.
func (r *Relay) serveDetached(t *track, s *subscriber, tw *moqt.TrackWriter) {
	var once sync.Once
	end := func(finished bool) {
		once.Do(func() {
			if !finished { // unsubscribed, or the session ended
				s.stop()
				t.leave(s)
				r.serving.Done()
				tw.Close()
				return
			}
			s.mu.Lock()
			trackDone, err := s.trackDone, s.endErr
			s.mu.Unlock()
			s.drain(tw.Context())
			if !trackDone {
				tw.CloseWithError(moqt.DoneSubscriptionEnded)
			} else {
				closeWith(tw, err)
			}
			t.leave(s)
			r.serving.Done()
		})
	}
	tw.Detach(func() {
		s.configure()
		t.syncUpstream() // runs on a goroutine: Detach's callback must not block
	})
	select { // an update that came before Detach
	case <-tw.Updated():
		s.configure()
	default:
	}
	context.AfterFunc(tw.Context(), func() { end(false) })
	s.mu.Lock()
	s.onFinish = func() { go end(true) }
	select {
	case <-s.finished: // before onFinish was set
		go end(true)
	default:
	}
	s.mu.Unlock()
}

// refusalCode is the code to refuse a downstream request with when its
// upstream request failed with err: the publisher's own refusal code, or
// INTERNAL_ERROR if it did not refuse (the session failed).
func refusalCode(err error) moqt.SubscribeErrorCode {
	var se *moqt.SubscribeError
	var fe *moqt.FetchError
	switch {
	case errors.As(err, &se):
		return se.Code
	case errors.As(err, &fe):
		return fe.Code
	}
	return moqt.SubscribeErrorInternal
}

// closeWith ends a downstream subscription as its upstream ended.
func closeWith(tw *moqt.TrackWriter, err error) {
	var se *moqt.SubscribeError
	switch {
	case err == io.EOF:
		tw.Close()
	case errors.As(err, &se) && se.Done:
		tw.CloseWithError(se.Code)
	default: // the publisher is gone
		tw.CloseWithError(moqt.DoneTrackEnded)
	}
}

// acquire returns the track for key, starting its upstream subscription on
// sess if there is none, and counts one more user of it. waited reports
// that the subscriber waited for the publisher: a track it opens is
// backfilled (track.fill). created reports that it opened the track.
func (r *Relay) acquire(key trackKey, origin moqt.BroadcastPath, sess *moqt.Session, waited bool) (t *track, created bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t = r.tracks[key]
	if t == nil {
		t, created = newTrack(r, key), true
		t.origin, t.backfill = origin, waited
		r.tracks[key] = t
		r.wg.Add(1)
		go t.run(sess)
	}
	t.users++
	if t.linger != nil {
		t.linger.Stop()
		t.linger = nil
	}
	r.viewers[t.origin]++
	r.stats.subscriptions.Add(1)
	return t, created
}

// release counts one user less of t; the last one starts the linger.
func (r *Relay) release(t *track) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t.users--
	r.stats.subscriptions.Add(-1)
	if r.viewers[t.origin]--; r.viewers[t.origin] <= 0 {
		delete(r.viewers, t.origin)
	}
	if t.users == 0 && r.tracks[t.key] == t && t.linger == nil && !t.pushed {
		t.linger = time.AfterFunc(r.cfg.Linger, t.expire)
	}
}

func (r *Relay) peerOf(s *moqt.Session) *peer {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.sessions[s]
}

// grantsOf returns what sess may do. A session the relay did not accept
// itself through ServeSetup (one set up by another SetupHandler, or one
// already unregistered on close) gets nothing when an Authorizer is
// configured: checks fail closed.
func (r *Relay) grantsOf(s *moqt.Session) *Grants {
	if p := r.peerOf(s); p != nil {
		return p.grants
	}
	if r.cfg.Auth == nil {
		return AllowAll
	}
	return &Grants{}
}

// Close ends every upstream subscription and announcement, closes the
// sessions the relay still watches and waits for the subscriptions it
// serves to end. Close (or Shutdown) the moqt.Server first.
func (r *Relay) Close() error {
	r.mu.Lock()
	r.closed = true
	var ups []*track
	for _, t := range r.tracks {
		if t.linger != nil {
			t.linger.Stop()
			t.linger = nil
		}
		ups = append(ups, t)
	}
	origins := make([]*origin, 0, len(r.origins))
	for _, o := range r.origins {
		origins = append(origins, o)
	}
	sessions := make([]*moqt.Session, 0, len(r.sessions))
	for sess := range r.sessions {
		sessions = append(sessions, sess)
	}
	r.mu.Unlock()
	r.cancel()
	for _, sess := range sessions {
		sess.CloseWithError(moqt.ErrCodeNoError, "relay closed")
	}
	for _, o := range origins {
		o.end()
	}
	for _, t := range ups {
		t.mu.Lock()
		up := t.up
		t.mu.Unlock()
		if up != nil {
			up.Close()
		}
	}
	r.wg.Wait()
	r.serving.Wait()
	return nil
}

package relay

import (
	"fmt"
	"sync"

	"github.com/moqgo/moqgo/moqt"
)

// AcceptPublish refuses, before PUBLISH_OK, a pushed track the session's
// grants do not cover, making the Relay a moqt.PublishAcceptor: the
// publisher gets PUBLISH_ERROR UNAUTHORIZED. (A session the relay accepted
// with restricted grants is already refused by its namespace filter; this
// covers a Relay used as the PublishHandler of another mux too.)
func (r *Relay) AcceptPublish(s *moqt.Session, path moqt.BroadcastPath, _ moqt.TrackName) error {
	if !r.grantsOf(s).CanPublish(path) {
		r.stats.refused.Add(1)
		return fmt.Errorf("not authorized for %s", path)
	}
	return nil
}

// ServePublish takes a track a publisher pushes (PUBLISH), making the
// Relay a moqt.PublishHandler: the track is fanned out like a subscribed
// one, and its path is routed to the publisher while it is pushed. It
// replaces the relay's current track of that name for new subscribers.
func (r *Relay) ServePublish(tr *moqt.TrackReader) {
	if !r.grantsOf(tr.Session()).CanPublish(tr.BroadcastPath) {
		r.stats.refused.Add(1)
		r.log.Info("pushed track refused", "path", tr.BroadcastPath, "track", tr.TrackName)
		return // returning unsubscribes; AcceptPublish normally refused it already
	}
	key := trackKey{path: tr.BroadcastPath, name: tr.TrackName}
	t := newTrack(r, key)
	t.origin, t.up, t.info, t.pushed = tr.BroadcastPath, tr, tr.Info(), true
	t.since = after(t.info)
	close(t.ready)
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.tracks[key] = t
	r.wg.Add(1)
	r.mu.Unlock()
	defer r.wg.Done()
	ann, end := moqt.NewAnnouncement(tr.Context(), tr.BroadcastPath)
	defer end()
	r.addPublication(ann, tr.Session())
	r.log.Info("track pushed", "path", tr.BroadcastPath, "track", tr.TrackName)
	t.pump(tr, new(sync.WaitGroup))
}

package relay

import (
	"sync/atomic"

	"github.com/moqgo/moqgo/moqt"
)

// stats are the relay's counters, kept with atomics on the data path and
// read by Stats and the Prometheus collector.
type stats struct {
	sessions      atomic.Int64
	sessionsLost  atomic.Int64
	subscriptions atomic.Int64
	objectsIn     atomic.Int64
	bytesIn       atomic.Int64
	objectsOut    atomic.Int64
	bytesOut      atomic.Int64
	cacheBytes    atomic.Int64
	evictions     atomic.Int64
	skips         atomic.Int64
	drops         atomic.Int64
	refused       atomic.Int64
	upFetches     atomic.Int64
}

// Stats is a snapshot of the relay's activity.
type Stats struct {
	// Sessions is the number of open sessions.
	Sessions int64
	// SessionsLost counts sessions whose connection failed under them (a
	// QUIC transport error, an idle timeout: moqt.SessionError.Err) rather
	// than being closed by either side.
	SessionsLost int64
	// Tracks is the number of upstream subscriptions.
	Tracks int64
	// Subscriptions is the number of downstream subscriptions.
	Subscriptions int64
	// Waiting is the number of subscriptions waiting for a publisher.
	Waiting int64
	// ObjectsIn and BytesIn count the objects and payload bytes received
	// from publishers.
	ObjectsIn, BytesIn int64
	// ObjectsOut and BytesOut count the objects and payload bytes written
	// to subscribers.
	ObjectsOut, BytesOut int64
	// CacheBytes is the payload held by the group caches.
	CacheBytes int64
	// Evictions counts groups dropped from a cache by its limits.
	Evictions int64
	// Skips counts groups abandoned for a slow subscriber (backlog full or
	// a write stalled past its timeout).
	Skips int64
	// Drops counts subgroups a subscriber lost because they left the cache
	// before it was sent them.
	Drops int64
	// Refused counts sessions, announcements and subscriptions refused by
	// the Authorizer.
	Refused int64
	// UpstreamFetches counts FETCHes forwarded to publishers because the
	// cache did not hold their range.
	UpstreamFetches int64
	// Viewers is the number of subscriptions per announced broadcast path.
	Viewers map[moqt.BroadcastPath]int
}

// Stats returns a snapshot of the relay's counters.
func (r *Relay) Stats() Stats {
	st := &r.stats
	s := Stats{
		Sessions:      st.sessions.Load(),
		SessionsLost:  st.sessionsLost.Load(),
		Subscriptions: st.subscriptions.Load(),
		ObjectsIn:     st.objectsIn.Load(),
		BytesIn:       st.bytesIn.Load(),
		ObjectsOut:    st.objectsOut.Load(),
		BytesOut:      st.bytesOut.Load(),
		CacheBytes:    st.cacheBytes.Load(),
		Evictions:     st.evictions.Load(),
		Skips:         st.skips.Load(),
		Drops:         st.drops.Load(),
		Refused:       st.refused.Load(),

		UpstreamFetches: st.upFetches.Load(),
	}
	r.mu.Lock()
	s.Tracks = int64(len(r.tracks))
	s.Waiting = int64(r.waiting)
	s.Viewers = make(map[moqt.BroadcastPath]int, len(r.viewers))
	for p, n := range r.viewers {
		s.Viewers[p] = n
	}
	r.mu.Unlock()
	return s
}

package relay

import "sync"

// upstreamSync serializes and coalesces the SUBSCRIBE_UPDATEs a track sends
// upstream: at most one goroutine sends them, and a change that arrives
// while it runs makes it look again, so that the last update sent reflects
// the subscribers as they are.
type upstreamSync struct {
	mu      sync.Mutex
	running bool
	again   bool
}

// syncUpstream brings the track's upstream subscription in line with its
// subscribers, with a SUBSCRIBE_UPDATE (draft-14 §SUBSCRIBE_UPDATE) when
// that changes it: the subscriber priority is the most urgent (lowest) any
// subscriber asked for, and the subscription is paused (Forward 0) while
// every subscriber is paused, so that the publisher sends nothing nobody
// wants, and resumed as soon as one resumes or a new one joins. With no
// subscriber at all (lingering) it is left as it is. The update is sent
// from a goroutine of its own: sending it may wait for a Request ID.
func (t *track) syncUpstream() {
	y := &t.sync
	y.mu.Lock()
	if y.running {
		y.again = true
		y.mu.Unlock()
		return
	}
	y.running = true
	y.mu.Unlock()
	go func() {
		for {
			t.updateUpstream()
			y.mu.Lock()
			if !y.again {
				y.running = false
				y.mu.Unlock()
				return
			}
			y.again = false
			y.mu.Unlock()
		}
	}()
}

// updateUpstream sends the SUBSCRIBE_UPDATE syncUpstream describes, if
// the upstream subscription does not match the subscribers already.
func (t *track) updateUpstream() {
	t.mu.Lock()
	up, ended := t.up, t.ended
	subs := make([]*subscriber, 0, len(t.subs))
	for s := range t.subs {
		subs = append(subs, s)
	}
	t.mu.Unlock()
	if up == nil || ended || len(subs) == 0 {
		return
	}
	priority, paused := uint8(255), true
	for _, s := range subs {
		s.mu.Lock()
		priority = min(priority, s.priority)
		paused = paused && s.paused
		s.mu.Unlock()
	}
	c := up.TrackConfig()
	if c.Priority == priority && c.Paused == paused {
		return
	}
	c.Priority, c.Paused = priority, paused
	if err := up.Update(c); err != nil {
		t.r.log.Debug("upstream SUBSCRIBE_UPDATE failed", "path", t.key.path, "track", t.key.name, "err", err)
		return
	}
	t.r.log.Debug("upstream subscription updated", "path", t.key.path, "track", t.key.name, "priority", priority, "paused", paused)
}

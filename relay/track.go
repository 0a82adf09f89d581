package relay

import (
	"context"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/moqgo/moqgo/moqt"
)

// trackKey names a track across the relay.
type trackKey struct {
	path moqt.BroadcastPath
	name moqt.TrackName
}

// track is one upstream subscription fanned out to the relay's subscribers
// of that track, with the cache of its recent groups.
type track struct {
	r      *Relay
	key    trackKey
	origin moqt.BroadcastPath // the announced path it is routed by
	// backfill: the subscription that opened the track waited for its
	// publisher, so what the publisher wrote before the relay's SUBSCRIBE
	// reached it is fetched into the cache (see fill). Set before run.
	backfill bool

	ready chan struct{} // closed once the upstream SUBSCRIBE was answered
	err   error         // the upstream refusal, set before ready is closed

	sync upstreamSync // brings the upstream subscription in line (upstream_update.go)

	// fillGroup, the newest group fill fetches, may still be open at the
	// publisher when the relay subscribes: the subgroups fill got of it
	// are held open (held) for the rest the live subscription brings, so
	// that a subscriber gets each as one stream, not as its fetched part
	// and its live rest. fillDone (nil without fill) is closed once fill
	// is through. Set before run starts fill and pump.
	fillGroup moqt.GroupSequence
	fillDone  chan struct{}

	// Guarded by the relay's mutex.
	users   int         // subscribers joined, active or not
	pushed  bool        // the publisher pushes it (PUBLISH): no linger
	linger  *time.Timer // running while users == 0
	closing bool        // lingered out: no new subscriber may join

	mu     sync.Mutex
	up     *moqt.TrackReader
	info   moqt.Info
	groups []*group // cached, ascending by sequence
	// since is where the cache's knowledge of the track starts: every
	// object the publisher wrote from it on was received (or is still to
	// come) and, unless its group was dropped, is cached. Older objects
	// were written before the upstream subscription began or were evicted.
	since    moqt.Location
	bytes    int64
	subs     map[*subscriber]struct{}
	ended    bool
	endErr   error
	final    []*group             // the groups cached when the track ended, for subscribers still joining
	snapshot []*subscriber        // reused by offers
	held     map[uint64]*subgroup // fillGroup's fetched subgroups awaiting their live rest, by subgroup ID
}

func newTrack(r *Relay, key trackKey) *track {
	return &track{r: r, key: key, ready: make(chan struct{}), subs: make(map[*subscriber]struct{})}
}

// run subscribes upstream on sess and ingests the track until it ends.
func (t *track) run(sess *moqt.Session) {
	defer t.r.wg.Done()
	up, err := sess.Subscribe(t.key.path, t.key.name, &moqt.TrackConfig{Priority: 128})
	if err != nil {
		t.err = err
		close(t.ready)
		t.end(err)
		return
	}
	t.mu.Lock()
	t.up = up
	t.info = up.Info()
	t.since = after(t.info)
	t.mu.Unlock()
	t.r.mu.Lock()
	closing := t.closing
	t.r.mu.Unlock()
	close(t.ready)
	if closing {
		up.Close()
	}
	t.r.log.Debug("upstream subscription open", "path", t.key.path, "track", t.key.name)
	var ingest sync.WaitGroup
	if info := up.Info(); t.backfill && info.ContentExists && !closing {
		t.fillGroup, t.fillDone = info.LatestGroup, make(chan struct{})
		ingest.Go(func() { t.fill(sess, info.LatestGroup) })
	}
	t.pump(up, &ingest)
}

// pump ingests the upstream subscription's groups until it ends; ingest
// counts other ingestion in progress (fill), which the end waits for.
//
// Each subgroup is cached and offered to the subscribers here, in the
// order AcceptGroup returns them (the order the publisher opened their
// streams), before its objects arrive: the subscribers then open their
// downstream streams in that order too (see sender.run). Offering a group
// when its first object arrived, on the goroutine reading it, let back to
// back groups overtake each other downstream.
func (t *track) pump(up *moqt.TrackReader, ingest *sync.WaitGroup) {
	for {
		gr, err := up.AcceptGroup(context.Background())
		if err != nil {
			ingest.Wait()
			t.releaseHeld(err)
			t.end(err)
			return
		}
		if t.fillDone != nil {
			if gr.GroupSequence() <= t.fillGroup {
				// The rest of the group fill is fetching: wait for
				// fill's part, then continue the same subgroup.
				t.awaitFill()
				if sg, from := t.adopt(gr.GroupSequence(), gr.SubgroupID()); sg != nil {
					ingest.Go(func() { t.ingest(gr, sg, from) })
					continue
				}
			} else {
				t.releaseHeld(nil) // a newer group: no rest is coming
			}
		}
		sg := t.addSubgroup(gr.GroupSequence(), gr.SubgroupID(), gr.PublisherPriority(), gr.Datagram(), nil)
		if sg == nil {
			gr.CancelRead(moqt.GroupErrorCancelled)
			continue
		}
		ingest.Go(func() { t.ingest(gr, sg, 0) })
	}
}

// fillWait bounds how long pump waits for fill's part of the group in
// progress before it forwards the group's live rest as a stream of its own,
// and how long fill's part waits, held open, for that rest: the group may
// have been complete (a FETCH does not say), and its stream then ends
// fillWait late.
const fillWait = 2 * time.Second

// awaitFill waits, at most fillWait, for fill to be through.
func (t *track) awaitFill() {
	select {
	case <-t.fillDone:
		return
	default:
	}
	w := time.NewTimer(fillWait)
	defer w.Stop()
	select {
	case <-t.fillDone:
	case <-w.C:
	}
}

// adopt returns the held subgroup id of group seq, no longer held, and the
// first object ID its live rest adds (what fill got already is skipped).
func (t *track) adopt(seq moqt.GroupSequence, id uint64) (*subgroup, uint64) {
	t.mu.Lock()
	sg := t.held[id]
	if seq != t.fillGroup || sg == nil {
		t.mu.Unlock()
		return nil, 0
	}
	delete(t.held, id)
	t.mu.Unlock()
	sg.mu.Lock()
	defer sg.mu.Unlock()
	return sg, sg.objs[len(sg.objs)-1].ID + 1
}

// hold keeps fill's subgroups of fillGroup whose last object did not end
// the group open for their live rest (adopt), and returns the others.
func (t *track) hold(sgs []*subgroup) (rest []*subgroup) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, sg := range sgs {
		sg.mu.Lock()
		last := sg.objs[len(sg.objs)-1]
		sg.mu.Unlock()
		if last.Status != moqt.StatusNormal || sg.g.seq != t.fillGroup || t.ended {
			rest = append(rest, sg)
			continue
		}
		if t.held == nil {
			t.held = make(map[uint64]*subgroup)
		}
		t.held[sg.id] = sg
	}
	return rest
}

// releaseHeld finishes the held subgroups: no live rest is coming (a newer
// group started, none came within fillWait, or the subscription ended with
// err).
func (t *track) releaseHeld(err error) {
	t.mu.Lock()
	held := t.held
	t.held = nil
	t.mu.Unlock()
	if err == io.EOF {
		err = nil
	}
	for _, sg := range held {
		sg.finish(err)
		if sg.enc != nil {
			sg.enc.Close()
		}
	}
}

// fill fetches from the publisher the groups it wrote before the relay's
// upstream SUBSCRIBE reached it, through latest (the SUBSCRIBE_OK's
// largest group), at most CacheGroups of them, into the cache. It is run
// only for a track whose first subscriber waited for the publisher: that
// subscriber was there before any of the publisher's groups, so they are
// all its own, but a SUBSCRIBE only delivers what is written after it
// arrives, and a publisher that writes a few groups and ends the track at
// once has nothing left to send.
func (t *track) fill(sess *moqt.Session, latest moqt.GroupSequence) {
	defer close(t.fillDone)
	start := moqt.GroupSequence(0)
	if n := moqt.GroupSequence(t.r.cfg.CacheGroups); latest >= n {
		start = latest - n + 1
	}
	fr, err := sess.Fetch(t.r.ctx, t.key.path, t.key.name, &moqt.FetchConfig{
		Priority: 128, GroupOrder: moqt.GroupOrderAscending,
		Start: moqt.Location{Group: start}, End: moqt.Location{Group: latest},
	})
	if err != nil {
		t.r.log.Debug("backfill fetch refused", "path", t.key.path, "track", t.key.name, "err", err)
		return
	}
	defer fr.Close()
	type fetched struct {
		id uint64
		sg *subgroup // nil: not cached, the rest of it is skipped
	}
	var open []fetched // the subgroups of group cur
	var cur moqt.GroupSequence
	end := func(sg *subgroup, err error) {
		sg.finish(err)
		if sg.enc != nil {
			sg.enc.Close() // the room left goes to the next subgroup's
		}
	}
	finish := func(err error) {
		for _, f := range open {
			if f.sg != nil {
				end(f.sg, err)
			}
		}
		open = open[:0]
	}
	for {
		o, err := fr.ReadObject()
		if err != nil {
			if err == io.EOF && len(open) > 0 && cur == latest {
				// The newest group may go on: its subgroups wait for
				// their live rest (pump, adopt).
				var sgs []*subgroup
				for _, f := range open {
					if f.sg != nil {
						sgs = append(sgs, f.sg)
					}
				}
				for _, sg := range t.hold(sgs) {
					end(sg, nil)
				}
				// A FETCH does not tell whether the group was still
				// open: if no rest comes within fillWait, it was not.
				time.AfterFunc(fillWait, func() { t.releaseHeld(nil) })
				return
			}
			if err == io.EOF {
				err = nil
			}
			finish(err)
			return
		}
		if len(open) > 0 && o.Group != cur {
			finish(nil)
		}
		cur = o.Group
		t.r.stats.objectsIn.Add(1)
		t.r.stats.bytesIn.Add(int64(o.Frame.Len()))
		e := entry{obj: &o.Object, at: time.Now()}
		i := slices.IndexFunc(open, func(f fetched) bool { return f.id == o.Subgroup })
		if i < 0 {
			sg := t.addSubgroup(o.Group, o.Subgroup, o.PublisherPriority, false, &e)
			open = append(open, fetched{id: o.Subgroup, sg: sg})
			continue
		}
		if sg := open[i].sg; sg != nil {
			// One run per object, encoded once for every subscriber as
			// ingest's batches are.
			if !t.account(sg.g, &e) || !sg.addBatch([]*moqt.Object{e.obj}, e.at, sg.encode([]*moqt.Object{e.obj})) {
				end(sg, errEvicted)
				open[i].sg = nil
				continue
			}
			sg.wakeParked()
		}
	}
}

// ingest reads one upstream subgroup stream into sg, its place in the
// cache, waking the subscribers' senders as objects arrive: once per batch
// of the objects that arrived together, so that each sender forwards them
// in one write. Objects with IDs below from are dropped: into a subgroup
// fill began (adopt), the live stream may bring what fill got already.
func (t *track) ingest(gr *moqt.GroupReader, sg *subgroup, from uint64) {
	st := &t.r.stats
	if sg.enc != nil {
		defer sg.enc.Close() // the room left goes to the next subgroup's
	}
	var batch []*moqt.Object
	for {
		o, err := gr.ReadObject()
		batch = batch[:0]
		for err == nil {
			if o.ID < from { // fill got it already (adopt)
				o, err = gr.TryReadObject()
				continue
			}
			batch = append(batch, o)
			n := int64(o.Frame.Len())
			st.objectsIn.Add(1)
			st.bytesIn.Add(n)
			if !t.account(sg.g, &entry{obj: o}) {
				gr.CancelRead(moqt.GroupErrorCancelled)
				sg.finish(errEvicted)
				return
			}
			if len(batch) >= maxIngestBatch {
				break
			}
			o, err = gr.TryReadObject()
		}
		if len(batch) > 0 {
			// Encoded once for every subscriber's stream, before the
			// objects are shared.
			r := sg.encode(batch)
			if !sg.addBatch(batch, time.Now(), r) {
				gr.CancelRead(moqt.GroupErrorCancelled)
				sg.finish(errEvicted)
				return
			}
			clear(batch)
		}
		if err == nil || err == moqt.ErrWouldBlock {
			sg.wakeParked()
			continue
		}
		if err == io.EOF {
			err = nil
		}
		sg.finish(err) // an empty subgroup is forwarded too
		return
	}
}

// maxIngestBatch bounds the objects ingest takes before waking the
// senders, as a run.
const maxIngestBatch = 16

// addSubgroup caches a new subgroup (with its first object, if any) and
// offers it to the subscribers. It returns nil if the track ended or the
// group is not cached.
func (t *track) addSubgroup(seq moqt.GroupSequence, id uint64, priority uint8, datagram bool, first *entry) *subgroup {
	t.mu.Lock()
	if t.ended {
		t.mu.Unlock()
		return nil
	}
	g := t.groupLocked(seq)
	sg := newSubgroup(g, id, priority)
	sg.datagram = datagram
	if !datagram { // encoded in runs, by ingest or fill
		sg.enc = moqt.NewRunEncoder(seq, id)
	}
	g.subgroups = append(g.subgroups, sg)
	if first != nil {
		if r := sg.encode([]*moqt.Object{first.obj}); r != nil {
			sg.runs, sg.runStart = append(sg.runs, r), append(sg.runStart, 0)
		}
		sg.objs, sg.ats = append(sg.objs, first.obj), append(sg.ats, first.at)
		t.countLocked(g, first)
	}
	t.evictLocked()
	if g.gone {
		t.mu.Unlock()
		return nil
	}
	subs := t.snapshot[:0]
	for s := range t.subs {
		subs = append(subs, s)
	}
	t.snapshot = nil // owned by this call until handed back
	t.mu.Unlock()
	for _, s := range subs {
		s.offer(sg)
	}
	clear(subs)
	t.mu.Lock()
	if t.snapshot == nil {
		t.snapshot = subs[:0]
	}
	t.mu.Unlock()
	return sg
}

// groupLocked returns the cached group seq, creating it in order.
func (t *track) groupLocked(seq moqt.GroupSequence) *group {
	i := len(t.groups)
	for i > 0 && t.groups[i-1].seq >= seq {
		if t.groups[i-1].seq == seq {
			return t.groups[i-1]
		}
		i--
	}
	g := &group{seq: seq, created: time.Now()}
	t.groups = append(t.groups, nil)
	copy(t.groups[i+1:], t.groups[i:])
	t.groups[i] = g
	return g
}

// account counts an object received for g against the cache limits. It
// reports false if g was dropped for memory: the object is then not kept.
func (t *track) account(g *group, e *entry) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if g.gone {
		return false
	}
	t.countLocked(g, e)
	t.evictLocked()
	return !g.gone
}

func (t *track) countLocked(g *group, e *entry) {
	if !g.evicted {
		n := int64(e.obj.Frame.Len())
		g.bytes += n
		t.bytes += n
		t.r.stats.cacheBytes.Add(n)
	}
	if !t.info.ContentExists || g.seq > t.info.LatestGroup ||
		(g.seq == t.info.LatestGroup && e.obj.ID > t.info.LatestObject) {
		t.info.ContentExists, t.info.LatestGroup, t.info.LatestObject = true, g.seq, e.obj.ID
	}
}

// evictLocked drops the oldest groups from the cache while any limit is
// exceeded; the newest group is always kept. A group evicted for the
// track's own limits stays in flight to the subscribers it is being sent
// to; one evicted because the relay-wide MaxCacheBytes is exceeded is
// abandoned by everyone.
func (t *track) evictLocked() {
	cfg := &t.r.cfg
	for len(t.groups) > 1 {
		old := t.groups[0]
		hard := t.r.stats.cacheBytes.Load() > cfg.MaxCacheBytes
		if !hard && len(t.groups) <= cfg.CacheGroups && t.bytes <= cfg.CacheBytes &&
			time.Since(old.created) <= cfg.CacheAge {
			return
		}
		t.dropLocked(old, hard)
		t.groups[0] = nil
		t.groups = t.groups[1:]
		if oldest := (moqt.Location{Group: t.groups[0].seq}); t.since.Less(oldest) {
			t.since = oldest
		}
	}
}

// after is the first location a subscription answered with info
// delivers: the one after the largest (draft-14 Largest Object filter).
func after(info moqt.Info) moqt.Location {
	if !info.ContentExists {
		return moqt.Location{}
	}
	return moqt.Location{Group: info.LatestGroup, Object: info.LatestObject + 1}
}

// holdsLocked reports whether the cache knows the track from start on, so
// that a FETCH from start can be answered from it.
func (t *track) holdsLocked(start moqt.Location) bool {
	return !start.Less(t.since)
}

// dropLocked removes g from the cache; if hard, senders still on it
// abandon it and the rest of it is not received.
func (t *track) dropLocked(g *group, hard bool) {
	g.evicted = true
	t.bytes -= g.bytes
	t.r.stats.cacheBytes.Add(-g.bytes)
	g.bytes = 0
	t.r.stats.evictions.Add(1)
	if hard {
		g.gone = true
		for _, sg := range g.subgroups {
			sg.evict()
		}
	}
}

// newest returns the most recent cached group, or nil.
func (t *track) newest() *group {
	t.mu.Lock()
	defer t.mu.Unlock()
	if n := len(t.groups); n > 0 {
		return t.groups[n-1]
	}
	return nil
}

// activate starts delivery to s: SUBSCRIBE_OK with the track's largest
// location, then the cached groups its filter admits (from edge, the
// newest group when its SUBSCRIBE arrived) and every new subgroup.
func (t *track) activate(s *subscriber, edge *group) error {
	t.mu.Lock()
	s.setStart(edge)
	var cached []*subgroup
	ended, endErr := t.ended, t.endErr
	if ended {
		// The track ended before the subscriber got here: it still gets
		// the groups it was entitled to, then PUBLISH_DONE.
		for _, g := range t.final {
			cached = append(cached, g.subgroups...)
		}
	} else {
		t.subs[s] = struct{}{}
		defer t.syncUpstream() // its priority and forward state count from now on
		for _, g := range t.groups {
			if !g.evicted {
				cached = append(cached, g.subgroups...)
			}
		}
	}
	info := t.info
	t.mu.Unlock()
	// Groups go out in the order the subscriber asked for: each has its own
	// stream, which moqt's scheduler orders.
	info.GroupOrder = moqt.GroupOrderAscending
	if s.tw.TrackConfig().GroupOrder == moqt.GroupOrderDescending {
		info.GroupOrder = moqt.GroupOrderDescending
	}
	if err := s.tw.WriteInfo(info); err != nil {
		return err
	}
	close(s.accepted)
	for _, sg := range cached {
		s.offer(sg)
	}
	if ended {
		s.trackEnded(endErr)
	}
	return nil
}

// leave stops delivery to s and releases its interest in the track.
func (t *track) leave(s *subscriber) {
	t.mu.Lock()
	delete(t.subs, s)
	t.mu.Unlock()
	t.syncUpstream()
	t.r.release(t)
}

// expire closes the upstream subscription once the linger after the last
// subscriber passed, unless a subscriber came back.
func (t *track) expire() {
	r := t.r
	r.mu.Lock()
	if t.users > 0 || r.tracks[t.key] != t {
		r.mu.Unlock()
		return
	}
	delete(r.tracks, t.key)
	t.closing = true
	t.linger = nil
	r.mu.Unlock()
	t.mu.Lock()
	up := t.up
	t.mu.Unlock()
	if up != nil {
		up.Close()
	}
	r.log.Debug("upstream subscription lingered out", "path", t.key.path, "track", t.key.name)
}

// end finishes the track: the subscribers get PUBLISH_DONE once their
// in-flight groups are delivered, and its cache is released.
func (t *track) end(err error) {
	r := t.r
	r.mu.Lock()
	if r.tracks[t.key] == t {
		delete(r.tracks, t.key)
	}
	if t.linger != nil {
		t.linger.Stop()
		t.linger = nil
	}
	r.mu.Unlock()
	t.mu.Lock()
	t.ended, t.endErr = true, err
	subs := make([]*subscriber, 0, len(t.subs))
	for s := range t.subs {
		subs = append(subs, s)
	}
	t.final = t.final[:0]
	for _, g := range t.groups {
		if !g.evicted {
			t.final = append(t.final, g)
		}
		g.evicted = true // in-flight senders finish; the memory is no longer the cache's
	}
	r.stats.cacheBytes.Add(-t.bytes)
	t.bytes, t.groups = 0, nil
	t.mu.Unlock()
	for _, s := range subs {
		s.trackEnded(err)
	}
	r.log.Debug("track ended", "path", t.key.path, "track", t.key.name, "err", err)
}

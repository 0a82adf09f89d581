package moqt

import (
	"errors"
	"sync"
)

// Track is a live track written once and delivered to every subscriber,
// with a history that answers FETCH, joining subscribers and TRACK_STATUS.
// It is the ready-made publisher: a TrackHandler (one ServeTrack per
// subscription, for as long as it lasts), a FetchHandler and a
// TrackStatusHandler. Register it for a broadcast path directly, or as one
// of the named tracks of a Broadcast.
//
// Groups are written with OpenGroup; every object written is recorded in
// History and sent to each subscriber whose subscription admits it: a
// latest-object subscriber joins the groups already open with their next
// object, a next-group subscriber starts with the next group, absolute
// filters are honoured, and a paused subscriber (TrackConfig.Paused) gets
// nothing until it resumes. Subscribers are written one after another, so
// a subscriber that does not read slows the others down: a relay should
// put a cache and per-subscriber queues in between.
type Track struct {
	// History records every object written. NewTrack sets it.
	History *TrackHistory

	mu    sync.Mutex
	subs  map[*TrackWriter]GroupSequence // subscriber → first group it takes
	ended bool
	done  chan struct{}
}

// NewTrack returns a Track recording into h, or into a TrackHistory with the
// default limits if h is nil.
func NewTrack(h *TrackHistory) *Track {
	if h == nil {
		h = &TrackHistory{}
	}
	return &Track{History: h, subs: make(map[*TrackWriter]GroupSequence), done: make(chan struct{})}
}

// ServeTrack serves one subscription until the subscriber leaves or the
// track is closed. SUBSCRIBE_OK carries the largest location written so
// far.
func (t *Track) ServeTrack(tw *TrackWriter) {
	t.mu.Lock()
	info := t.History.Info()
	// SUBSCRIBE_OK goes out before any object written after this point,
	// so that the subscription continues exactly where Largest ends.
	err := tw.WriteInfo(info)
	if err != nil || t.ended {
		t.mu.Unlock()
		tw.Close()
		return
	}
	first := GroupSequence(0)
	if tw.TrackConfig().Filter == FilterNextGroupStart && info.ContentExists {
		first = info.LatestGroup + 1
	}
	t.subs[tw] = first
	t.mu.Unlock()
	select {
	case <-tw.Context().Done():
	case <-t.done:
	}
	t.mu.Lock()
	delete(t.subs, tw)
	t.mu.Unlock()
	tw.Close()
}

// ServeFetch answers a FETCH from History.
func (t *Track) ServeFetch(fw *FetchWriter) { t.History.ServeFetch(fw) }

// TrackStatus reports History's largest location.
func (t *Track) TrackStatus(BroadcastPath, TrackName) (Info, error) { return t.History.Info(), nil }

// Subscribers returns how many subscriptions the track currently serves.
func (t *Track) Subscribers() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.subs)
}

// OpenGroup starts group seq as subgroup 0 with each session's default
// publisher priority.
func (t *Track) OpenGroup(seq GroupSequence) (*TrackGroupWriter, error) {
	return t.openGroup(seq, 0, 0, false)
}

// OpenSubgroup starts subgroup of group seq with the given publisher
// priority (0 is the most urgent, 255 the least; OpenGroup uses each
// session's Config.DefaultPublisherPriority instead). Subscriber streams are
// opened lazily, with the first object each subscriber takes.
func (t *Track) OpenSubgroup(seq GroupSequence, subgroup uint64, priority uint8) (*TrackGroupWriter, error) {
	return t.openGroup(seq, subgroup, priority, true)
}

func (t *Track) openGroup(seq GroupSequence, subgroup uint64, priority uint8, explicit bool) (*TrackGroupWriter, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ended {
		return nil, ErrClosed
	}
	return &TrackGroupWriter{t: t, seq: seq, subgroup: subgroup, priority: priority, explicit: explicit, gws: make(map[*TrackWriter]*GroupWriter)}, nil
}

// Close ends the track: History records the end, every subscription ends
// with PUBLISH_DONE (TRACK_ENDED), and later subscribers are answered and
// ended at once. Close the groups first: groups still open are reset.
func (t *Track) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ended {
		return nil
	}
	t.ended = true
	t.History.EndTrack()
	close(t.done)
	return nil
}

// TrackGroupWriter writes one subgroup of a Track to its history and to
// every subscriber. Its methods are safe for concurrent use.
type TrackGroupWriter struct {
	t        *Track
	seq      GroupSequence
	subgroup uint64
	priority uint8
	explicit bool // priority was given (OpenSubgroup), not the session default

	mu     sync.Mutex
	gws    map[*TrackWriter]*GroupWriter // nil: the subscriber does not take this group
	subs   []*TrackWriter                // scratch
	obj    Object                        // scratch for WriteFrame
	nextID uint64
	closed bool
}

// GroupSequence returns the Group ID.
func (g *TrackGroupWriter) GroupSequence() GroupSequence { return g.seq }

// WriteFrame writes f as the next object.
func (g *TrackGroupWriter) WriteFrame(f *Frame) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.obj = Object{ID: g.nextID, Frame: f}
	return g.writeLocked(&g.obj)
}

// WriteObject writes o; its ID must not be below the next Object ID.
func (g *TrackGroupWriter) WriteObject(o *Object) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if o.ID < g.nextID {
		return errors.New("moqt: object IDs must increase within a subgroup")
	}
	return g.writeLocked(o)
}

func (g *TrackGroupWriter) writeLocked(o *Object) error {
	if g.closed {
		return ErrClosed
	}
	t := g.t
	prio := g.priority
	if !g.explicit {
		prio = defaultPriority
	}
	rec := TrackObject{Group: g.seq, Subgroup: g.subgroup, PublisherPriority: prio, Object: *o}
	t.mu.Lock()
	if t.ended {
		t.mu.Unlock()
		return ErrClosed
	}
	t.History.Record(&rec)
	g.subs = g.subs[:0]
	for tw, first := range t.subs {
		if g.seq >= first {
			g.subs = append(g.subs, tw)
		}
	}
	t.mu.Unlock()
	g.nextID = o.ID + 1
	for i, tw := range g.subs {
		g.subs[i] = nil
		gw, seen := g.gws[tw]
		if !seen {
			gw = g.open(tw)
			g.gws[tw] = gw
		}
		if gw == nil {
			continue
		}
		if tw.paused() {
			// Forward = 0: stop sending this group to the subscriber.
			gw.CancelWrite(GroupErrorCancelled)
			g.gws[tw] = nil
			continue
		}
		if err := gw.WriteObject(o); err != nil {
			gw.CancelWrite(GroupErrorCancelled)
			g.gws[tw] = nil
		}
	}
	return nil
}

// open opens the group for a subscriber, or returns nil if the subscriber
// does not take it (out of range, paused, gone).
func (g *TrackGroupWriter) open(tw *TrackWriter) *GroupWriter {
	var gw *GroupWriter
	var err error
	switch {
	case g.explicit:
		gw, err = tw.OpenSubgroup(g.seq, g.subgroup, g.priority)
	case g.subgroup == 0:
		gw, err = tw.OpenGroup(g.seq)
	default:
		gw, err = tw.OpenSubgroup(g.seq, g.subgroup, tw.sess.cfg.DefaultPublisherPriority)
	}
	if err != nil {
		return nil
	}
	return gw
}

// Close ends the group for every subscriber.
func (g *TrackGroupWriter) Close() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return nil
	}
	g.closed = true
	for tw, gw := range g.gws {
		if gw != nil {
			gw.Close()
		}
		delete(g.gws, tw)
	}
	return nil
}

// Broadcast is a set of named Tracks served under one broadcast path: a
// TrackHandler, FetchHandler and TrackStatusHandler that routes by track
// name, refusing unknown names with TRACK_DOES_NOT_EXIST.
//
//	b := moqt.NewBroadcast()
//	video := b.AddTrack("video", nil)
//	mux.Publish(ctx, "/live/room1", b)
type Broadcast struct {
	mu     sync.Mutex
	tracks map[TrackName]*Track
}

// NewBroadcast returns an empty Broadcast.
func NewBroadcast() *Broadcast { return &Broadcast{tracks: make(map[TrackName]*Track)} }

// AddTrack adds a Track named name recording into h (nil: default limits)
// and returns it; it replaces (and closes) a track of the same name.
func (b *Broadcast) AddTrack(name TrackName, h *TrackHistory) *Track {
	t := NewTrack(h)
	b.mu.Lock()
	old := b.tracks[name]
	b.tracks[name] = t
	b.mu.Unlock()
	if old != nil {
		old.Close()
	}
	return t
}

// Track returns the track named name, or nil.
func (b *Broadcast) Track(name TrackName) *Track {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.tracks[name]
}

// ServeTrack serves a subscription from the named track.
func (b *Broadcast) ServeTrack(tw *TrackWriter) {
	if t := b.Track(tw.TrackName); t != nil {
		t.ServeTrack(tw)
		return
	}
	tw.CloseWithError(SubscribeErrorTrackDoesNotExist)
}

// ServeFetch answers a FETCH from the named track's history.
func (b *Broadcast) ServeFetch(fw *FetchWriter) {
	if t := b.Track(fw.TrackName); t != nil {
		t.ServeFetch(fw)
		return
	}
	fw.CloseWithError(SubscribeErrorTrackDoesNotExist)
}

// TrackStatus reports the named track's largest location.
func (b *Broadcast) TrackStatus(path BroadcastPath, name TrackName) (Info, error) {
	if t := b.Track(name); t != nil {
		return t.TrackStatus(path, name)
	}
	return Info{}, &SubscribeError{Code: SubscribeErrorTrackDoesNotExist, Reason: "no such track"}
}

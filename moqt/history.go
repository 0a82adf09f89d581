package moqt

import (
	"slices"
	"sync"
	"time"

	"github.com/moqgo/moqgo/internal/wire"
)

// Location is the place of an object in a track: its group and object ID
// (draft-14 §1.4.1). Locations order by group, then object.
type Location struct {
	Group  GroupSequence
	Object uint64
}

// Less reports whether l comes before o.
func (l Location) Less(o Location) bool {
	return l.Group < o.Group || (l.Group == o.Group && l.Object < o.Object)
}

func (l Location) wire() wire.Location {
	return wire.Location{Group: uint64(l.Group), Object: l.Object}
}

func locationOf(l wire.Location) Location {
	return Location{Group: GroupSequence(l.Group), Object: l.Object}
}

// TrackObject is an object with its place in the track: what a fetch stream
// carries and what a TrackHistory keeps.
type TrackObject struct {
	// Group and Subgroup are the object's group and subgroup IDs.
	Group    GroupSequence
	Subgroup uint64
	// PublisherPriority is the priority the object was published with.
	PublisherPriority uint8
	Object
}

// Location returns the object's location.
func (o *TrackObject) Location() Location { return Location{Group: o.Group, Object: o.ID} }

// Default TrackHistory limits.
const (
	DefaultHistoryGroups = 32
	DefaultHistoryBytes  = 8 << 20
)

// TrackHistory is a bounded, in-memory history of one track's recent
// objects: what a publisher (or a relay) answers FETCH and TRACK_STATUS
// from, and what a joining subscriber's "last N groups" come from.
//
// It keeps whole groups, oldest evicted first once any limit is exceeded.
// Objects are stored as given: the Frames (and Extensions) are shared with
// every subscriber and fetcher, never copied, so neither may be modified
// after Record (a Frame never is).
//
// Set the limits before the first Record; the zero value is ready to use
// with the defaults. All methods are safe for concurrent use.
type TrackHistory struct {
	// MaxGroups is how many groups are kept. Default DefaultHistoryGroups.
	MaxGroups int
	// MaxBytes bounds the payload bytes kept. The newest group is kept
	// even if it alone exceeds the limit. Default DefaultHistoryBytes.
	MaxBytes int
	// MaxAge, if set, drops groups whose first object was recorded longer
	// ago than this.
	MaxAge time.Duration

	now func() time.Time // the clock, for tests

	mu      sync.Mutex
	groups  []*historyGroup // ascending by sequence
	bytes   int
	largest Location
	content bool // largest is set
	ended   bool // the track ended after largest
}

type historyGroup struct {
	seq   GroupSequence
	added time.Time
	objs  []TrackObject // ascending by object ID
	bytes int
}

func (h *TrackHistory) clock() time.Time {
	if h.now != nil {
		return h.now()
	}
	return time.Now()
}

// Record adds o to the history. Objects may arrive in any order across
// groups and subgroups; a second object at the same location replaces the
// first. Recording an object of a group older than every group kept, once
// the history is full, is a no-op.
func (h *TrackHistory) Record(o *TrackObject) {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.clock()
	i, found := slices.BinarySearchFunc(h.groups, o.Group, func(g *historyGroup, seq GroupSequence) int {
		return cmpSeq(g.seq, seq)
	})
	if !found {
		if i == 0 && len(h.groups) >= h.maxGroups() {
			return
		}
		g := &historyGroup{seq: o.Group, added: now}
		if n := len(h.groups); n > 0 {
			// Groups tend to be alike: size the new one like the newest.
			g.objs = make([]TrackObject, 0, len(h.groups[n-1].objs))
		}
		h.groups = slices.Insert(h.groups, i, g)
	}
	g := h.groups[i]
	j, found := slices.BinarySearchFunc(g.objs, o.ID, func(x TrackObject, id uint64) int {
		return cmpSeq(x.ID, id)
	})
	n := o.Frame.Len()
	if found {
		n -= g.objs[j].Frame.Len()
		g.objs[j] = *o
	} else {
		g.objs = slices.Insert(g.objs, j, *o)
	}
	g.bytes += n
	h.bytes += n
	if !h.content || h.largest.Less(o.Location()) {
		h.largest, h.content = o.Location(), true
	}
	if o.Status == StatusEndOfTrack {
		h.ended = true
	}
	h.evictLocked(now)
}

func cmpSeq[T ~uint64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (h *TrackHistory) maxGroups() int {
	if h.MaxGroups > 0 {
		return h.MaxGroups
	}
	return DefaultHistoryGroups
}

func (h *TrackHistory) maxBytes() int {
	if h.MaxBytes > 0 {
		return h.MaxBytes
	}
	return DefaultHistoryBytes
}

// evictLocked drops the oldest groups while a limit is exceeded.
func (h *TrackHistory) evictLocked(now time.Time) {
	drop := 0
	bytes := h.bytes
	for drop < len(h.groups) {
		g := h.groups[drop]
		over := len(h.groups)-drop > h.maxGroups() ||
			(bytes > h.maxBytes() && drop < len(h.groups)-1) ||
			(h.MaxAge > 0 && now.Sub(g.added) > h.MaxAge)
		if !over {
			break
		}
		bytes -= g.bytes
		drop++
	}
	if drop > 0 {
		clear(h.groups[:drop])
		h.groups = h.groups[drop:]
		h.bytes = bytes
	}
}

// EndTrack records that the track ended after the largest object recorded
// (what FETCH_OK's End Of Track and a late subscriber learn).
func (h *TrackHistory) EndTrack() {
	h.mu.Lock()
	h.ended = true
	h.mu.Unlock()
}

// Largest returns the largest location ever recorded, and false if nothing
// was recorded yet. Eviction does not lower it.
func (h *TrackHistory) Largest() (Location, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.largest, h.content
}

// Ended reports whether the track ended (EndTrack, or an object with
// StatusEndOfTrack was recorded).
func (h *TrackHistory) Ended() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.ended
}

// Groups returns the sequences of the groups kept, oldest first.
func (h *TrackHistory) Groups() []GroupSequence {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.evictLocked(h.clock())
	out := make([]GroupSequence, len(h.groups))
	for i, g := range h.groups {
		out[i] = g.seq
	}
	return out
}

// Info returns what a SUBSCRIBE_OK or TRACK_STATUS_OK for the track says:
// ascending group order and the largest location.
func (h *TrackHistory) Info() Info {
	l, ok := h.Largest()
	return Info{GroupOrder: GroupOrderAscending, ContentExists: ok, LatestGroup: l.Group, LatestObject: l.Object}
}

// Range returns the objects kept from start through end, in the given group
// order (objects within a group always ascend). end is as in FetchConfig:
// End.Group is the last group; End.Object, if not zero, is one past the
// last object of that group. The Frames are shared, not copied.
func (h *TrackHistory) Range(start, end Location, order GroupOrder) []TrackObject {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.evictLocked(h.clock())
	var out []TrackObject
	add := func(g *historyGroup) {
		if g.seq < start.Group || g.seq > end.Group {
			return
		}
		for _, o := range g.objs {
			if g.seq == start.Group && o.ID < start.Object {
				continue
			}
			if g.seq == end.Group && end.Object != 0 && o.ID >= end.Object {
				break
			}
			out = append(out, o)
		}
	}
	if order == GroupOrderDescending {
		for i := len(h.groups) - 1; i >= 0; i-- {
			add(h.groups[i])
		}
	} else {
		for _, g := range h.groups {
			add(g)
		}
	}
	return out
}

// ServeFetch answers a FETCH from the history (it makes a TrackHistory a
// FetchHandler): FETCH_ERROR with INVALID_RANGE if the range starts after
// the largest object or nothing was published, NO_OBJECTS if no object of
// the range is kept; otherwise FETCH_OK and the objects in the requested
// order.
func (h *TrackHistory) ServeFetch(fw *FetchWriter) {
	cfg := fw.FetchConfig()
	largest, ok := h.Largest()
	if !ok || largest.Less(cfg.Start) || cfg.End.Less(cfg.Start) && !(cfg.End.Group == cfg.Start.Group && cfg.End.Object == 0) {
		fw.CloseWithError(FetchErrorInvalidRange)
		return
	}
	objs := h.Range(cfg.Start, cfg.End, cfg.GroupOrder)
	if len(objs) == 0 {
		fw.CloseWithError(FetchErrorNoObjects)
		return
	}
	info := FetchInfo{GroupOrder: cfg.GroupOrder, End: cfg.End}
	// A range beyond the largest object ends at it (draft-14 §9.17).
	beyond := Location{Group: largest.Group, Object: largest.Object + 1}
	if cfg.End.Group > largest.Group || (cfg.End.Group == largest.Group && (cfg.End.Object == 0 || beyond.Object < cfg.End.Object)) {
		info.End = beyond
		info.EndOfTrack = h.Ended()
	}
	if err := fw.WriteInfo(info); err != nil {
		return
	}
	for i := range objs {
		if err := fw.WriteObject(&objs[i]); err != nil {
			return
		}
	}
	fw.Close()
}

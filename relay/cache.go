package relay

import (
	"sync"
	"time"

	"github.com/moqgo/moqgo/moqt"
)

// group is one group of a track as the relay holds it: the subgroups
// received so far. The objects are shared by every subscriber; nothing is
// copied per subscriber.
type group struct {
	seq     moqt.GroupSequence
	created time.Time

	// Guarded by the track's mutex.
	subgroups []*subgroup
	bytes     int64 // payload bytes counted against the cache
	evicted   bool  // no longer cached: late joiners do not get it
	gone      bool  // dropped for memory: no longer received nor sent
}

// entry is one cached object and when the relay received it.
type entry struct {
	obj *moqt.Object
	at  time.Time
}

// subgroup is one subgroup stream of a group: an append-only list of
// objects that the subscribers' senders read at their own pace.
type subgroup struct {
	g        *group
	id       uint64
	priority uint8
	datagram bool // forwarded with OpenDatagramGroup

	mu      sync.Mutex
	objs    []*moqt.Object // received so far; append-only, so a view stays valid
	ats     []time.Time    // when each of objs was received
	done    bool
	err     error         // why the upstream stream ended early, if it did
	wake    chan struct{} // closed when objs grows or the subgroup ends
	waiting bool          // someone holds wake
	gone    bool          // evicted: stop storing, senders abandon it
}

func newSubgroup(g *group, id uint64, priority uint8) *subgroup {
	return &subgroup{g: g, id: id, priority: priority, wake: make(chan struct{})}
}

// append adds an object and wakes the senders waiting for it. It reports
// false once the subgroup was evicted.
func (sg *subgroup) append(o *moqt.Object, at time.Time) bool {
	sg.mu.Lock()
	if sg.gone {
		sg.mu.Unlock()
		return false
	}
	sg.objs = append(sg.objs, o)
	sg.ats = append(sg.ats, at)
	sg.signalLocked()
	sg.mu.Unlock()
	return true
}

// finish marks the end of the subgroup: err is nil for a normal end (FIN).
func (sg *subgroup) finish(err error) {
	sg.mu.Lock()
	if !sg.done {
		sg.done, sg.err = true, err
		sg.signalLocked()
	}
	sg.mu.Unlock()
}

// evict drops the subgroup's objects from the cache: senders still on it
// abandon it.
func (sg *subgroup) evict() {
	sg.mu.Lock()
	sg.gone = true
	sg.objs, sg.ats = nil, nil
	sg.signalLocked()
	sg.mu.Unlock()
}

func (sg *subgroup) signalLocked() {
	if sg.waiting {
		close(sg.wake)
		sg.wake = make(chan struct{})
		sg.waiting = false
	}
}

// cursor is what a sender learns from subgroup.next.
type cursor struct {
	objs []*moqt.Object // the objects received from the asked-for one on
	at   time.Time      // when the first of objs was received
	done bool           // no object will follow objs
	gone bool           // the subgroup was evicted
	err  error          // why the upstream subgroup ended early, if done
	wake chan struct{}  // closed when there is news, if objs is empty and not done
}

// next returns the objects received from object i on, and whether the
// subgroup ended after them; with none, it returns a channel closed when
// there is news. The objects are a view of the cache: appends never move
// the ones already there, so a sender writes them without holding sg.mu.
func (sg *subgroup) next(i int) cursor {
	sg.mu.Lock()
	defer sg.mu.Unlock()
	switch {
	case sg.gone:
		return cursor{done: true, gone: true}
	case i < len(sg.objs):
		return cursor{objs: sg.objs[i:len(sg.objs):len(sg.objs)], at: sg.ats[i], done: sg.done, err: sg.err}
	case sg.done:
		return cursor{done: true, err: sg.err}
	}
	sg.waiting = true
	return cursor{wake: sg.wake}
}

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
	objs    []entry
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
	sg.objs = append(sg.objs, entry{obj: o, at: at})
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
	sg.objs = nil
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
	e    entry         // the object, if ok
	ok   bool          // the object was received
	done bool          // no object will follow
	gone bool          // the subgroup was evicted
	err  error         // why the upstream subgroup ended early, if done
	wake chan struct{} // closed when there is news, if neither ok nor done
}

// next returns object i if it was received. Otherwise it reports whether
// the subgroup ended, or returns a channel closed when there is news.
func (sg *subgroup) next(i int) cursor {
	sg.mu.Lock()
	defer sg.mu.Unlock()
	switch {
	case sg.gone:
		return cursor{done: true, gone: true}
	case i < len(sg.objs):
		return cursor{e: sg.objs[i], ok: true}
	case sg.done:
		return cursor{done: true, err: sg.err}
	}
	sg.waiting = true
	return cursor{wake: sg.wake}
}

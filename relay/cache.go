package relay

import (
	"slices"
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

	// parked are the senders that caught up with objs and wait for news
	// without a goroutine (sender.forward); spare is the slice the last
	// resume used, kept to take the next list without allocating.
	parked, spare []*sender

	// runs are objs encoded once for every subscriber's stream
	// (moqt.ObjectRun), in order; runs[i] holds objects from runStart[i]
	// on. enc encodes them; nil once a run could not be encoded (the
	// senders then write the objects themselves), and for a datagram
	// subgroup.
	runs     []*moqt.ObjectRun
	runStart []int
	enc      *moqt.RunEncoder
}

func newSubgroup(g *group, id uint64, priority uint8) *subgroup {
	return &subgroup{g: g, id: id, priority: priority, wake: make(chan struct{})}
}

// encode encodes a batch of objects about to be added as one run, before
// they are shared (moqt.RunEncoder.Encode gives the copied payloads Frames
// over the run's bytes). Called only by the subgroup's reader; nil if
// there is no run for them.
func (sg *subgroup) encode(objs []*moqt.Object) *moqt.ObjectRun {
	if sg.enc == nil {
		return nil
	}
	r, err := sg.enc.Encode(objs)
	if err != nil {
		sg.enc = nil // the senders write objects from here on
		return nil
	}
	return r
}

// addBatch adds objs, received at at, and r, their run if not nil, without
// running the parked senders: the caller calls wakeParked once the batch
// is in, so that each parked sender forwards it in one write. It reports
// false once the subgroup was evicted.
func (sg *subgroup) addBatch(objs []*moqt.Object, at time.Time, r *moqt.ObjectRun) bool {
	sg.mu.Lock()
	defer sg.mu.Unlock()
	if sg.gone {
		return false
	}
	if r != nil {
		sg.runs = append(sg.runs, r)
		sg.runStart = append(sg.runStart, len(sg.objs))
	}
	for _, o := range objs {
		sg.objs = append(sg.objs, o)
		sg.ats = append(sg.ats, at)
	}
	sg.signalLocked()
	return true
}

// runAtLocked returns the run that starts at object i, if there is one.
func (sg *subgroup) runAtLocked(i int) *moqt.ObjectRun {
	if k, ok := slices.BinarySearch(sg.runStart, i); ok {
		return sg.runs[k]
	}
	return nil
}

// wakeParked runs the parked senders (resume).
func (sg *subgroup) wakeParked() {
	sg.mu.Lock()
	ps := sg.takeParkedLocked()
	sg.mu.Unlock()
	sg.resume(ps)
}

// finish marks the end of the subgroup: err is nil for a normal end (FIN).
func (sg *subgroup) finish(err error) {
	sg.mu.Lock()
	var ps []*sender
	if !sg.done {
		sg.done, sg.err = true, err
		sg.signalLocked()
		ps = sg.takeParkedLocked()
	}
	sg.mu.Unlock()
	sg.resume(ps)
}

// evict drops the subgroup's objects from the cache: senders still on it
// abandon it.
func (sg *subgroup) evict() {
	sg.mu.Lock()
	sg.gone = true
	sg.objs, sg.ats = nil, nil
	sg.runs, sg.runStart = nil, nil
	sg.signalLocked()
	ps := sg.takeParkedLocked()
	sg.mu.Unlock()
	sg.resume(ps)
}

// takeParkedLocked empties the list of parked senders and returns it, for
// resume to run after sg.mu is released.
func (sg *subgroup) takeParkedLocked() []*sender {
	ps := sg.parked
	if len(ps) == 0 {
		return nil
	}
	sg.parked, sg.spare = sg.spare[:0], nil
	return ps
}

// resume runs the parked senders ps on the caller's goroutine (the
// upstream reader's) until each has forwarded what there is to forward
// and parked again, or handed itself to a goroutine of its own
// (sender.forward); then keeps ps for the next take.
func (sg *subgroup) resume(ps []*sender) {
	if len(ps) == 0 {
		return
	}
	for _, snd := range ps {
		snd.forward(false)
	}
	clear(ps)
	sg.mu.Lock()
	if sg.spare == nil {
		sg.spare = ps[:0]
	}
	sg.mu.Unlock()
}

// nextOrPark is next for a sender that parks instead of waiting: with
// nothing to forward from object i on, it adds snd to the parked senders
// (unless snd was abandoned) and reports parked. snd.cancelled is read
// under sg.mu, which cancel takes after setting it, so a sender abandoned
// while it parks is either refused here or found by unpark.
func (sg *subgroup) nextOrPark(snd *sender, i int) (c cursor, parked bool) {
	sg.mu.Lock()
	defer sg.mu.Unlock()
	switch {
	case sg.gone:
		return cursor{done: true, gone: true}, false
	case i < len(sg.objs):
		return cursor{run: sg.runAtLocked(i), objs: sg.objs[i:len(sg.objs):len(sg.objs)], at: sg.ats[i], done: sg.done, err: sg.err}, false
	case sg.done:
		return cursor{done: true, err: sg.err}, false
	case snd.cancelled.Load():
		return cursor{}, false
	}
	sg.parked = append(sg.parked, snd)
	return cursor{}, true
}

// unpark removes snd from the parked senders; it reports whether snd was
// there, in which case the caller now runs it.
func (sg *subgroup) unpark(snd *sender) bool {
	sg.mu.Lock()
	defer sg.mu.Unlock()
	for i, p := range sg.parked {
		if p == snd {
			last := len(sg.parked) - 1
			sg.parked[i] = sg.parked[last]
			sg.parked[last] = nil
			sg.parked = sg.parked[:last]
			return true
		}
	}
	return false
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
	run  *moqt.ObjectRun // the run of the objects from the asked-for one on, if one starts there
	objs []*moqt.Object  // the objects received from the asked-for one on
	at   time.Time       // when the first of objs was received
	done bool            // no object will follow objs
	gone bool            // the subgroup was evicted
	err  error           // why the upstream subgroup ended early, if done
	wake chan struct{}   // closed when there is news, if objs is empty and not done
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

package moqt

import "sync"

// groupQueue holds the groups received for a subscription until
// TrackReader.AcceptGroup takes them, in the order they were pushed.
//
// It is a slice under a mutex rather than a channel so that the accept
// loop never blocks and never needs a goroutine to wait for room: a
// subscriber that falls behind leaves streams queued here, and each of them
// keeps its transport stream credit (a QUIC stream counts against the
// peer's stream limit until it is read to its end), so the transport's
// stream limit, not this queue, is what stops the publisher. Waking the
// reader costs one channel send, and only when a reader is waiting: a busy
// reader takes queued groups without any hand-off at all.
type groupQueue struct {
	mu      sync.Mutex
	q       []*GroupReader
	head    int
	waiters int           // AcceptGroup calls blocked in wait
	closed  bool          // TrackReader.Close ran: push refuses
	wake    chan struct{} // capacity 1: a waiter may look again
}

func newGroupQueue() groupQueue { return groupQueue{wake: make(chan struct{}, 1)} }

// push appends gr unless the queue was closed or already holds limit
// groups (limit 0: no limit). It reports whether gr was queued.
func (q *groupQueue) push(gr *GroupReader, limit int) bool {
	q.mu.Lock()
	if q.closed || (limit > 0 && len(q.q)-q.head >= limit) {
		q.mu.Unlock()
		return false
	}
	if q.head > 0 && len(q.q) == cap(q.q) {
		// Slide the live part down instead of growing.
		n := copy(q.q, q.q[q.head:])
		clear(q.q[n:])
		q.q, q.head = q.q[:n], 0
	}
	q.q = append(q.q, gr)
	wake := q.waiters > 0
	q.mu.Unlock()
	if wake {
		q.signal()
	}
	return true
}

// pop takes the oldest group, or returns nil if there is none. A caller
// that gets nil and wants to wait calls pop with wait set, which registers
// it as a waiter (undone by unwait) under the same lock, so that no push
// can slip between the look and the registration.
func (q *groupQueue) pop(wait bool) *GroupReader {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.head == len(q.q) {
		if wait {
			q.waiters++
		}
		return nil
	}
	gr := q.q[q.head]
	q.q[q.head] = nil
	q.head++
	if q.head == len(q.q) {
		q.q, q.head = q.q[:0], 0
	} else if q.waiters > 0 {
		// More groups and another reader waiting: pass the wake-up on,
		// since push sends at most one while the channel is full.
		q.signal()
	}
	return gr
}

// unwait ends a wait registered by pop.
func (q *groupQueue) unwait() {
	q.mu.Lock()
	q.waiters--
	q.mu.Unlock()
}

func (q *groupQueue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// close makes push refuse further groups and returns the queued ones.
func (q *groupQueue) close() []*GroupReader {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	rest := q.q[q.head:]
	q.q, q.head = nil, 0
	return rest
}

package relay

import (
	"context"
	"errors"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/moqgo/moqgo/moqt"
)

// errEvicted ends an upstream subgroup whose group left the cache.
var errEvicted = errors.New("relay: group evicted from the cache")

// subscriber is one downstream subscription to a track. It holds no queue
// of its own: each in-flight subgroup has a sender reading the shared cache
// at the subscriber's pace, so a slow subscriber costs cursors, not copies,
// and never slows the publisher or the other subscribers.
type subscriber struct {
	t  *track
	tw *moqt.TrackWriter

	mu        sync.Mutex
	floor     moqt.GroupSequence // groups below are not sent
	end       moqt.GroupSequence // last group of an absolute range
	ranged    bool
	paused    bool
	priority  uint8         // the subscriber priority it asked for
	timeout   time.Duration // the subscriber's delivery timeout
	flights   []*flight     // groups in flight, in offer order
	dying     []*flight     // abandoned groups whose senders did not stop yet
	closed    bool
	rangeDone bool
	endErr    error
	trackDone bool
	finished  chan struct{} // closed when the subscription should end
	onFinish  func()        // called (under mu) as finished closes: relay.go serveDetached
	accepted  chan struct{} // closed once SUBSCRIBE_OK was sent
	toOpen    []*sender     // senders whose stream is not open yet, in offer order
	opening   bool          // openLoop runs: toOpen is its work
	wg        sync.WaitGroup
}

// flight is a group in flight to one subscriber.
type flight struct {
	seq     moqt.GroupSequence
	senders []*sender
	active  int
}

func newSubscriber(t *track, tw *moqt.TrackWriter) *subscriber {
	s := &subscriber{t: t, tw: tw, finished: make(chan struct{}), accepted: make(chan struct{})}
	s.configure()
	return s
}

// configure reads the subscriber's current TrackConfig.
func (s *subscriber) configure() {
	c := s.tw.TrackConfig()
	s.mu.Lock()
	s.paused = c.Paused
	s.priority = c.Priority
	s.timeout = c.DeliveryTimeout
	if c.Filter == moqt.FilterAbsoluteRange {
		s.ranged, s.end = true, c.EndGroup
	}
	s.mu.Unlock()
}

// setStart places the subscriber's first group per its filter, given the
// newest cached group: a late joiner starts at a group boundary.
func (s *subscriber) setStart(newest *group) {
	c := s.tw.TrackConfig()
	s.mu.Lock()
	defer s.mu.Unlock()
	switch c.Filter {
	case moqt.FilterAbsoluteStart, moqt.FilterAbsoluteRange:
		s.floor = c.StartGroup
	case moqt.FilterNextGroupStart:
		if newest != nil {
			s.floor = newest.seq + 1
		}
	default: // latest object: from the start of the current group
		if newest != nil {
			s.floor = newest.seq
		}
	}
}

// offer hands the subscriber a new subgroup: it starts a sender for it if
// the subscriber's filter admits its group, abandoning the oldest group in
// flight when the backlog is full.
func (s *subscriber) offer(sg *subgroup) {
	seq := sg.g.seq
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.paused || seq < s.floor {
		return
	}
	if s.ranged && seq > s.end {
		s.rangeDone = true
		s.checkDoneLocked()
		return
	}
	var f *flight
	for _, x := range s.flights {
		if x.seq == seq {
			f = x
			break
		}
	}
	if f == nil {
		max := s.t.r.cfg.MaxBacklogGroups
		f = &flight{seq: seq}
		s.flights = append(s.flights, f)
		for len(s.flights) > max {
			i := s.victimLocked()
			if s.flights[i] == f {
				s.flights = s.flights[:len(s.flights)-1]
				s.t.r.stats.skips.Add(1)
				return
			}
			s.skipLocked(i)
		}
		// Abandoned senders may still be blocked opening their stream (the
		// subscriber does not even accept streams): start no more until
		// they are gone.
		if len(s.dying) > max {
			s.flights = s.flights[:len(s.flights)-1]
			s.t.r.stats.skips.Add(1)
			return
		}
	}
	snd := &sender{s: s, f: f, sg: sg}
	f.senders = append(f.senders, snd)
	f.active++
	s.wg.Add(1)
	s.toOpen = append(s.toOpen, snd)
	if !s.opening {
		s.opening = true
		s.wg.Add(1)
		go s.openLoop()
	}
}

// openLoop opens the streams of the senders offered, one after another in
// the order they were offered (the upstream order), and has each forward
// what there is; it ends once none is left to open, so that an idle
// subscriber runs no goroutine. One goroutine per subscriber rather than
// one per group: opening a stream may wait (for the transport's stream
// limit), and the streams must open in order anyway.
func (s *subscriber) openLoop() {
	defer s.wg.Done()
	for {
		s.mu.Lock()
		if len(s.toOpen) == 0 {
			s.opening = false
			s.toOpen = nil
			s.mu.Unlock()
			return
		}
		snd := s.toOpen[0]
		s.toOpen[0] = nil
		s.toOpen = s.toOpen[1:]
		s.mu.Unlock()
		snd.start()
	}
}

// victimLocked picks the flight to abandon when the backlog is full: the
// oldest group of which nothing was sent yet (the newest one, just
// offered, included), so that the group in progress is finished rather
// than cut and no sent byte is wasted; else, every group having begun
// (several subgroups, or the newest first), the oldest.
func (s *subscriber) victimLocked() int {
	oldest, unsent := 0, -1
	for i, x := range s.flights {
		if x.seq < s.flights[oldest].seq {
			oldest = i
		}
		if (unsent < 0 || x.seq < s.flights[unsent].seq) && x.unsent() {
			unsent = i
		}
	}
	if unsent >= 0 {
		return unsent
	}
	return oldest
}

// unsent reports whether none of f's streams has sent anything.
func (f *flight) unsent() bool {
	for _, snd := range f.senders {
		snd.mu.Lock()
		gw := snd.gw
		snd.mu.Unlock()
		if gw != nil && !gw.Unsent() {
			return false
		}
	}
	return true
}

// skipLocked abandons flight i: its streams are reset and no older group
// is started afterwards.
func (s *subscriber) skipLocked(i int) {
	f := s.flights[i]
	s.flights = append(s.flights[:i], s.flights[i+1:]...)
	s.dying = append(s.dying, f)
	for _, snd := range f.senders {
		snd.cancel()
	}
	if f.seq >= s.floor {
		s.floor = f.seq + 1
	}
	s.t.r.stats.skips.Add(1)
	s.t.r.log.Debug("group skipped: backlog full", "path", s.t.key.path, "track", s.t.key.name, "group", f.seq)
}

func (s *subscriber) senderDone(snd *sender) {
	s.mu.Lock()
	f := snd.f
	f.active--
	if f.active == 0 {
		s.flights = remove(s.flights, f)
		s.dying = remove(s.dying, f)
	}
	s.checkDoneLocked()
	s.mu.Unlock()
	s.wg.Done()
}

func remove(fs []*flight, f *flight) []*flight {
	for i, x := range fs {
		if x == f {
			return append(fs[:i], fs[i+1:]...)
		}
	}
	return fs
}

func (s *subscriber) checkDoneLocked() {
	if s.rangeDone && len(s.flights) == 0 {
		s.finishLocked()
	}
}

func (s *subscriber) finishLocked() {
	select {
	case <-s.finished:
	default:
		close(s.finished)
		if s.onFinish != nil {
			s.onFinish()
		}
	}
}

// trackEnded tells the subscriber the upstream track ended with err.
func (s *subscriber) trackEnded(err error) {
	s.mu.Lock()
	s.trackDone, s.endErr = true, err
	s.finishLocked()
	s.mu.Unlock()
}

// stop abandons every group in flight and waits for the senders.
func (s *subscriber) stop() {
	s.mu.Lock()
	s.closed = true
	for _, f := range s.flights {
		for _, snd := range f.senders {
			snd.cancel()
		}
	}
	s.flights = nil
	s.mu.Unlock()
	s.wg.Wait()
}

// drain waits for the groups in flight to be delivered, or for ctx.
func (s *subscriber) drain(ctx context.Context) {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		s.stop()
		<-done
	}
}

// sender writes one cached subgroup to one subscriber, object by object,
// as the publisher's objects arrive.
//
// Its stream is opened on the subscriber's openLoop. A sender has a
// goroutine of its own only while it may have to wait: for room in the
// subscriber's send buffer, for the end of its group to be sent, or for a
// datagram to go out. Once it has caught up with the objects received it
// parks on its subgroup without a goroutine, and the upstream reader that
// appends the next batch runs it (forward) on its own goroutine: the batch
// is queued for each caught-up subscriber with a write that never waits
// (GroupWriter.TryWriteRun, or TryWriteObjects), so a publisher's object
// costs no goroutine hand-off per subscriber. A subscriber whose buffer is
// full gets its goroutine back and waits there, alone.
type sender struct {
	s  *subscriber
	f  *flight
	sg *subgroup

	cancelled atomic.Bool
	closed    atomic.Bool // the subgroup is finished: awaitSent waits for it to go out
	mu        sync.Mutex
	gw        *moqt.GroupWriter
	goneCh    chan struct{}              // closed once cancelled; made on demand (gone)
	isGone    bool                       // cancel ran: goneCh is closed as it is made
	timer     atomic.Pointer[time.Timer] // bounds awaitSent's wait
	finished  atomic.Bool                // sent ran: the subgroup went out or was reset

	// Owned by whoever runs the sender (its goroutine, or the goroutine
	// that resumed it), one at a time.
	next                int  // index of the next object to forward
	noRuns              bool // write objects, not the subgroup's runs
	timeout, stall      time.Duration
	sentObjs, sentBytes int64 // counted, not yet added to the stats
}

// cancel abandons the subgroup, unblocking a write in progress.
func (snd *sender) cancel() {
	if snd.cancelled.Swap(true) {
		return
	}
	snd.mu.Lock()
	snd.isGone = true
	if snd.goneCh != nil {
		close(snd.goneCh)
	}
	gw := snd.gw
	snd.mu.Unlock()
	if gw != nil {
		_ = gw.SetWriteDeadline(time.Now())
		if snd.closed.Load() { // drop what the scheduler still holds
			gw.CancelWrite(moqt.GroupErrorCancelled)
		}
	}
	// A parked sender has nobody to notice: whoever unparks it runs it.
	// Not on this goroutine, which may hold the subscriber's lock.
	if snd.sg.unpark(snd) {
		go snd.abandon()
	}
}

// awaitSent keeps the finished subgroup in flight until moqt's priority
// scheduler has handed all of it to the transport, so that the backlog
// MaxBacklogGroups bounds includes what the scheduler holds for this
// subscriber: a subscriber too slow for the track then sees its oldest
// groups skipped, instead of their data piling up in the scheduler. It
// does not wait: the sender ends (sent) when the scheduler reports the
// group sent or reset, so a finished group costs at most a timer (none if
// it was sent by the time it ended), not a goroutine.
// The wait is bounded like a write (the delivery timeout or StallTimeout);
// past it, or when the group is abandoned, its stream is reset.
func (snd *sender) awaitSent() {
	wait := snd.stall
	if snd.timeout > 0 {
		wait = snd.timeout
	}
	snd.closed.Store(true)
	if snd.cancelled.Load() { // cancel may have missed closed
		snd.gw.CancelWrite(moqt.GroupErrorCancelled)
	}
	snd.gw.AfterSent(snd.sent)
	if snd.finished.Load() {
		return // sent already (a live group usually is): no timer
	}
	t := time.AfterFunc(wait, snd.sentLate)
	snd.timer.Store(t)
	if snd.finished.Load() { // sent meanwhile, maybe before t was stored
		t.Stop()
	}
}

// sentLate resets a finished subgroup the scheduler still holds past the
// wait awaitSent allows; once it is sent in full, that does nothing.
func (snd *sender) sentLate() { snd.gw.CancelWrite(moqt.GroupErrorDeliveryTimeout) }

// sent ends a finished sender once its subgroup was sent in full (err nil)
// or reset.
func (snd *sender) sent(err error) {
	snd.finished.Store(true)
	if t := snd.timer.Load(); t != nil {
		t.Stop()
	}
	var ge *moqt.GroupError
	if errors.As(err, &ge) && ge.Code == moqt.GroupErrorDeliveryTimeout && !snd.cancelled.Load() {
		snd.s.t.r.stats.skips.Add(1)
		snd.s.t.r.log.Debug("group skipped: not sent in time", "path", snd.s.t.key.path, "track", snd.s.t.key.name, "group", snd.sg.g.seq)
	}
	snd.done()
}

// flush adds the objects and bytes sent to the relay's counters: one
// atomic add per object and subscriber would contend at large fan-outs.
func (snd *sender) flush() {
	st := &snd.s.t.r.stats
	st.objectsOut.Add(snd.sentObjs)
	st.bytesOut.Add(snd.sentBytes)
	snd.sentObjs, snd.sentBytes = 0, 0
}

// abandon resets the sender's stream and ends the sender.
func (snd *sender) abandon() {
	snd.gw.CancelWrite(moqt.GroupErrorCancelled)
	snd.done()
}

// done ends the sender, once, by whoever runs it.
func (snd *sender) done() {
	snd.flush()
	snd.s.senderDone(snd)
}

// gone returns a channel closed once the sender is cancelled, for the
// few waits that need one: a channel per sender made up front would cost
// an allocation per group and subscriber.
func (snd *sender) gone() <-chan struct{} {
	snd.mu.Lock()
	defer snd.mu.Unlock()
	if snd.goneCh == nil {
		snd.goneCh = make(chan struct{})
		if snd.isGone {
			close(snd.goneCh)
		}
	}
	return snd.goneCh
}

// start opens the sender's stream, on its subscriber's openLoop, once
// the subscription is accepted, and forwards what there is without
// waiting (forward): a sender that has to wait moves to a goroutine of
// its own, so the next group's stream opens meanwhile.
func (snd *sender) start() {
	s, sg := snd.s, snd.sg
	select {
	case <-s.accepted:
	default: // SUBSCRIBE_OK not sent yet: wait for it
		select {
		case <-s.accepted:
		case <-snd.gone():
			snd.done()
			return
		}
	}
	if snd.cancelled.Load() {
		snd.done()
		return
	}
	var gw *moqt.GroupWriter
	var err error
	if sg.datagram { // forwarded as it came
		gw, err = s.tw.OpenDatagramGroup(sg.g.seq)
	} else {
		gw, err = s.tw.OpenSubgroup(sg.g.seq, sg.id, sg.priority)
	}
	if err != nil {
		s.t.r.log.Debug("open subgroup failed", "group", sg.g.seq, "subgroup", sg.id, "err", err)
		snd.done()
		return
	}
	snd.mu.Lock()
	snd.gw = gw
	snd.mu.Unlock()
	s.mu.Lock()
	snd.timeout = s.timeout
	s.mu.Unlock()
	snd.stall = s.t.r.cfg.StallTimeout
	if sg.datagram { // datagram writes may wait: a goroutine of its own
		go snd.forward(true)
		return
	}
	snd.forward(false)
}

// forward writes the objects received and not yet sent, on the sender's
// own goroutine (own) or on the upstream reader's that resumed it. It
// returns once the sender is done, parked (caught up: the next append
// resumes it), or, if not own, handed to a goroutine of its own because
// it has to wait.
func (snd *sender) forward(own bool) {
	sg, gw := snd.sg, snd.gw
	st := &snd.s.t.r.stats
	for {
		var c cursor
		if sg.datagram {
			c = sg.next(snd.next)
		} else {
			var parked bool
			if c, parked = sg.nextOrPark(snd, snd.next); parked {
				return // the next append, finish or evict resumes it
			}
		}
		if objs := c.objs; len(objs) > 0 {
			if sg.datagram { // one at a time: the upstream's End of Group is not forwarded
				objs = objs[:1]
				if objs[0].Status == moqt.StatusEndOfGroup {
					snd.next++ // gw.Close sends the relay's own, once
					continue
				}
			}
			if snd.cancelled.Load() {
				snd.abandon()
				return
			}
			var n int
			var err error
			if own {
				// Everything that arrived since the last write goes out in
				// one batch: one deadline, one lock, fuller packets.
				deadline := time.Now().Add(snd.stall)
				if snd.timeout > 0 {
					deadline = c.at.Add(snd.timeout)
				}
				_ = gw.SetWriteDeadline(deadline)
			}
			if r := c.run; r != nil && !snd.noRuns {
				// Encoded once for every subscriber: queued by reference.
				objs = objs[:r.Len()]
				if own {
					err = gw.WriteRun(r)
				} else {
					err = gw.TryWriteRun(r)
				}
				if err == nil {
					n = len(objs)
				} else if errors.Is(err, moqt.ErrRunMismatch) {
					snd.noRuns = true // cannot happen; the objects still can
					continue
				}
			} else if own {
				n, err = gw.WriteObjects(objs)
			} else {
				n, err = gw.TryWriteObjects(objs)
			}
			for _, o := range objs[:n] {
				snd.sentBytes += int64(o.Frame.Len())
			}
			snd.sentObjs += int64(n)
			if snd.sentObjs >= 8 {
				snd.flush()
			}
			snd.next += n
			if err == moqt.ErrWouldBlock {
				go snd.forward(true) // waits for room there
				return
			}
			if err != nil {
				code := moqt.GroupErrorCancelled
				if errors.Is(err, os.ErrDeadlineExceeded) && !snd.cancelled.Load() {
					code = moqt.GroupErrorDeliveryTimeout
					st.skips.Add(1)
					snd.s.t.r.log.Debug("group skipped: write stalled", "path", snd.s.t.key.path, "track", snd.s.t.key.name, "group", sg.g.seq)
				}
				gw.CancelWrite(code)
				snd.done()
				return
			}
			continue
		}
		if c.done {
			if !own && snd.next == 0 {
				// Close writes the subgroup header, which may wait for
				// buffer space; once an object was written it never waits.
				go snd.end(c)
				return
			}
			snd.end(c)
			return
		}
		if !sg.datagram { // not parked: abandoned
			snd.abandon()
			return
		}
		// Datagram writes may wait in the transport: this sender keeps
		// its goroutine and waits for news.
		select {
		case <-c.wake:
		case <-snd.gone():
			snd.abandon()
			return
		}
	}
}

// end finishes the subgroup as the upstream one ended (c) and ends the
// sender.
func (snd *sender) end(c cursor) {
	gw := snd.gw
	st := &snd.s.t.r.stats
	var ge *moqt.GroupError
	switch {
	case c.gone:
		st.drops.Add(1)
		gw.CancelWrite(moqt.GroupErrorCancelled)
	case errors.As(c.err, &ge):
		gw.CancelWrite(ge.Code)
	case c.err != nil:
		gw.CancelWrite(moqt.GroupErrorInternal)
	case snd.cancelled.Load():
		gw.CancelWrite(moqt.GroupErrorCancelled)
	default:
		_ = gw.SetWriteDeadline(time.Now().Add(snd.stall))
		if gw.Close() == nil {
			snd.awaitSent() // ends the sender once sent
			return
		}
	}
	snd.done()
}

package moqt

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/moqgo/moqgo/internal/wire"
)

// TrackWriter is the publisher's side of one subscription, handed to a
// TrackHandler. The first OpenGroup (or WriteInfo) accepts the subscription
// with SUBSCRIBE_OK; Close ends it with PUBLISH_DONE; CloseWithError before
// acceptance refuses it with SUBSCRIBE_ERROR.
type TrackWriter struct {
	// BroadcastPath and TrackName name the requested track.
	BroadcastPath BroadcastPath
	TrackName     TrackName

	sess  *Session
	id    uint64
	alias uint64

	pause    atomic.Bool // config.Paused, read by every GroupWriter write
	mu       sync.Mutex
	config   TrackConfig
	infoSent bool
	closed   bool
	streams  uint64
	updated  chan struct{}
	groups   map[*GroupWriter]struct{} // open groups, reset if the subscription ends
	sched    *schedTrack               // the scheduler's state of the subscription, once known
	info     Info                      // what SUBSCRIBE_OK (or PUBLISH) said
	start    Location                  // the subscription's start, once known

	joinFilter FilterType    // the SUBSCRIBE's filter, which joining FETCH checks
	outgoing   bool          // a subscription we initiated with PUBLISH
	ready      chan struct{} // PUBLISH: closed on PUBLISH_OK or PUBLISH_ERROR
	setupErr   error         // PUBLISH: the PUBLISH_ERROR
	detached   bool          // Detach: ServeTrack returning does not close it
	onUpdate   func()        // Detach: called on SUBSCRIBE_UPDATE

	ctx    context.Context
	cancel context.CancelCauseFunc
}

// ErrPaused is returned by OpenGroup and OpenSubgroup, and by the writes of
// groups opened before, while the subscriber has paused the subscription
// (TrackConfig.Paused, Forward = 0): nothing is sent until it resumes,
// which Updated reports. A group whose write failed with ErrPaused stays
// open; writes after the resume continue it (the objects not sent are
// missing, as Object IDs may skip), or the handler cancels it with
// CancelWrite, as Track does.
var ErrPaused = errors.New("moqt: subscription paused by the subscriber")

// errUnsubscribed is the cause of a TrackWriter's context after UNSUBSCRIBE.
var errUnsubscribed = errors.New("moqt: unsubscribed by the subscriber")

// Context returns a context canceled when the subscription ends: the
// subscriber unsubscribed, the track was closed, or the session ended.
func (tw *TrackWriter) Context() context.Context { return tw.ctx }

// SubscribeID returns the Request ID of the subscriber's SUBSCRIBE.
func (tw *TrackWriter) SubscribeID() SubscribeID { return SubscribeID(tw.id) }

// TrackConfig returns a copy of what the subscriber currently asks for.
func (tw *TrackWriter) TrackConfig() *TrackConfig {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	c := tw.config
	return &c
}

// paused reports whether the subscriber asked not to be sent objects.
func (tw *TrackWriter) paused() bool { return tw.pause.Load() }

// Updated returns a channel that receives a value when the subscriber
// changes the subscription (SUBSCRIBE_UPDATE); read TrackConfig then.
func (tw *TrackWriter) Updated() <-chan struct{} { return tw.updated }

// WriteInfo accepts the subscription, sending info in SUBSCRIBE_OK. It may
// be called once, before the first OpenGroup; without it OpenGroup sends a
// zero Info.
func (tw *TrackWriter) WriteInfo(info Info) error {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	if tw.closed {
		return ErrClosed
	}
	if tw.infoSent {
		return errors.New("moqt: WriteInfo called twice")
	}
	return tw.writeInfoLocked(info)
}

// schedConfig is the subscription's config as the send scheduler applies
// it: a group order the subscriber left to the publisher (draft-14 §9.7,
// 0x0) is the order SUBSCRIBE_OK (or PUBLISH) announced.
func (tw *TrackWriter) schedConfig() *TrackConfig {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	c := tw.config
	if c.GroupOrder == GroupOrderDefault {
		c.GroupOrder = tw.info.GroupOrder
	}
	return &c
}

func (tw *TrackWriter) writeInfoLocked(info Info) error {
	order := wire.GroupOrder(info.GroupOrder)
	if order == wire.GroupOrderPublisher {
		order = wire.GroupOrderAscending
	}
	m := &wire.SubscribeOK{
		RequestID:     tw.id,
		TrackAlias:    tw.alias,
		Expires:       uint64(info.Expires.Milliseconds()),
		GroupOrder:    order,
		ContentExists: info.ContentExists,
		Largest:       wire.Location{Group: uint64(info.LatestGroup), Object: info.LatestObject},
	}
	if err := tw.sess.writeControl(m); err != nil {
		return err
	}
	tw.infoSent = true
	tw.info = info
	tw.start = subscriptionStart(&tw.config, info)
	return nil
}

// subscriptionStart returns where a subscription with config c starts,
// once the publisher told info (draft-14 §5.1.2).
func subscriptionStart(c *TrackConfig, info Info) Location {
	switch c.Filter {
	case FilterAbsoluteStart, FilterAbsoluteRange:
		return Location{Group: c.StartGroup, Object: c.StartObject}
	case FilterNextGroupStart:
		if info.ContentExists {
			return Location{Group: info.LatestGroup + 1}
		}
	default:
		if info.ContentExists {
			return Location{Group: info.LatestGroup, Object: info.LatestObject + 1}
		}
	}
	return Location{}
}

// OpenGroup opens group seq as subgroup 0 with the session's default
// publisher priority.
func (tw *TrackWriter) OpenGroup(seq GroupSequence) (*GroupWriter, error) {
	return tw.OpenSubgroup(seq, 0, tw.sess.cfg.DefaultPublisherPriority)
}

// OpenSubgroup opens subgroup of group seq on its own stream with the given
// publisher priority (lower is more urgent). Layered media puts each layer
// in a subgroup: the base layer in subgroup 0 with a more urgent priority,
// enhancement layers in higher subgroups.
//
// It returns ErrOutOfRange for a group the subscription's filter excludes
// and ErrPaused while the subscriber paused the subscription.
func (tw *TrackWriter) OpenSubgroup(seq GroupSequence, subgroup uint64, priority uint8) (*GroupWriter, error) {
	tw.mu.Lock()
	if tw.closed || tw.ctx.Err() != nil {
		tw.mu.Unlock()
		return nil, tw.err()
	}
	if !tw.config.inRange(seq) || seq < tw.config.StartGroup {
		tw.mu.Unlock()
		return nil, ErrOutOfRange
	}
	if tw.config.Paused {
		tw.mu.Unlock()
		return nil, ErrPaused
	}
	if !tw.infoSent {
		if err := tw.writeInfoLocked(Info{}); err != nil {
			tw.mu.Unlock()
			return nil, err
		}
	}
	tw.streams++
	subPrio, tr := tw.config.Priority, tw.sched
	tw.mu.Unlock()

	st, err := tw.sess.conn.OpenUniStream(tw.ctx)
	if err != nil {
		return nil, tw.errOr(err)
	}
	gw := newGroupWriter(tw, st, seq, subgroup, priority)
	if sc := tw.sess.sched; sc != nil {
		sc.open(&gw.ss, tw, tr, st, uint64(seq), subgroup, priority)
		gw.st = &gw.ss
	} else {
		st.SetPriority((int(subPrio) + int(priority)) * 8 / 512)
	}
	if err := gw.writeHeader(); err != nil {
		gw.st.CancelWrite(uint64(GroupErrorInternal))
		return nil, tw.errOr(err)
	}
	gw.ss.hdrLen = uint8(gw.pending) // a reset before anything is sent still carries it
	tw.mu.Lock()
	if tw.ctx.Err() != nil {
		tw.mu.Unlock()
		gw.st.CancelWrite(uint64(GroupErrorCancelled))
		return nil, tw.err()
	}
	tw.groups[gw] = struct{}{}
	if tr == nil {
		tw.sched = gw.ss.tr
	}
	tw.mu.Unlock()
	return gw, nil
}

func (tw *TrackWriter) removeGroup(gw *GroupWriter) {
	tw.mu.Lock()
	delete(tw.groups, gw)
	tw.mu.Unlock()
}

// abortGroups resets the open groups once the subscription ended
// (UNSUBSCRIBE or session close).
func (tw *TrackWriter) abortGroups() {
	tw.mu.Lock()
	gws := make([]*GroupWriter, 0, len(tw.groups))
	for gw := range tw.groups {
		gws = append(gws, gw)
	}
	tw.mu.Unlock()
	for _, gw := range gws {
		gw.abort(GroupErrorCancelled)
	}
}

// err returns why the writer can no longer be used.
func (tw *TrackWriter) err() error {
	if c := context.Cause(tw.ctx); c != nil {
		return c
	}
	return ErrClosed
}

func (tw *TrackWriter) errOr(err error) error {
	if tw.ctx.Err() != nil {
		return tw.err()
	}
	return err
}

// Close ends the track normally: PUBLISH_DONE with TRACK_ENDED (preceded by
// SUBSCRIBE_OK if nothing was sent yet). Groups still open are reset. It
// first waits until the groups already closed have been handed to the
// transport (bounded by Config.CloseTimeout and the delivery timeout), so
// that PUBLISH_DONE, which overtakes all data, reaches the subscriber
// after the streams it counts are on their way.
func (tw *TrackWriter) Close() error {
	return tw.end(DoneTrackEnded, "track ended", true)
}

// CloseWithError refuses the subscription with SUBSCRIBE_ERROR and code if it
// was not accepted yet, or ends it with PUBLISH_DONE and code as the status.
func (tw *TrackWriter) CloseWithError(code SubscribeErrorCode) {
	_ = tw.end(code, "closed by publisher", false)
}

func (tw *TrackWriter) end(code SubscribeErrorCode, reason string, normal bool) error {
	s := tw.sess
	tw.mu.Lock()
	if tw.closed {
		tw.mu.Unlock()
		return nil
	}
	tw.closed = true // no more groups: tw.streams is final
	if normal && s.sched != nil {
		tw.mu.Unlock()
		tw.drain()
		tw.mu.Lock()
	}
	unsubscribed := tw.ctx.Err() != nil
	var err error
	switch {
	case unsubscribed:
	case !tw.infoSent && !normal:
		err = s.writeControl(&wire.SubscribeError{RequestID: tw.id, ErrorCode: uint64(code), ReasonPhrase: reason})
	default:
		if !tw.infoSent {
			err = tw.writeInfoLocked(Info{})
		}
		if err == nil {
			err = s.writeControl(&wire.PublishDone{RequestID: tw.id, StatusCode: uint64(code), StreamCount: tw.streams, ReasonPhrase: reason})
		}
	}
	tw.mu.Unlock()
	tw.cancel(ErrClosed)
	s.mu.Lock()
	_, mine := s.pubs[tw.id]
	delete(s.pubs, tw.id)
	s.mu.Unlock()
	if mine && !tw.outgoing {
		s.releaseRequest()
	}
	return err
}

// drain waits, a bounded time, until the groups already closed have been
// handed to the transport: PUBLISH_DONE, which travels on the control
// stream ahead of all data, would otherwise overtake the groups still
// queued in the scheduler, and the subscriber might stop waiting for them.
// The wait is bounded by Config.CloseTimeout and the delivery timeout.
func (tw *TrackWriter) drain() {
	wait := tw.sess.cfg.CloseTimeout
	if d := tw.TrackConfig().DeliveryTimeout; d > 0 && d < wait {
		wait = d
	}
	ctx, cancel := context.WithTimeout(tw.ctx, wait)
	defer cancel()
	if err := tw.sess.sched.drain(ctx, tw); err != nil && tw.ctx.Err() == nil {
		tw.sess.log.Debug("PUBLISH_DONE before all groups were sent", "request", tw.id, "err", err)
	}
}

func (s *Session) handleSubscribe(m *wire.Subscribe) error {
	if err := s.acceptRequestID(m.RequestID); err != nil {
		return err
	}
	path := pathOf(m.TrackNamespace)
	h := s.mux.handler(path)
	if h == nil {
		s.send(&wire.SubscribeError{RequestID: m.RequestID, ErrorCode: wire.ReqErrTrackDoesNotExist, ReasonPhrase: "no such track"})
		s.releaseRequest()
		return nil
	}
	cfg := configFromWire(m.SubscriberPriority, m.GroupOrder, m.Forward, m.FilterType, m.Start, m.EndGroup, m.Params)
	s.mu.Lock()
	s.nextAlias++
	tw := &TrackWriter{
		BroadcastPath: path,
		TrackName:     TrackName(m.TrackName),
		sess:          s,
		id:            m.RequestID,
		alias:         s.nextAlias,
		config:        cfg,
		start:         subscriptionStart(&cfg, Info{}),
		joinFilter:    cfg.Filter,
		updated:       make(chan struct{}, 1),
		groups:        make(map[*GroupWriter]struct{}),
	}
	tw.pause.Store(cfg.Paused)
	tw.ctx, tw.cancel = context.WithCancelCause(s.ctx)
	context.AfterFunc(tw.ctx, tw.abortGroups)
	s.pubs[m.RequestID] = tw
	s.mu.Unlock()
	go func() {
		defer tw.closeAttached() // track_detach.go
		h.ServeTrack(tw)
	}()
	return nil
}

// configFromWire is the TrackConfig a SUBSCRIBE or PUBLISH_OK asks for.
func configFromWire(prio uint8, order wire.GroupOrder, forward bool, filter wire.FilterType, start wire.Location, end uint64, params wire.Params) TrackConfig {
	c := TrackConfig{
		Priority:    prio,
		GroupOrder:  GroupOrder(order),
		Filter:      filterFromWire(filter),
		StartGroup:  GroupSequence(start.Group),
		StartObject: start.Object,
		EndGroup:    GroupSequence(end),
		Paused:      !forward,
	}
	if d, ok := params.DeliveryTimeout(); ok {
		c.DeliveryTimeout = d
	}
	return c
}

func (s *Session) handleSubscribeUpdate(m *wire.SubscribeUpdate) error {
	if err := s.acceptRequestID(m.RequestID); err != nil {
		return err
	}
	defer s.releaseRequest()
	id := m.SubscriptionRequestID
	s.mu.Lock()
	tw := s.pubs[id]
	// An ID that was used (by the peer, or by our PUBLISH) belongs to a
	// subscription that ended: the update is moot.
	used := (id%2 == m.RequestID%2 && id < m.RequestID) || (id%2 == s.nextReqID%2 && id < s.nextReqID)
	s.mu.Unlock()
	if tw == nil {
		if !used {
			return &SessionError{Code: ErrCodeProtocolViolation, Reason: fmt.Sprintf("SUBSCRIBE_UPDATE for unknown request ID %d", id)}
		}
		return nil
	}
	tw.mu.Lock()
	c := &tw.config
	start := locationOf(m.Start)
	absolute := c.Filter == FilterAbsoluteStart || c.Filter == FilterAbsoluteRange
	switch {
	case start.Less(tw.start) && absolute:
		tw.mu.Unlock()
		return &SessionError{Code: ErrCodeProtocolViolation, Reason: "SUBSCRIBE_UPDATE moved the start back"}
	case start.Less(tw.start):
		// Before SUBSCRIBE_OK, or a peer that does not track the start
		// of a latest-object subscription: keep it.
		start = tw.start
	}
	if m.EndGroup > 0 && (m.EndGroup-1 < uint64(start.Group) ||
		(c.Filter == FilterAbsoluteRange && m.EndGroup-1 > uint64(c.EndGroup))) {
		tw.mu.Unlock()
		return &SessionError{Code: ErrCodeProtocolViolation, Reason: "SUBSCRIBE_UPDATE widened the range or ends before its start"}
	}
	if m.EndGroup == 0 && c.Filter == FilterAbsoluteRange {
		tw.mu.Unlock()
		return &SessionError{Code: ErrCodeProtocolViolation, Reason: "SUBSCRIBE_UPDATE removed the end group"}
	}
	tw.start = start
	c.StartGroup, c.StartObject = start.Group, start.Object
	c.Priority = m.SubscriberPriority
	c.Paused = !m.Forward
	tw.pause.Store(c.Paused)
	if m.EndGroup > 0 {
		c.Filter = FilterAbsoluteRange
		c.EndGroup = GroupSequence(m.EndGroup - 1)
	}
	if d, ok := m.Params.DeliveryTimeout(); ok {
		c.DeliveryTimeout = d
	}
	tw.mu.Unlock()
	if s.sched != nil {
		s.sched.update(tw)
	}
	tw.notifyUpdated() // track_detach.go
	return nil
}

func (s *Session) handleUnsubscribe(m *wire.Unsubscribe) error {
	s.mu.Lock()
	tw := s.pubs[m.RequestID]
	delete(s.pubs, m.RequestID)
	s.mu.Unlock()
	if tw == nil {
		return nil
	}
	tw.cancel(errUnsubscribed)
	if !tw.outgoing {
		s.releaseRequest()
	}
	return nil
}

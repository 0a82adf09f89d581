package moqt

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"

	"github.com/moqgo/moqgo/internal/wire"
)

// TrackReader is the subscriber's side of a subscription: it yields the
// groups the publisher sends, one GroupReader per subgroup stream.
type TrackReader struct {
	// BroadcastPath and TrackName name the subscribed track.
	BroadcastPath BroadcastPath
	TrackName     TrackName

	sess *Session
	id   uint64

	mu       sync.Mutex
	config   TrackConfig
	info     Info
	alias    uint64
	ready    chan struct{} // closed on SUBSCRIBE_OK or SUBSCRIBE_ERROR
	setupErr error
	err      error // why the track ended
	expect   int64 // stream count from PUBLISH_DONE; -1 before it or if not trusted
	arrived  int64 // data streams whose header named this subscription
	got      int64 // streams delivered
	doneErr  error // the end PUBLISH_DONE announced, once it arrived
	doneWait time.Duration
	doneTmr  *time.Timer // bounds the wait for streams after PUBLISH_DONE
	waited   bool        // that wait is over
	start    Location    // the subscription's start, once known
	incoming bool        // the peer's PUBLISH, not our SUBSCRIBE

	groups groupQueue // group_queue.go
	ctx    context.Context
	cancel context.CancelCauseFunc
}

func newTrackReader(s *Session, id uint64, path BroadcastPath, name TrackName, cfg TrackConfig) *TrackReader {
	tr := &TrackReader{
		BroadcastPath: path,
		TrackName:     name,
		sess:          s,
		id:            id,
		config:        cfg,
		start:         subscriptionStart(&cfg, Info{}),
		ready:         make(chan struct{}),
		expect:        -1,
		groups:        newGroupQueue(),
	}
	tr.ctx, tr.cancel = context.WithCancelCause(s.ctx)
	return tr
}

// Subscribe subscribes to the track name of the broadcast path (SUBSCRIBE)
// and waits for the publisher's answer. A nil config means the defaults
// (latest object, publisher's group order). A refusal is a
// *SubscribeError.
func (s *Session) Subscribe(path BroadcastPath, name TrackName, config *TrackConfig) (*TrackReader, error) {
	var cfg TrackConfig
	if config != nil {
		cfg = *config
	}
	ctx, cancel := s.requestContext()
	defer cancel()
	var tr *TrackReader
	_, err := s.sendRequest(ctx, func(id uint64) wire.Message {
		tr = newTrackReader(s, id, cleanPath(path), name, cfg)
		s.mu.Lock()
		s.subs[id] = tr
		s.mu.Unlock()
		m := &wire.Subscribe{
			RequestID:          id,
			TrackNamespace:     tr.BroadcastPath.namespace(),
			TrackName:          string(name),
			SubscriberPriority: cfg.Priority,
			GroupOrder:         wire.GroupOrder(cfg.GroupOrder),
			Forward:            !cfg.Paused,
			FilterType:         cfg.Filter.wire(),
			Start:              wire.Location{Group: uint64(cfg.StartGroup), Object: cfg.StartObject},
			EndGroup:           uint64(cfg.EndGroup),
		}
		if cfg.DeliveryTimeout > 0 {
			m.Params.SetDeliveryTimeout(cfg.DeliveryTimeout)
		}
		return m
	})
	if err != nil {
		if tr != nil {
			s.removeSub(tr)
		}
		return nil, err
	}
	select {
	case <-tr.ready:
	case <-ctx.Done():
		err := s.ctxErr(ctx)
		tr.Close()
		return nil, err
	}
	if tr.setupErr != nil {
		return nil, tr.setupErr
	}
	return tr, nil
}

func (s *Session) removeSub(tr *TrackReader) {
	s.mu.Lock()
	if s.subs[tr.id] == tr {
		delete(s.subs, tr.id)
	}
	tr.mu.Lock()
	if tr.alias != 0 || tr.ready == nil {
		if s.aliases[tr.alias] == tr {
			delete(s.aliases, tr.alias)
		}
	}
	tr.mu.Unlock()
	s.mu.Unlock()
}

func (s *Session) handleSubscribeOK(m *wire.SubscribeOK) error {
	s.mu.Lock()
	tr := s.subs[m.RequestID]
	if tr == nil {
		s.mu.Unlock()
		return nil // answer to a subscription we gave up on
	}
	if other := s.aliases[m.TrackAlias]; other != nil && other != tr {
		s.mu.Unlock()
		return &SessionError{Code: ErrCodeDuplicateTrackAlias, Reason: "duplicate track alias"}
	}
	tr.mu.Lock()
	select {
	case <-tr.ready:
		tr.mu.Unlock()
		s.mu.Unlock()
		return &SessionError{Code: ErrCodeProtocolViolation, Reason: "second SUBSCRIBE_OK"}
	default:
	}
	tr.alias = m.TrackAlias
	tr.info = Info{
		GroupOrder:    GroupOrder(m.GroupOrder),
		Expires:       time.Duration(m.Expires) * time.Millisecond,
		ContentExists: m.ContentExists,
		LatestGroup:   GroupSequence(m.Largest.Group),
		LatestObject:  m.Largest.Object,
	}
	tr.start = subscriptionStart(&tr.config, tr.info)
	close(tr.ready)
	tr.mu.Unlock()
	s.aliases[m.TrackAlias] = tr
	close(s.aliasMore)
	s.aliasMore = make(chan struct{})
	s.mu.Unlock()
	return nil
}

func (s *Session) handleSubscribeError(m *wire.SubscribeError) error {
	s.mu.Lock()
	tr := s.subs[m.RequestID]
	if tr == nil {
		s.mu.Unlock()
		return nil
	}
	tr.mu.Lock()
	defer tr.mu.Unlock()
	select {
	case <-tr.ready:
		// The session ends with this error (controlLoop); the
		// subscription stays in s.subs and s.aliases so that the close
		// finishes it with the session's error.
		s.mu.Unlock()
		return &SessionError{Code: ErrCodeProtocolViolation, Reason: "SUBSCRIBE_ERROR after SUBSCRIBE_OK"}
	default:
	}
	delete(s.subs, m.RequestID)
	s.mu.Unlock()
	tr.setupErr = &SubscribeError{Code: SubscribeErrorCode(m.ErrorCode), Reason: m.ReasonPhrase}
	close(tr.ready)
	tr.cancel(tr.setupErr)
	return nil
}

func (s *Session) handlePublishDone(m *wire.PublishDone) error {
	s.mu.Lock()
	tr := s.subs[m.RequestID]
	s.mu.Unlock()
	if tr == nil {
		return nil
	}
	var err error = &SubscribeError{Code: SubscribeErrorCode(m.StatusCode), Reason: m.ReasonPhrase, Done: true}
	if m.StatusCode == wire.DoneTrackEnded || m.StatusCode == wire.DoneSubscriptionEnded {
		err = io.EOF
	}
	tr.mu.Lock()
	if tr.doneErr != nil || tr.ctx.Err() != nil {
		tr.mu.Unlock()
		return nil
	}
	tr.doneErr = err
	tr.expect = int64(m.StreamCount)
	tr.doneWait = s.cfg.PendingStreamTimeout
	if m.StreamCount == 0 || tr.expect < tr.arrived {
		// Interop accommodation: @moq/net (the browser client) sends a
		// Stream Count of 0 however many streams it opened, so a count
		// that cannot be right does not end the track at once. Streams
		// are accepted until none arrived for Config.PublishDoneGrace.
		tr.expect = -1
		tr.doneWait = s.cfg.PublishDoneGrace
	}
	end := tr.endReady()
	if !end {
		// Wait a bounded time for the data streams still in flight.
		tr.doneTmr = time.AfterFunc(tr.doneWait, tr.waitOver)
	}
	tr.mu.Unlock()
	if end {
		tr.finish(err)
	}
	return nil
}

// endReady reports whether a track that got PUBLISH_DONE can end: every
// stream it announced arrived (or the wait for them is over) and every
// stream that arrived was handed to the reader. tr.mu is held.
func (tr *TrackReader) endReady() bool {
	if tr.doneErr == nil {
		return false
	}
	arrived := tr.waited || (tr.expect >= 0 && tr.arrived >= tr.expect)
	return arrived && tr.got >= tr.arrived
}

// progress restarts the wait for the streams announced by PUBLISH_DONE
// after a stream arrived or was accepted, and reports whether the track can
// end now. tr.mu is held.
func (tr *TrackReader) progress() bool {
	if tr.doneErr == nil {
		return false
	}
	if tr.endReady() {
		return true
	}
	if !tr.waited && tr.doneTmr != nil {
		tr.doneTmr.Reset(tr.doneWait)
	}
	return false
}

// waitOver ends the wait for the streams announced by PUBLISH_DONE; the
// track ends once the streams that did arrive are accepted.
func (tr *TrackReader) waitOver() {
	tr.mu.Lock()
	tr.waited = true
	end := tr.endReady()
	err := tr.doneErr
	tr.mu.Unlock()
	if end {
		tr.finish(err)
	}
}

// deliver hands a received data stream to the reader. It reports false if
// the subscription was closed.
func (tr *TrackReader) deliver(gr *GroupReader) bool {
	if !tr.groups.push(gr, 0) {
		return false
	}
	tr.delivered()
	return true
}

// delivered counts a data stream that arrived and was handed to the reader
// and ends the track if that was the last one PUBLISH_DONE waits for.
func (tr *TrackReader) delivered() {
	tr.mu.Lock()
	tr.arrived++
	tr.got++
	end := tr.progress()
	err := tr.doneErr
	tr.mu.Unlock()
	if end {
		tr.finish(err)
	}
}

// finish ends the track with err (io.EOF for a normal end).
func (tr *TrackReader) finish(err error) {
	tr.mu.Lock()
	if tr.doneTmr != nil {
		tr.doneTmr.Stop()
	}
	first := tr.ctx.Err() == nil
	if first {
		tr.err = err
		tr.cancel(err)
	}
	tr.mu.Unlock()
	tr.sess.removeSub(tr)
	if first && tr.incoming {
		tr.sess.releaseRequest()
	}
}

// AcceptGroup waits for the next group. After the publisher ends the track
// it returns io.EOF (PUBLISH_DONE with TRACK_ENDED or SUBSCRIPTION_ENDED) or
// a *SubscribeError, once the groups already received were accepted.
func (tr *TrackReader) AcceptGroup(ctx context.Context) (*GroupReader, error) {
	for {
		if g := tr.groups.pop(true); g != nil {
			return g, nil
		}
		select {
		case <-tr.groups.wake:
			tr.groups.unwait()
		case <-ctx.Done():
			tr.groups.unwait()
			return nil, ctx.Err()
		case <-tr.ctx.Done():
			tr.groups.unwait()
			if g := tr.groups.pop(false); g != nil {
				return g, nil
			}
			tr.mu.Lock()
			defer tr.mu.Unlock()
			if tr.err == nil {
				return nil, context.Cause(tr.ctx)
			}
			return nil, tr.err
		}
	}
}

// Close ends the subscription (UNSUBSCRIBE).
func (tr *TrackReader) Close() error {
	tr.finish(ErrClosed)
	for _, g := range tr.groups.close() {
		g.CancelRead(GroupErrorCancelled)
	}
	if tr.sess.ctx.Err() != nil {
		return nil
	}
	return tr.sess.writeControl(&wire.Unsubscribe{RequestID: tr.id})
}

// CloseWithError ends the subscription. UNSUBSCRIBE carries no code: the
// code is only reported locally as the track's error.
func (tr *TrackReader) CloseWithError(code SubscribeErrorCode) error {
	tr.finish(&SubscribeError{Code: code, Reason: "closed by subscriber"})
	return tr.Close()
}

// Context returns a context canceled when the subscription ends.
func (tr *TrackReader) Context() context.Context { return tr.ctx }

// SubscribeID returns the Request ID of the subscription's SUBSCRIBE.
func (tr *TrackReader) SubscribeID() SubscribeID { return SubscribeID(tr.id) }

// TrackConfig returns a copy of the subscription's current configuration.
func (tr *TrackReader) TrackConfig() *TrackConfig {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	c := tr.config
	return &c
}

// Info returns what the publisher said in SUBSCRIBE_OK.
func (tr *TrackReader) Info() Info {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.info
}

// Update changes the subscription (SUBSCRIBE_UPDATE): priority, forward
// (Paused: the publisher stops sending until a later Update resumes it),
// delivery timeout, and the range, which can only narrow (draft-14 §9.10):
// FilterAbsoluteStart moves the start forward, FilterAbsoluteRange also sets
// (or lowers) the end group. With any other filter the range stays as it is.
// Narrowing the range back, or updating a closed subscription, is an error
// and sends nothing.
func (tr *TrackReader) Update(config *TrackConfig) error {
	if config == nil {
		return errors.New("moqt: nil TrackConfig")
	}
	s := tr.sess
	if tr.ctx.Err() != nil {
		return ErrClosed
	}
	tr.mu.Lock()
	old, c := tr.config, *config
	start := tr.start
	switch c.Filter {
	case FilterAbsoluteStart, FilterAbsoluteRange:
		next := Location{Group: c.StartGroup, Object: c.StartObject}
		if next.Less(start) {
			tr.mu.Unlock()
			return errors.New("moqt: SUBSCRIBE_UPDATE cannot move the start back")
		}
		start = next
		if c.Filter == FilterAbsoluteStart && old.Filter == FilterAbsoluteRange {
			c.Filter, c.EndGroup = old.Filter, old.EndGroup
		}
	default:
		c.Filter, c.EndGroup = old.Filter, old.EndGroup
	}
	end := uint64(0)
	if c.Filter == FilterAbsoluteRange {
		if (old.Filter == FilterAbsoluteRange && c.EndGroup > old.EndGroup) || c.EndGroup < start.Group {
			tr.mu.Unlock()
			return errors.New("moqt: SUBSCRIBE_UPDATE cannot widen the range or end it before its start")
		}
		end = uint64(c.EndGroup) + 1
	}
	c.StartGroup, c.StartObject = start.Group, start.Object
	tr.config, tr.start = c, start
	tr.mu.Unlock()
	ctx, cancel := s.requestContext()
	defer cancel()
	_, err := s.sendRequest(ctx, func(id uint64) wire.Message {
		m := &wire.SubscribeUpdate{
			RequestID:             id,
			SubscriptionRequestID: tr.id,
			Start:                 start.wire(),
			EndGroup:              end,
			SubscriberPriority:    c.Priority,
			Forward:               !c.Paused,
		}
		if c.DeliveryTimeout > 0 {
			m.Params.SetDeliveryTimeout(c.DeliveryTimeout)
		}
		return m
	})
	return err
}

// UpdateSubscribe is Update.
func (tr *TrackReader) UpdateSubscribe(config *TrackConfig) error { return tr.Update(config) }

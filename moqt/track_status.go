package moqt

import (
	"context"
	"errors"
	"time"

	"github.com/moqgo/moqgo/internal/wire"
)

// TrackStatus asks the peer what it knows about a track without subscribing
// (TRACK_STATUS) and returns the answer: TRACK_STATUS_OK as an Info, or
// TRACK_STATUS_ERROR as a *SubscribeError. ctx bounds the wait, as does
// Config.RequestTimeout.
func (s *Session) TrackStatus(ctx context.Context, path BroadcastPath, name TrackName) (Info, error) {
	rctx, cancel := s.requestContext()
	defer cancel()
	stop := context.AfterFunc(ctx, cancel)
	defer stop()
	ch := make(chan wire.Message, 1)
	var reqID uint64
	_, err := s.sendRequest(rctx, func(id uint64) wire.Message {
		reqID = id
		s.mu.Lock()
		s.statusReqs[id] = ch
		s.mu.Unlock()
		return &wire.TrackStatus{
			RequestID:      id,
			TrackNamespace: cleanPath(path).namespace(),
			TrackName:      string(name),
			Forward:        true,
			FilterType:     wire.FilterLatestObject,
		}
	})
	defer func() {
		s.mu.Lock()
		delete(s.statusReqs, reqID)
		s.mu.Unlock()
	}()
	if err == nil {
		select {
		case m := <-ch:
			switch m := m.(type) {
			case *wire.TrackStatusOK:
				return Info{
					GroupOrder:    GroupOrder(m.GroupOrder),
					Expires:       time.Duration(m.Expires) * time.Millisecond,
					ContentExists: m.ContentExists,
					LatestGroup:   GroupSequence(m.Largest.Group),
					LatestObject:  m.Largest.Object,
				}, nil
			case *wire.TrackStatusError:
				return Info{}, &SubscribeError{Code: SubscribeErrorCode(m.ErrorCode), Reason: m.ReasonPhrase}
			}
		case <-rctx.Done():
			err = s.ctxErr(rctx)
		}
	}
	if ctx.Err() != nil {
		return Info{}, ctx.Err()
	}
	return Info{}, err
}

// answerTrackStatus hands TRACK_STATUS_OK or TRACK_STATUS_ERROR to the
// waiting TrackStatus call; an answer nobody waits for is dropped.
func (s *Session) answerTrackStatus(id uint64, m wire.Message) {
	s.mu.Lock()
	ch := s.statusReqs[id]
	delete(s.statusReqs, id)
	s.mu.Unlock()
	if ch != nil {
		ch <- m
	}
}

// handleTrackStatus answers TRACK_STATUS through the TrackMux.
func (s *Session) handleTrackStatus(m *wire.TrackStatus) error {
	if err := s.acceptRequestID(m.RequestID); err != nil {
		return err
	}
	path, name := pathOf(m.TrackNamespace), TrackName(m.TrackName)
	s.mu.Lock()
	filter := s.nsFilter
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer s.releaseRequest()
		// TRACK_STATUS reads the track as SUBSCRIBE does: the namespace
		// filter's subscribe decision covers it too (SetNamespaceFilter).
		if filter != nil {
			if err := filter(path, false); err != nil {
				s.send(&wire.TrackStatusError{RequestID: m.RequestID, ErrorCode: wire.ReqErrUnauthorized, ReasonPhrase: err.Error()})
				return
			}
		}
		info, err := s.mux.TrackStatus(path, name)
		if err != nil {
			var se *SubscribeError
			if !errors.As(err, &se) {
				se = &SubscribeError{Code: SubscribeErrorInternal, Reason: err.Error()}
			}
			s.send(&wire.TrackStatusError{RequestID: m.RequestID, ErrorCode: uint64(se.Code), ReasonPhrase: se.Reason})
			return
		}
		order := wire.GroupOrder(resolveOrder(info.GroupOrder))
		s.send(&wire.TrackStatusOK{
			RequestID:     m.RequestID,
			Expires:       uint64(info.Expires.Milliseconds()),
			GroupOrder:    order,
			ContentExists: info.ContentExists,
			Largest:       wire.Location{Group: uint64(info.LatestGroup), Object: info.LatestObject},
		})
	}()
	return nil
}

package moqt

import (
	"fmt"

	"github.com/moqgo/moqgo/internal/wire"
)

// Answers to requests (draft-14 §9.1). An answer carries the Request ID of
// the request it answers. An ID that this endpoint could never have sent —
// one of the peer's parity, or one of ours at or above the next ID we would
// allocate — means the peer answers a request that does not exist: the
// session ends with INVALID_REQUEST_ID ("a Request ID that is not valid for
// the peer"). An ID we did allocate is fine even when nothing waits for it
// any more (the request was cancelled, timed out or unsubscribed): such an
// answer crossed our cancellation on the wire and is dropped quietly by its
// handler.

// answerRequestID returns the Request ID of an answer message and whether m
// is one. peerMayOwn reports that the ID may also name one of the peer's
// own requests: PUBLISH_DONE ends either our SUBSCRIBE or the peer's
// PUBLISH.
func answerRequestID(m wire.Message) (id uint64, peerMayOwn, ok bool) {
	switch m := m.(type) {
	case *wire.SubscribeOK:
		return m.RequestID, false, true
	case *wire.SubscribeError:
		return m.RequestID, false, true
	case *wire.PublishDone:
		return m.RequestID, true, true
	case *wire.FetchOK:
		return m.RequestID, false, true
	case *wire.FetchError:
		return m.RequestID, false, true
	case *wire.PublishOK:
		return m.RequestID, false, true
	case *wire.PublishError:
		return m.RequestID, false, true
	case *wire.TrackStatusOK:
		return m.RequestID, false, true
	case *wire.TrackStatusError:
		return m.RequestID, false, true
	case *wire.SubscribeNamespaceOK:
		return m.RequestID, false, true
	case *wire.SubscribeNamespaceError:
		return m.RequestID, false, true
	case *wire.PublishNamespaceOK:
		return m.RequestID, false, true
	case *wire.PublishNamespaceError:
		return m.RequestID, false, true
	}
	return 0, false, false
}

// checkAnswer closes the session (by returning a *SessionError) if m is an
// answer to a request this endpoint never sent. Every answer passes through
// it before its handler runs (handleControl).
func (s *Session) checkAnswer(m wire.Message) error {
	id, peerMayOwn, ok := answerRequestID(m)
	if !ok {
		return nil
	}
	s.mu.Lock()
	next, peerNext := s.nextReqID, s.expectReqID
	s.mu.Unlock()
	// nextReqID is consumed before a request is written (sendRequest), so
	// every ID that reached the wire is below it.
	if id%2 == next%2 && id < next {
		return nil
	}
	if peerMayOwn && id%2 == peerNext%2 && id < peerNext {
		return nil
	}
	return &SessionError{Code: ErrCodeInvalidRequestID, Reason: fmt.Sprintf("%v for request ID %d, which was never sent", m.Type(), id)}
}

package moqt

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/moqgo/moqgo/internal/wire"
)

// TestAnswerForUnsentRequest: an answer whose Request ID has the peer's
// parity, or is one of ours that was never allocated, closes the session
// with INVALID_REQUEST_ID (draft-14 §9.1).
func TestAnswerForUnsentRequest(t *testing.T) {
	answers := []func(id uint64) wire.Message{
		func(id uint64) wire.Message {
			return &wire.SubscribeOK{RequestID: id, TrackAlias: 7, GroupOrder: wire.GroupOrderAscending}
		},
		func(id uint64) wire.Message { return &wire.SubscribeError{RequestID: id} },
		func(id uint64) wire.Message { return &wire.PublishDone{RequestID: id} },
		func(id uint64) wire.Message {
			return &wire.FetchOK{RequestID: id, GroupOrder: wire.GroupOrderAscending}
		},
		func(id uint64) wire.Message { return &wire.FetchError{RequestID: id} },
		func(id uint64) wire.Message {
			return &wire.PublishOK{RequestID: id, GroupOrder: wire.GroupOrderAscending, FilterType: wire.FilterLatestObject}
		},
		func(id uint64) wire.Message { return &wire.PublishError{RequestID: id} },
		func(id uint64) wire.Message {
			return &wire.TrackStatusOK{RequestID: id, GroupOrder: wire.GroupOrderAscending}
		},
		func(id uint64) wire.Message { return &wire.TrackStatusError{RequestID: id} },
		func(id uint64) wire.Message { return &wire.SubscribeNamespaceOK{RequestID: id} },
		func(id uint64) wire.Message { return &wire.SubscribeNamespaceError{RequestID: id} },
		func(id uint64) wire.Message { return &wire.PublishNamespaceOK{RequestID: id} },
		func(id uint64) wire.Message { return &wire.PublishNamespaceError{RequestID: id} },
	}
	for _, answer := range answers {
		for _, kind := range []string{"peer parity", "never allocated"} {
			t.Run(fmt.Sprintf("%v/%s", answer(0).Type(), kind), func(t *testing.T) {
				p, s := newRawPublisher(t, nil)
				s.mu.Lock()
				id := s.nextReqID // ours, not allocated yet
				if kind == "peer parity" {
					id = s.expectReqID + 2 // the peer's parity; for PUBLISH_DONE, a PUBLISH never sent
				}
				s.mu.Unlock()
				p.write(answer(id))
				<-s.Context().Done()
				var se *SessionError
				if err := context.Cause(s.Context()); !errors.As(err, &se) || se.Code != ErrCodeInvalidRequestID {
					t.Fatalf("session ended with %v, want INVALID_REQUEST_ID", err)
				}
			})
		}
	}
}

// TestAnswerForAbandonedRequest: answers for requests we sent but gave up
// on (unsubscribed, cancelled) are dropped quietly and the session goes on.
func TestAnswerForAbandonedRequest(t *testing.T) {
	p, s := newRawPublisher(t, nil)
	ctx := testContext(t)

	// An unsubscribed subscription.
	sub, done := subscribeRaw(p, s)
	p.write(&wire.SubscribeOK{RequestID: sub.RequestID, TrackAlias: 1, GroupOrder: wire.GroupOrderAscending})
	d := <-done
	if d.err != nil {
		t.Fatal(d.err)
	}
	d.tr.Close()
	if _, ok := p.read().(*wire.Unsubscribe); !ok {
		t.Fatal("expected UNSUBSCRIBE")
	}
	p.write(&wire.PublishDone{RequestID: sub.RequestID, StatusCode: wire.DoneSubscriptionEnded})
	p.write(&wire.SubscribeError{RequestID: sub.RequestID})

	// A cancelled TRACK_STATUS.
	sctx, cancel := context.WithCancel(ctx)
	status := make(chan error, 1)
	go func() {
		_, err := s.TrackStatus(sctx, "/live", "video")
		status <- err
	}()
	ts, ok := p.read().(*wire.TrackStatus)
	if !ok {
		t.Fatal("expected TRACK_STATUS")
	}
	cancel()
	if err := <-status; err != context.Canceled {
		t.Fatalf("TrackStatus: %v, want context.Canceled", err)
	}
	p.write(&wire.TrackStatusOK{RequestID: ts.RequestID, GroupOrder: wire.GroupOrderAscending})

	// The control stream is in order: a later subscription answered
	// after the stale answers proves they did not end the session.
	sub2, done := subscribeRaw(p, s)
	p.write(&wire.SubscribeOK{RequestID: sub2.RequestID, TrackAlias: 2, GroupOrder: wire.GroupOrderAscending})
	if d := <-done; d.err != nil {
		t.Fatalf("Subscribe after stale answers: %v", d.err)
	} else {
		d.tr.Close()
	}
	if err := s.Context().Err(); err != nil {
		t.Fatalf("session ended: %v", context.Cause(s.Context()))
	}
}

// TestSubscribeErrorAfterOK: SUBSCRIBE_ERROR for an accepted subscription
// closes the session with PROTOCOL_VIOLATION, and the subscription ends
// with the session's error.
func TestSubscribeErrorAfterOK(t *testing.T) {
	p, s := newRawPublisher(t, nil)
	sub, done := subscribeRaw(p, s)
	p.write(&wire.SubscribeOK{RequestID: sub.RequestID, TrackAlias: 1, GroupOrder: wire.GroupOrderAscending})
	d := <-done
	if d.err != nil {
		t.Fatal(d.err)
	}
	defer d.tr.Close()
	p.write(&wire.SubscribeError{RequestID: sub.RequestID})
	<-s.Context().Done()
	var se *SessionError
	if err := context.Cause(s.Context()); !errors.As(err, &se) || se.Code != ErrCodeProtocolViolation {
		t.Fatalf("session ended with %v, want PROTOCOL_VIOLATION", err)
	}
	if _, err := d.tr.AcceptGroup(testContext(t)); !errors.As(err, &se) || se.Code != ErrCodeProtocolViolation {
		t.Fatalf("AcceptGroup: %v, want the session's PROTOCOL_VIOLATION", err)
	}
}

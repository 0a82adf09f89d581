package moqt

import (
	"context"
	"testing"

	"github.com/moqgo/moqgo/internal/wire"
)

// TestPublishUnencodableSendsNothing: a PUBLISH that cannot be encoded (an
// empty namespace) fails locally; the peer must see neither the PUBLISH nor a
// PUBLISH_DONE for a request ID it was never sent, and the next request takes
// that ID.
func TestPublishUnencodableSendsNothing(t *testing.T) {
	p, sess := newRawPublisher(t, nil)
	if _, err := sess.Publish(context.Background(), "/", "t", nil); err == nil {
		t.Fatal("Publish with an empty namespace succeeded")
	}
	sub, done := subscribeRaw(p, sess)
	if sub.RequestID != 0 {
		t.Fatalf("next request has ID %d, want 0 (the failed PUBLISH must not use one)", sub.RequestID)
	}
	p.write(&wire.SubscribeError{RequestID: sub.RequestID, ErrorCode: wire.ReqErrTrackDoesNotExist, ReasonPhrase: "none"})
	if r := <-done; r.err == nil {
		t.Fatal("subscribe succeeded after SUBSCRIBE_ERROR")
	}
	if err := sess.Err(); err != nil {
		t.Fatalf("session ended: %v", err)
	}
}

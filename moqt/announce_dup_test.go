package moqt

import (
	"testing"

	"github.com/moqgo/moqgo/internal/wire"
)

// TestDuplicatePublishNamespaceCredit: a peer that announces a namespace
// again replaces its announcement; the replaced one's Request ID is
// released at once, so announcing, re-announcing and ending does not cost
// the peer a request for good.
func TestDuplicatePublishNamespaceCredit(t *testing.T) {
	p, _ := newRawPublisher(t, &Config{MaxRequests: 10})
	ns := wire.Namespace{"a"}
	var max uint64
	// readUntil reads control messages up to PUBLISH_NAMESPACE_OK for id,
	// noting the latest MAX_REQUEST_ID.
	readUntil := func(id uint64) {
		t.Helper()
		for {
			switch m := p.read().(type) {
			case *wire.MaxRequestID:
				max = m.RequestID
			case *wire.PublishNamespaceOK:
				if m.RequestID == id {
					return
				}
			case *wire.PublishNamespaceError:
				t.Fatalf("PUBLISH_NAMESPACE %d refused: %s", m.RequestID, m.ReasonPhrase)
			}
		}
	}
	p.write(&wire.PublishNamespace{RequestID: 1, TrackNamespace: ns})
	readUntil(1)
	p.write(&wire.PublishNamespace{RequestID: 3, TrackNamespace: ns})
	readUntil(3)
	p.write(&wire.PublishNamespaceDone{TrackNamespace: ns})
	// A later request's answer follows every MAX_REQUEST_ID the done
	// announcements granted.
	p.write(&wire.PublishNamespace{RequestID: 5, TrackNamespace: wire.Namespace{"b"}})
	readUntil(5)
	if want := uint64(2*10 + 4); max != want {
		t.Errorf("MAX_REQUEST_ID = %d after two announcements of one namespace ended, want %d", max, want)
	}
}

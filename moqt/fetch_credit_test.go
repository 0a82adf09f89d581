package moqt

import (
	"sync"
	"testing"

	"github.com/moqgo/moqgo/internal/transport"
	"github.com/moqgo/moqgo/internal/wire"
)

// creditStream is a control stream below the network that checks every
// MAX_REQUEST_ID written grows.
type creditStream struct {
	transport.Stream
	mu         sync.Mutex
	last       uint64
	decreasing int
}

func (c *creditStream) Write(b []byte) (int, error) {
	m, _, err := wire.ParseMessage(b, wire.Draft14)
	if err != nil {
		return 0, err
	}
	if mr, ok := m.(*wire.MaxRequestID); ok {
		c.mu.Lock()
		if mr.RequestID <= c.last {
			c.decreasing++
		}
		c.last = mr.RequestID
		c.mu.Unlock()
	}
	return len(b), nil
}

type creditConn struct{ transport.Conn }

func (creditConn) Protocol() string { return "test" }

// TestRequestCreditOrder releases requests from many goroutines at once, as
// concurrent FETCH, TRACK_STATUS and subscription endings do: the
// MAX_REQUEST_ID values must reach the wire in increasing order.
func TestRequestCreditOrder(t *testing.T) {
	s := newSession(creditConn{}, (&Config{MaxRequests: 1}).withDefaults(), nil, nil, false)
	defer s.cancel(nil)
	st := &creditStream{}
	s.ctrl = st
	const workers, each = 16, 500
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				s.releaseRequest()
			}
		}()
	}
	wg.Wait()
	if st.decreasing != 0 {
		t.Errorf("%d MAX_REQUEST_ID values did not grow", st.decreasing)
	}
	if want := uint64(2 + 2*workers*each); st.last != want {
		t.Errorf("last MAX_REQUEST_ID %d, want %d", st.last, want)
	}
}

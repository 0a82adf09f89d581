package moqt

import (
	"context"
	"testing"
	"time"
)

// TestAcceptGroupConcurrentReaders checks that groups pushed while several
// AcceptGroup calls wait all reach a reader: push sends at most one wake-up
// while one is pending, so a reader that takes a group must pass the
// wake-up on. Each reader accepts a single group, so none can make up for a
// lost wake-up by coming back for more.
func TestAcceptGroupConcurrentReaders(t *testing.T) {
	sessCtx, stop := context.WithCancel(context.Background())
	defer stop()
	for round := range 20 {
		tr := newTrackReader(&Session{ctx: sessCtx}, 1, "/q", "t", TrackConfig{})
		// Bounds the test if a wake-up is lost; not a synchronisation.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		const readers = 4
		got := make(chan *GroupReader, readers)
		errs := make(chan error, readers)
		for range readers {
			go func() {
				gr, err := tr.AcceptGroup(ctx)
				if err != nil {
					errs <- err
					return
				}
				got <- gr
			}()
		}
		waitUntil(t, "all readers waiting", func() bool {
			tr.groups.mu.Lock()
			defer tr.groups.mu.Unlock()
			return tr.groups.waiters == readers
		})
		sent := make(map[*GroupReader]bool, readers)
		for range readers {
			gr := &GroupReader{}
			sent[gr] = true
			if !tr.groups.push(gr, 0) {
				t.Fatal("push refused")
			}
		}
		for range readers {
			select {
			case gr := <-got:
				if !sent[gr] {
					t.Fatal("a group was delivered twice or never sent")
				}
				delete(sent, gr)
			case err := <-errs:
				t.Fatalf("round %d: %d groups never reached a waiting reader: %v", round, len(sent), err)
			}
		}
		cancel()
	}
}

// TestGroupQueueOrderAndClose checks that groups come out in the order they
// were pushed, that the limit holds, and that a closed queue refuses groups
// and hands back the ones it held.
func TestGroupQueueOrderAndClose(t *testing.T) {
	q := newGroupQueue()
	var grs [10]GroupReader
	for i := range grs {
		if !q.push(&grs[i], 0) {
			t.Fatalf("push %d refused", i)
		}
		if i%3 == 2 { // interleave pops with pushes
			if g := q.pop(false); g != &grs[i/3] {
				t.Fatalf("pop after push %d: got a different group than #%d", i, i/3)
			}
		}
	}
	if q.push(&GroupReader{}, 7) {
		t.Fatal("push beyond the limit of 7 queued groups was accepted")
	}
	for i := 3; i < 6; i++ {
		if g := q.pop(false); g != &grs[i] {
			t.Fatalf("pop: want group #%d", i)
		}
	}
	rest := q.close()
	if len(rest) != 4 || rest[0] != &grs[6] || rest[3] != &grs[9] {
		t.Fatalf("close returned %d groups, want #6..#9", len(rest))
	}
	if q.push(&GroupReader{}, 0) {
		t.Fatal("push after close was accepted")
	}
	if g := q.pop(false); g != nil {
		t.Fatal("pop after close returned a group")
	}
}

// TestGroupQueuePassesWakeOn checks the hand-over that keeps several
// waiting readers live: with two readers waiting and two groups pushed
// before either woke, only one wake-up fits in the channel, so the reader
// that takes the first group must leave a wake-up for the other.
func TestGroupQueuePassesWakeOn(t *testing.T) {
	q := newGroupQueue()
	for range 2 { // two readers register
		if q.pop(true) != nil {
			t.Fatal("empty queue returned a group")
		}
	}
	a, b := &GroupReader{}, &GroupReader{}
	q.push(a, 0)
	q.push(b, 0)
	<-q.wake // the first reader wakes
	q.unwait()
	if g := q.pop(true); g != a {
		t.Fatal("first reader did not get the first group")
	}
	select {
	case <-q.wake:
	default:
		t.Fatal("no wake-up left for the second waiting reader")
	}
	q.unwait()
	if g := q.pop(true); g != b {
		t.Fatal("second reader did not get the second group")
	}
}

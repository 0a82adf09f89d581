package relay

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/moqgo/moqgo/moqt"
)

// Benchmark groups: 30 frames of 1 KiB, as in bench/fanout.
const (
	benchFrames    = 30
	benchFrameSize = 1024
	benchWindow    = 8 // groups in flight before the publisher waits
)

// progress counts the groups received, all subscribers together.
type progress struct {
	n    atomic.Int64
	more chan struct{}
}

func (p *progress) add() {
	p.n.Add(1)
	select {
	case p.more <- struct{}{}:
	default:
	}
}

// wait returns once at least target groups were received.
func (p *progress) wait(target int64) {
	for p.n.Load() < target {
		<-p.more
	}
}

// benchReaders subscribes the sessions to /live "video" and counts the
// groups each received completely.
func benchReaders(b *testing.B, ctx context.Context, sessions []*moqt.Session) (*progress, func()) {
	b.Helper()
	done := &progress{more: make(chan struct{}, 1)}
	var wg sync.WaitGroup
	for _, sess := range sessions {
		tr, err := sess.Subscribe("/live", "video", &moqt.TrackConfig{Filter: moqt.FilterAbsoluteStart})
		if err != nil {
			b.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				gr, err := tr.AcceptGroup(ctx)
				if err != nil {
					return
				}
				if objs, err := readAll(gr); err == nil && len(objs) == benchFrames {
					done.add()
				}
			}
		}()
	}
	return done, wg.Wait
}

// pushGroups writes b.N groups with push, keeping at most benchWindow
// groups ahead of the slowest subscriber.
func pushGroups(b *testing.B, n int, done *progress, push func(g moqt.GroupSequence)) {
	b.SetBytes(benchFrames * benchFrameSize * int64(n))
	b.ReportAllocs()
	b.ResetTimer()
	for g := 0; g < b.N; g++ {
		done.wait(int64(n * (g - benchWindow)))
		push(moqt.GroupSequence(g))
	}
	done.wait(int64(n * b.N))
	b.StopTimer()
}

func writeBenchGroup(tw *moqt.TrackWriter, g moqt.GroupSequence, frames []*moqt.Frame) error {
	gw, err := tw.OpenGroup(g)
	if err != nil {
		return err
	}
	for _, f := range frames {
		if err := gw.WriteFrame(f); err != nil {
			return err
		}
	}
	return gw.Close()
}

// BenchmarkFanOut: one publisher to N subscribers through the relay, all
// over raw QUIC on loopback in this process. Compare with
// BenchmarkDirect, the same publisher serving the N subscribers itself.
func BenchmarkFanOut(b *testing.B) {
	for _, n := range []int{1, 10} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			e := startRelay(b, Config{MaxBacklogGroups: 4 * benchWindow, CacheGroups: benchWindow})
			ctx := testContext(b)
			f := newFeed()
			f.publish(b, e, "moqt", "/live")
			waitAnnounced(b, ctx, e.relay, "/live")
			sessions := make([]*moqt.Session, n)
			for i := range sessions {
				sessions[i] = e.dial(b, "moqt", nil)
			}
			done, wait := benchReaders(b, ctx, sessions)
			frames := make([]*moqt.Frame, benchFrames)
			for i := range frames {
				frames[i] = moqt.NewFrame(make([]byte, benchFrameSize))
			}
			pushGroups(b, n, done, func(g moqt.GroupSequence) {
				f.push(b, ctx, func(tw *moqt.TrackWriter) error { return writeBenchGroup(tw, g, frames) })
			})
			for _, s := range sessions {
				s.Close()
			}
			wait()
		})
	}
}

// BenchmarkDirect is BenchmarkFanOut without the relay: the publisher's
// server writes every group to each of the N subscriptions itself.
func BenchmarkDirect(b *testing.B) {
	for _, n := range []int{1, 10} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			frames := make([]*moqt.Frame, benchFrames)
			for i := range frames {
				frames[i] = moqt.NewFrame(make([]byte, benchFrameSize))
			}
			var mu sync.Mutex
			var subs []chan moqt.GroupSequence
			mux := moqt.NewTrackMux()
			mux.PublishFunc(context.Background(), "/live", func(tw *moqt.TrackWriter) {
				ch := make(chan moqt.GroupSequence, 4*benchWindow)
				mu.Lock()
				subs = append(subs, ch)
				mu.Unlock()
				if tw.WriteInfo(moqt.Info{}) != nil {
					return
				}
				for {
					select {
					case g := <-ch:
						if writeBenchGroup(tw, g, frames) != nil {
							return
						}
					case <-tw.Context().Done():
						return
					}
				}
			})
			e := startDirect(b, mux)
			ctx := testContext(b)
			sessions := make([]*moqt.Session, n)
			for i := range sessions {
				sessions[i] = e.dial(b, "moqt", nil)
			}
			done, wait := benchReaders(b, ctx, sessions)
			pushGroups(b, n, done, func(g moqt.GroupSequence) {
				mu.Lock()
				defer mu.Unlock()
				for _, ch := range subs {
					ch <- g
				}
			})
			for _, s := range sessions {
				s.Close()
			}
			wait()
		})
	}
}

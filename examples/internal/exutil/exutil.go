// Package exutil holds what the examples share: a self-signed certificate
// for local runs and a fan-out of live groups to every subscriber.
package exutil

import (
	"crypto/tls"
	"sync"

	"github.com/moqgo/moqgo/internal/testcert"
	"github.com/moqgo/moqgo/moqt"
)

// SelfSigned returns a server TLS config with a fresh ECDSA P-256
// certificate for localhost and a client TLS config that trusts it.
func SelfSigned() (server, client *tls.Config, err error) { return testcert.New() }

// Broadcast sends every frame it is given to all current subscribers, one
// group per frame: a live track where each group is a join point. Its
// ServeTrack method makes it a moqt.TrackHandler.
type Broadcast struct {
	mu    sync.Mutex
	subs  map[*moqt.TrackWriter]struct{}
	seq   moqt.GroupSequence
	first chan struct{} // closed when the first subscriber arrives
}

// Subscribed returns a channel closed once the broadcast has had a
// subscriber.
func (b *Broadcast) Subscribed() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.first == nil {
		b.first = make(chan struct{})
	}
	return b.first
}

// ServeTrack adds the subscriber until it leaves.
func (b *Broadcast) ServeTrack(tw *moqt.TrackWriter) {
	b.mu.Lock()
	if b.subs == nil {
		b.subs = make(map[*moqt.TrackWriter]struct{})
	}
	if b.first == nil {
		b.first = make(chan struct{})
	}
	if len(b.subs) == 0 {
		select {
		case <-b.first:
		default:
			close(b.first)
		}
	}
	b.subs[tw] = struct{}{}
	b.mu.Unlock()
	_ = tw.WriteInfo(moqt.Info{})
	<-tw.Context().Done()
	b.mu.Lock()
	delete(b.subs, tw)
	b.mu.Unlock()
}

// Subscribers returns the number of current subscribers.
func (b *Broadcast) Subscribers() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs)
}

// Send writes f as a new group to every subscriber.
func (b *Broadcast) Send(f *moqt.Frame) {
	b.mu.Lock()
	seq := b.seq
	b.seq++
	subs := make([]*moqt.TrackWriter, 0, len(b.subs))
	for tw := range b.subs {
		subs = append(subs, tw)
	}
	b.mu.Unlock()
	for _, tw := range subs {
		gw, err := tw.OpenGroup(seq)
		if err != nil {
			continue
		}
		_ = gw.WriteFrame(f)
		_ = gw.Close()
	}
}

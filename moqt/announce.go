package moqt

import (
	"context"
	"sync"
)

// Announcement is the availability of a broadcast path: a PUBLISH_NAMESPACE
// that stays active until it ends (PUBLISH_NAMESPACE_DONE, its context is
// canceled, or the session closes).
type Announcement struct {
	// BroadcastPath is the announced path.
	BroadcastPath BroadcastPath

	ctx    context.Context
	cancel context.CancelFunc
}

// NewAnnouncement returns an announcement of path that is active until ctx
// is done or End is called. The returned function is End.
func NewAnnouncement(ctx context.Context, path BroadcastPath) (*Announcement, func()) {
	ctx, cancel := context.WithCancel(ctx)
	a := &Announcement{BroadcastPath: cleanPath(path), ctx: ctx, cancel: cancel}
	return a, a.End
}

// End ends the announcement.
func (a *Announcement) End() { a.cancel() }

// IsActive reports whether the announcement has not ended.
func (a *Announcement) IsActive() bool { return a.ctx.Err() == nil }

// Done returns a channel closed when the announcement ends.
func (a *Announcement) Done() <-chan struct{} { return a.ctx.Done() }

// Context returns a context canceled when the announcement ends.
func (a *Announcement) Context() context.Context { return a.ctx }

// AnnouncementReader yields the announcements a peer makes under a prefix
// (SUBSCRIBE_NAMESPACE). Each active announcement is yielded once; watch its
// Done channel to learn when it ends.
type AnnouncementReader struct {
	// Prefix is the broadcast path prefix subscribed to.
	Prefix BroadcastPath

	sess  *Session
	reqID uint64

	mu     sync.Mutex
	queue  []*Announcement
	notify chan struct{} // receives a token when queue grows
	closed bool
	err    error

	ready    chan struct{}       // non-nil until SUBSCRIBE_NAMESPACE_OK/ERROR (guarded by sess.mu)
	handle   func(*Announcement) // called instead of queueing (relay_hooks.go)
	setupErr error
}

func newAnnouncementReader(s *Session, prefix BroadcastPath, reqID uint64) *AnnouncementReader {
	return &AnnouncementReader{Prefix: prefix, sess: s, reqID: reqID, notify: make(chan struct{}, 1)}
}

// ReceiveAnnouncement waits for the next announcement.
func (r *AnnouncementReader) ReceiveAnnouncement(ctx context.Context) (*Announcement, error) {
	for {
		r.mu.Lock()
		if len(r.queue) > 0 {
			a := r.queue[0]
			r.queue[0] = nil
			r.queue = r.queue[1:]
			r.mu.Unlock()
			return a, nil
		}
		if r.closed {
			err := r.err
			r.mu.Unlock()
			return nil, err
		}
		r.mu.Unlock()
		select {
		case <-r.notify:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// push queues a, dropping it if the queue is full.
func (r *AnnouncementReader) push(a *Announcement) {
	if r.handle != nil { // HandlePeerAnnouncements (relay_hooks.go)
		r.handle(a)
		return
	}
	r.mu.Lock()
	if !r.closed && len(r.queue) < r.sess.cfg.MaxAnnouncements {
		r.queue = append(r.queue, a)
	}
	r.mu.Unlock()
	select {
	case r.notify <- struct{}{}:
	default:
	}
}

func (r *AnnouncementReader) finish(err error) {
	r.mu.Lock()
	if !r.closed {
		r.closed, r.err = true, err
	}
	r.mu.Unlock()
	select {
	case r.notify <- struct{}{}:
	default:
	}
}

// Close stops the namespace subscription (UNSUBSCRIBE_NAMESPACE).
func (r *AnnouncementReader) Close() error {
	r.finish(ErrClosed)
	return r.sess.unsubscribeNamespace(r)
}

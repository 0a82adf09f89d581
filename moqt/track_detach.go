package moqt

// Detach lets ServeTrack return while the subscription goes on, for a
// handler that serves many subscriptions from callbacks rather than from a
// goroutine each, as http.Hijacker lets a handler keep its connection. A
// relay holds one subscription per viewer, most of them waiting for the
// next group: a goroutine parked in ServeTrack for each costs its stack
// (4 KiB or more) for as long as the viewer stays.
//
// After Detach the handler owns the TrackWriter: returning from ServeTrack
// no longer closes it, and the handler must Close or CloseWithError it when
// the subscription ends. Context reports when the subscriber or the session
// ended it (context.AfterFunc waits for that without a goroutine).
// onUpdate, if not nil, is called on every SUBSCRIBE_UPDATE, as Updated
// reports it; it runs on the session's control stream reader, so it must
// not block. Detach is called from ServeTrack; on a TrackWriter from
// Session.Publish, which no ServeTrack closes, only onUpdate matters.
func (tw *TrackWriter) Detach(onUpdate func()) {
	tw.mu.Lock()
	tw.detached = true
	tw.onUpdate = onUpdate
	tw.mu.Unlock()
}

// closeAttached closes tw after ServeTrack returned, unless the handler
// detached it.
func (tw *TrackWriter) closeAttached() {
	tw.mu.Lock()
	detached := tw.detached
	tw.mu.Unlock()
	if !detached {
		_ = tw.Close()
	}
}

// notifyUpdated reports a SUBSCRIBE_UPDATE: on Updated, and to the
// onUpdate of a detached handler.
func (tw *TrackWriter) notifyUpdated() {
	select {
	case tw.updated <- struct{}{}:
	default:
	}
	tw.mu.Lock()
	f := tw.onUpdate
	tw.mu.Unlock()
	if f != nil {
		f()
	}
}

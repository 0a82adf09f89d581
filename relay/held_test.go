package relay

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/moqgo/moqgo/moqt"
)

// TestHeldGroupsTimeOut: groups the relay has finished writing but moqt's
// scheduler still holds, because their subscriber reads nothing, stay in
// flight only up to StallTimeout (awaitSent's timer); then their streams
// are reset with DELIVERY_TIMEOUT, each counted as a skip, and their
// senders end, while a subscriber that reads gets every group.
func TestHeldGroupsTimeOut(t *testing.T) {
	const groups, objects, size = 4, 20, 1024
	skipped := make(chan struct{}, groups+1)
	log := slog.New(&msgHandler{msg: "group skipped: not sent in time", seen: skipped})
	e := startRelayWith(t, Config{StallTimeout: 300 * time.Millisecond, Logger: log}, nil)
	ctx := testContext(t)
	f := newFeed()
	f.publish(t, e, "moqt", "/live")
	waitAnnounced(t, ctx, e.relay, "/live")

	// 4 KiB per stream, 16 KiB per connection: most of each 20 KiB group
	// stays in the relay's scheduler while nobody reads.
	stalled, err := e.dialNarrow(t, 4<<10, 16<<10).Subscribe("/live", "video", &moqt.TrackConfig{Filter: moqt.FilterAbsoluteStart})
	if err != nil {
		t.Fatal(err)
	}
	reader, err := e.dial(t, "moqt", nil).Subscribe("/live", "video", &moqt.TrackConfig{Filter: moqt.FilterAbsoluteStart})
	if err != nil {
		t.Fatal(err)
	}
	for g := range moqt.GroupSequence(groups) {
		f.push(t, ctx, writeGroup(g, objects, size))
	}
	for range groups {
		g, objs := readGroup(t, ctx, reader)
		if len(objs) != objects {
			t.Fatalf("reading subscriber: group %d has %d objects, want %d", g, len(objs), objects)
		}
	}
	select {
	case <-skipped: // a held group timed out
	case <-ctx.Done():
		t.Fatal("no held group was reset after StallTimeout")
	}
	// One more group marks the end; then the stalled subscriber reads. A
	// group the relay reset ends with DELIVERY_TIMEOUT after what it had
	// sent, or never shows up if nothing of it had.
	f.push(t, ctx, writeGroup(groups, objects, size))
	full := 0
	for {
		gr, err := stalled.AcceptGroup(ctx)
		if err != nil {
			t.Fatal(err)
		}
		_, err = readAll(gr)
		var ge *moqt.GroupError
		switch {
		case err == nil:
			full++
		case !errors.As(err, &ge) || ge.Code != moqt.GroupErrorDeliveryTimeout:
			t.Fatalf("stalled subscriber: group %d: %v", gr.GroupSequence(), err)
		}
		if gr.GroupSequence() == groups {
			break
		}
	}
	reset := groups + 1 - full
	if reset == 0 {
		t.Fatal("the stalled subscriber read every group in full: nothing was held")
	}
	for range reset - 1 { // the first was seen above
		select {
		case <-skipped:
		case <-ctx.Done():
			t.Fatalf("%d groups not delivered in full, fewer skips logged", reset)
		}
	}
	if n := e.relay.stats.skips.Load(); n != int64(reset) {
		t.Fatalf("%d skips counted, %d groups not delivered in full", n, reset)
	}
}

// msgHandler is a slog.Handler that reports each record whose message is
// msg on seen, without blocking.
type msgHandler struct {
	msg  string
	seen chan struct{}
}

func (h *msgHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *msgHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.msg {
		select {
		case h.seen <- struct{}{}:
		default:
		}
	}
	return nil
}

func (h *msgHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *msgHandler) WithGroup(string) slog.Handler      { return h }

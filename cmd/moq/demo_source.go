package main

import (
	"context"
	"time"

	"github.com/moqgo/moqgo/moqt"
)

// The demo's synthetic broadcast: a clock track (one group per second, one
// object with the time) and a video-like track (30 frames/s in one-second
// groups: a large key frame first, a base layer in subgroup 0 and an
// enhancement layer in subgroup 1, about 2 Mbit/s). Every object carries
// its send time in an extension header so subscribers can measure
// end-to-end latency through the relay.
const (
	demoPath       = moqt.BroadcastPath("/demo")
	sentAtExt      = 0x2e // even: a varint value, the send time in µs since the Unix epoch
	fps            = 30
	keyFrameSize   = 50_000
	baseFrameSize  = 5_000
	layerFrameSize = 1_500
)

func sentAt(now time.Time) []moqt.Extension {
	return []moqt.Extension{{Type: sentAtExt, Value: uint64(now.UnixMicro())}}
}

// demoPayload is a shared buffer frames are cut from: the demo measures
// transport, not content, and a Frame is never modified.
var demoPayload = func() []byte {
	b := make([]byte, keyFrameSize)
	for i := range b {
		b[i] = byte(i * 7)
	}
	return b
}()

// serveDemoTrack is the publisher's TrackHandler.
func serveDemoTrack(tw *moqt.TrackWriter) {
	if err := tw.WriteInfo(moqt.Info{}); err != nil {
		return
	}
	switch tw.TrackName {
	case "clock":
		serveClock(tw)
	case "video":
		serveVideo(tw)
	default:
		tw.CloseWithError(moqt.DoneTrackEnded)
	}
}

func serveClock(tw *moqt.TrackWriter) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for g := moqt.GroupSequence(0); ; g++ {
		now := time.Now()
		gw, err := tw.OpenGroup(g)
		if err != nil {
			return
		}
		_ = gw.WriteObject(&moqt.Object{Extensions: sentAt(now), Frame: moqt.NewFrame([]byte(now.Format(time.TimeOnly)))})
		gw.Close()
		select {
		case <-tick.C:
		case <-tw.Context().Done():
			return
		}
	}
}

func serveVideo(tw *moqt.TrackWriter) {
	tick := time.NewTicker(time.Second / fps)
	defer tick.Stop()
	var base, layer *moqt.GroupWriter
	defer func() {
		if base != nil {
			base.Close()
			layer.Close()
		}
	}()
	for g, f := moqt.GroupSequence(0), 0; ; f++ {
		if f == fps {
			base.Close()
			layer.Close()
			base, f = nil, 0
			g++
		}
		now := time.Now()
		size := baseFrameSize
		if base == nil {
			var err error
			if base, err = tw.OpenSubgroup(g, 0, 64); err != nil {
				return
			}
			if layer, err = tw.OpenSubgroup(g, 1, 192); err != nil {
				base.Close()
				return
			}
			size = keyFrameSize
		}
		// Object IDs are unique in the group: even for the base layer, odd
		// for the enhancement layer.
		if base.WriteObject(&moqt.Object{ID: uint64(2 * f), Extensions: sentAt(now), Frame: moqt.NewFrame(demoPayload[:size])}) != nil ||
			layer.WriteObject(&moqt.Object{ID: uint64(2*f + 1), Extensions: sentAt(now), Frame: moqt.NewFrame(demoPayload[:layerFrameSize])}) != nil {
			return
		}
		select {
		case <-tick.C:
		case <-tw.Context().Done():
			return
		}
	}
}

// runPublisher publishes the demo broadcast through the relay at url
// until ctx is done.
func runPublisher(ctx context.Context, c *moqt.Client, url string) (*moqt.Session, error) {
	mux := moqt.NewTrackMux()
	mux.PublishFunc(ctx, demoPath, serveDemoTrack)
	// The client session announces the broadcast to the relay itself
	// (moqt.Config.AnnounceMode).
	return c.Dial(ctx, url, mux)
}

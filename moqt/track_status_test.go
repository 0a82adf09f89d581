package moqt

import (
	"errors"
	"testing"
)

func TestTrackStatus(t *testing.T) {
	for _, scheme := range transports {
		t.Run(scheme, func(t *testing.T) {
			b := NewBroadcast()
			video := b.AddTrack("video", nil)
			writeTrackGroups(t, video, 0, 3, 2)
			b.AddTrack("empty", nil)
			env := serveBroadcast(t, b)
			sess := env.dial(t, scheme, nil)
			ctx := testContext(t)

			info, err := sess.TrackStatus(ctx, "/live", "video")
			if err != nil {
				t.Fatal(err)
			}
			if !info.ContentExists || info.LatestGroup != 2 || info.LatestObject != 1 || info.GroupOrder != GroupOrderAscending {
				t.Errorf("TRACK_STATUS_OK %+v, want largest 2.1, ascending", info)
			}
			if info, err := sess.TrackStatus(ctx, "/live", "empty"); err != nil || info.ContentExists {
				t.Errorf("empty track: %+v, %v", info, err)
			}
			errs := []struct {
				path BroadcastPath
				name TrackName
				code SubscribeErrorCode
			}{
				{"/live", "audio", SubscribeErrorTrackDoesNotExist},
				{"/nowhere", "video", SubscribeErrorTrackDoesNotExist},
				{"/plain", "video", SubscribeErrorNotSupported},
			}
			for _, e := range errs {
				_, err := sess.TrackStatus(ctx, e.path, e.name)
				var se *SubscribeError
				if !errors.As(err, &se) || se.Code != e.code {
					t.Errorf("TrackStatus(%s, %s) = %v, want TRACK_STATUS_ERROR %#x", e.path, e.name, err, uint64(e.code))
				}
			}
			// TRACK_STATUS creates no subscription.
			if n := video.Subscribers(); n != 0 {
				t.Errorf("%d subscribers after TRACK_STATUS", n)
			}
		})
	}
}

package moqt

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

func recordGroup(h *TrackHistory, g GroupSequence, n, size int) []*Frame {
	var frames []*Frame
	for i := 0; i < n; i++ {
		f := NewFrame(make([]byte, size))
		frames = append(frames, f)
		h.Record(&TrackObject{Group: g, Object: Object{ID: uint64(i), Frame: f}})
	}
	return frames
}

func TestTrackHistoryLimits(t *testing.T) {
	t.Run("groups", func(t *testing.T) {
		h := &TrackHistory{MaxGroups: 3}
		for g := GroupSequence(0); g < 5; g++ {
			recordGroup(h, g, 2, 10)
		}
		if got := h.Groups(); !slices.Equal(got, []GroupSequence{2, 3, 4}) {
			t.Errorf("Groups = %v, want [2 3 4]", got)
		}
		if l, ok := h.Largest(); !ok || l != (Location{4, 1}) {
			t.Errorf("Largest = %v, %v", l, ok)
		}
		// A group older than everything kept is not recorded.
		recordGroup(h, 0, 1, 10)
		if got := h.Groups(); !slices.Equal(got, []GroupSequence{2, 3, 4}) {
			t.Errorf("after late old group: Groups = %v", got)
		}
	})
	t.Run("bytes", func(t *testing.T) {
		h := &TrackHistory{MaxBytes: 250}
		for g := GroupSequence(0); g < 3; g++ {
			recordGroup(h, g, 1, 100)
		}
		if got := h.Groups(); !slices.Equal(got, []GroupSequence{1, 2}) {
			t.Errorf("Groups = %v, want [1 2]", got)
		}
		// The newest group stays even if it alone exceeds the limit.
		recordGroup(h, 3, 1, 1000)
		if got := h.Groups(); !slices.Equal(got, []GroupSequence{3}) {
			t.Errorf("Groups = %v, want [3]", got)
		}
	})
	t.Run("age", func(t *testing.T) {
		now := time.Unix(1000, 0)
		h := &TrackHistory{MaxAge: 3 * time.Second, now: func() time.Time { return now }}
		recordGroup(h, 0, 1, 1)
		now = now.Add(2 * time.Second)
		recordGroup(h, 1, 1, 1)
		now = now.Add(2 * time.Second)
		if got := h.Groups(); !slices.Equal(got, []GroupSequence{1}) {
			t.Errorf("Groups = %v, want [1]", got)
		}
		now = now.Add(2 * time.Second)
		if got := h.Groups(); len(got) != 0 {
			t.Errorf("Groups = %v, want none", got)
		}
		if _, ok := h.Largest(); !ok {
			t.Error("eviction forgot the largest location")
		}
	})
	t.Run("defaults", func(t *testing.T) {
		var h TrackHistory
		for g := GroupSequence(0); g < DefaultHistoryGroups+5; g++ {
			recordGroup(&h, g, 1, 1)
		}
		if got := len(h.Groups()); got != DefaultHistoryGroups {
			t.Errorf("kept %d groups, want %d", got, DefaultHistoryGroups)
		}
	})
}

func locs(objs []TrackObject) string {
	s := ""
	for _, o := range objs {
		s += fmt.Sprintf("%d.%d ", o.Group, o.ID)
	}
	return s
}

func TestTrackHistoryRange(t *testing.T) {
	h := &TrackHistory{}
	// Recorded out of order, as concurrent subgroups and groups arrive.
	frames := map[Location]*Frame{}
	for _, l := range []Location{{2, 1}, {0, 0}, {2, 0}, {1, 2}, {1, 0}, {1, 1}, {0, 1}} {
		f := NewFrame([]byte("x"))
		frames[l] = f
		h.Record(&TrackObject{Group: l.Group, Object: Object{ID: l.Object, Frame: f}})
	}
	tests := []struct {
		start, end Location
		order      GroupOrder
		want       string
	}{
		{Location{0, 0}, Location{2, 0}, GroupOrderAscending, "0.0 0.1 1.0 1.1 1.2 2.0 2.1 "},
		{Location{0, 0}, Location{2, 0}, GroupOrderDescending, "2.0 2.1 1.0 1.1 1.2 0.0 0.1 "},
		{Location{0, 1}, Location{1, 2}, GroupOrderAscending, "0.1 1.0 1.1 "},
		{Location{1, 0}, Location{1, 0}, GroupOrderDefault, "1.0 1.1 1.2 "},
		{Location{5, 0}, Location{9, 0}, GroupOrderAscending, ""},
	}
	for _, tt := range tests {
		got := h.Range(tt.start, tt.end, tt.order)
		if s := locs(got); s != tt.want {
			t.Errorf("Range(%v, %v, %d) = %q, want %q", tt.start, tt.end, tt.order, s, tt.want)
		}
		for _, o := range got {
			if o.Frame != frames[o.Location()] {
				t.Errorf("object %v: frame copied, want the recorded one", o.Location())
			}
		}
	}
	// Replacing an object keeps the byte count right.
	h.Record(&TrackObject{Group: 2, Object: Object{ID: 1, Frame: NewFrame([]byte("yyy"))}})
	if h.bytes != 9 {
		t.Errorf("bytes = %d, want 9", h.bytes)
	}
}

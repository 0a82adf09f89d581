package main

import (
	"slices"
	"sync"
	"time"
)

// trackStats is what one demo subscriber measured on one track.
type trackStats struct {
	mu        sync.Mutex
	objects   int64
	catchUp   int64 // objects sent before the subscription began
	bytes     int64
	groups    map[uint64]struct{} // group IDs seen (recent)
	groupsN   int64
	drops     int64
	maxGroup  uint64
	latencies []time.Duration // ring of recent samples
	next      int
	lastBytes int64
	lastAt    time.Time
}

const latencySamples = 2048

func newTrackStats() *trackStats {
	return &trackStats{groups: make(map[uint64]struct{}), lastAt: time.Now()}
}

// object records an object of size bytes that was sent latency ago. A
// catch-up object, one sent before the subscription began (the start of the
// current group, replayed to a late joiner from the relay's cache), counts
// as received but not in the latency percentiles: its age is how long ago
// the group began relative to the join, not a delay of the path.
func (s *trackStats) object(size int, latency time.Duration, catchUp bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.objects++
	s.bytes += int64(size)
	if catchUp {
		s.catchUp++
		return
	}
	if len(s.latencies) < latencySamples {
		s.latencies = append(s.latencies, latency)
	} else {
		s.latencies[s.next] = latency
		s.next = (s.next + 1) % latencySamples
	}
}

// group records a group (subgroup stream) that began: a gap in group IDs
// counts as dropped groups.
func (s *trackStats) group(id uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.groups[id]; ok {
		return
	}
	if s.groupsN > 0 && id > s.maxGroup+1 {
		s.drops += int64(id - s.maxGroup - 1)
	}
	s.groups[id] = struct{}{}
	s.groupsN++
	if id > s.maxGroup || s.groupsN == 1 {
		s.maxGroup = id
	}
	if len(s.groups) > 64 {
		for g := range s.groups {
			if g+32 < s.maxGroup {
				delete(s.groups, g)
			}
		}
	}
}

// drop records a group that was cut short (its stream reset).
func (s *trackStats) drop() {
	s.mu.Lock()
	s.drops++
	s.mu.Unlock()
}

// snapshot is a line of the demo's table.
type snapshot struct {
	objects, catchUp int64
	groups, drops    int64
	bitrate          float64 // bits/s since the previous snapshot
	p50, p99         time.Duration
}

func (s *trackStats) snapshot() snapshot {
	s.mu.Lock()
	now := time.Now()
	out := snapshot{objects: s.objects, catchUp: s.catchUp, groups: s.groupsN, drops: s.drops}
	if dt := now.Sub(s.lastAt).Seconds(); dt > 0 {
		out.bitrate = float64(s.bytes-s.lastBytes) * 8 / dt
	}
	s.lastBytes, s.lastAt = s.bytes, now
	lat := slices.Clone(s.latencies)
	s.mu.Unlock()
	if len(lat) > 0 {
		slices.Sort(lat)
		out.p50 = lat[len(lat)*50/100]
		out.p99 = lat[min(len(lat)-1, len(lat)*99/100)]
	}
	return out
}

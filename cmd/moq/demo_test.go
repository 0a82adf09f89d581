package main

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestDemoCommand runs `moq demo --duration 3s` and checks that every
// subscriber received objects on every track, with a live latency well
// below the half group by which the demo's late joiners join mid-group:
// the age of the catch-up objects replayed to them (up to ~500 ms) once
// showed up as the p99 of the WebTransport subscribers, which happen to be
// the ones joining mid-group. 250 ms leaves a wide margin over the few
// milliseconds loopback takes, even on a loaded machine under -race.
func TestDemoCommand(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out := newSyncBuffer()
	cmd := newRootCmd()
	cmd.SetOut(out)
	cmd.SetArgs([]string{"demo", "--duration", "3s"})
	if err := cmd.ExecuteContext(ctx); err != nil {
		t.Fatalf("moq demo: %v\n%s", err, out.String())
	}
	rows := 0
	for _, line := range strings.Split(out.String(), "\n") {
		f := strings.Fields(line)
		if len(f) < 5 || !strings.HasPrefix(f[0], "sub") || (f[2] != "clock" && f[2] != "video") {
			continue
		}
		rows++
		// subscriber, transport, track, bitrate (2 fields), groups, objects, ...
		objects, err := strconv.Atoi(f[6])
		if err != nil || objects == 0 {
			t.Errorf("no objects received: %q", line)
		}
		// ..., catch-up, p50, p99, drops
		p99, err := time.ParseDuration(f[9])
		if err != nil {
			t.Errorf("no live latency: %q", line)
		} else if p99 >= 250*time.Millisecond {
			t.Errorf("p99 latency %v, want < 250ms: %q", p99, line)
		}
	}
	if rows != 8 {
		t.Errorf("%d stats rows, want 4 subscribers x 2 tracks:\n%s", rows, out.String())
	}
	t.Logf("\n%s", out.String())
}

// TestTrackStatsCatchUp checks that objects sent before the subscription
// began are counted, but not in the latency percentiles.
func TestTrackStatsCatchUp(t *testing.T) {
	st := newTrackStats()
	for i := range 30 {
		st.object(100, time.Duration(500-i)*time.Millisecond, true)
	}
	for range 270 {
		st.object(100, 2*time.Millisecond, false)
	}
	sn := st.snapshot()
	if sn.objects != 300 || sn.catchUp != 30 {
		t.Errorf("objects %d, catch-up %d; want 300, 30", sn.objects, sn.catchUp)
	}
	if sn.p50 != 2*time.Millisecond || sn.p99 != 2*time.Millisecond {
		t.Errorf("p50 %v, p99 %v; want 2ms: catch-up ages counted as latency", sn.p50, sn.p99)
	}
}

package main

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestDemoCommand runs `moq demo --duration 3s` and checks that every
// subscriber received objects on every track.
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
	}
	if rows != 8 {
		t.Errorf("%d stats rows, want 4 subscribers x 2 tracks:\n%s", rows, out.String())
	}
	t.Logf("\n%s", out.String())
}

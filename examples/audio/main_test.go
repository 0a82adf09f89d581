package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestDemo(t *testing.T) {
	defer goleak.VerifyNone(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	const n = 20
	var out strings.Builder
	if err := demo(ctx, n, frameInterval, &out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("want a line per transport, got:\n%s", out.String())
	}
	for i, scheme := range []string{"moqt", "https"} {
		var received, first, last int
		if _, err := fmt.Sscanf(lines[i], scheme+": received %d frames of groups %d-%d", &received, &first, &last); err != nil {
			t.Fatalf("line %q: %v", lines[i], err)
		}
		// Datagrams may be lost, even on loopback, but not most of them:
		// a loaded machine still delivers half.
		if received < n/2 || received > n {
			t.Errorf("%s: received %d of %d frames", scheme, received, n)
		}
		if first < 0 || last > n-1 || last-first+1 < received {
			t.Errorf("%s: groups %d-%d for %d frames, want within 0-%d", scheme, first, last, received, n-1)
		}
	}
}

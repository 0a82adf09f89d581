package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestDemo(t *testing.T) {
	defer goleak.VerifyNone(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out bytes.Buffer
	if err := demo(ctx, 3, 10*time.Millisecond, &out); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.String(), "group "); n != 6 {
		t.Errorf("got %d ticks, want 6:\n%s", n, out.String())
	}
}

package main

import (
	"bytes"
	"context"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestDemo(t *testing.T) {
	defer goleak.VerifyNone(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out bytes.Buffer
	if err := demo(ctx, &out); err != nil {
		t.Fatal(err)
	}
	if got, want := out.String(), "[bob] alice: hello, anyone here?\n[alice] alice: hello, anyone here?\n[alice] bob: hi alice\n"; got != want {
		t.Errorf("saw %q, want %q", got, want)
	}
}

package moqt

import (
	"context"
	"fmt"
	"io"
	"testing"
	"time"
)

// BenchmarkScheduler measures the priority scheduler's cost on an
// unconstrained loopback: the same publisher-to-subscriber transfer as
// BenchmarkSession with the scheduler (default) and with
// Config.DisableScheduler, in one run.
func BenchmarkScheduler(b *testing.B) {
	for _, sh := range benchShapes {
		for _, off := range []bool{false, true} {
			name := "sched"
			if off {
				name = "direct"
			}
			b.Run(fmt.Sprintf("%dx%dB/%s", sh.frames, sh.size, name), func(b *testing.B) {
				benchTransfer(b, sh.frames, sh.size, &Config{DisableScheduler: off})
			})
		}
	}
}

// benchTransfer moves b.N frames of size bytes, frames per group, over raw
// QUIC with the server's Config cfg.
func benchTransfer(b *testing.B, frames, size int, cfg *Config) {
	frame := NewFrame(make([]byte, size))
	n := b.N
	mux := NewTrackMux()
	mux.PublishFunc(context.Background(), "/bench", func(tw *TrackWriter) {
		defer tw.Close()
		for g, sent := GroupSequence(0), 0; sent < n; g++ {
			gw, err := tw.OpenGroup(g)
			if err != nil {
				b.Error(err)
				return
			}
			for i := 0; i < frames && sent < n; i, sent = i+1, sent+1 {
				if err := gw.WriteFrame(frame); err != nil {
					b.Error(err)
					return
				}
			}
			gw.Close()
		}
	})
	env := startServer(b, &Server{TrackMux: mux, Config: cfg})
	// PUBLISH_DONE can overtake many queued groups on a loaded machine:
	// wait for all of them.
	env.client.Config = &Config{PendingStreamTimeout: time.Minute}
	sess := env.dial(b, "moqt", nil)
	b.ReportAllocs()
	b.SetBytes(int64(size))
	b.ResetTimer()
	tr, err := sess.Subscribe("/bench", "t", nil)
	if err != nil {
		b.Fatal(err)
	}
	got := 0
	for {
		gr, err := tr.AcceptGroup(context.Background())
		if err == io.EOF {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		for {
			f, err := gr.ReadFrame()
			if err != nil {
				break
			}
			got += f.Len()
		}
	}
	b.StopTimer()
	if got != n*size {
		b.Fatalf("received %d bytes, want %d", got, n*size)
	}
}

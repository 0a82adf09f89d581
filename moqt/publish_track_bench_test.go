package moqt

import (
	"context"
	"fmt"
	"io"
	"testing"
)

// BenchmarkTrackFanout moves b.N 1 KiB frames (30 per group) through a
// Track — recorded in its history and fanned out — to subs subscribers on
// one session each. Compare subs=1 with BenchmarkSession/<scheme>/30x1024B
// (a TrackWriter written directly) and BenchmarkRawQUIC/30x1024B.
func BenchmarkTrackFanout(b *testing.B) {
	const size, perGroup = 1024, 30
	for _, scheme := range transports {
		for _, subs := range []int{1, 4} {
			b.Run(fmt.Sprintf("%s/subs=%d", scheme, subs), func(b *testing.B) {
				track := NewTrack(&TrackHistory{MaxGroups: 4})
				mux := NewTrackMux()
				mux.Publish(context.Background(), "/bench", track)
				env := startServer(b, &Server{TrackMux: mux})
				var readers []*TrackReader
				for i := 0; i < subs; i++ {
					tr, err := env.dial(b, scheme, nil).Subscribe("/bench", "t", nil)
					if err != nil {
						b.Fatal(err)
					}
					readers = append(readers, tr)
				}
				frame := NewFrame(make([]byte, size))
				n := b.N
				done := make(chan int, subs)
				b.ReportAllocs()
				b.SetBytes(size)
				b.ResetTimer()
				for _, tr := range readers {
					go func() {
						got := 0
						for {
							gr, err := tr.AcceptGroup(context.Background())
							if err != nil {
								done <- got
								return
							}
							for {
								f, err := gr.ReadFrame()
								if err == io.EOF {
									break
								}
								if err != nil {
									done <- got
									return
								}
								got += f.Len()
							}
						}
					}()
				}
				for g, sent := GroupSequence(0), 0; sent < n; g++ {
					gw, err := track.OpenGroup(g)
					if err != nil {
						b.Fatal(err)
					}
					for i := 0; i < perGroup && sent < n; i, sent = i+1, sent+1 {
						if err := gw.WriteFrame(frame); err != nil {
							b.Fatal(err)
						}
					}
					gw.Close()
				}
				track.Close()
				for range readers {
					if got := <-done; got != n*size {
						b.Fatalf("a subscriber received %d bytes, want %d", got, n*size)
					}
				}
				b.StopTimer()
				b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "frames/s")
			})
		}
	}
}

package moqt

import (
	"context"
	"io"
	"testing"
)

// BenchmarkFetch moves b.N 1 KiB objects through one FETCH (one fetch
// stream, 30 objects per group), publisher to fetcher. Compare with
// BenchmarkRawQUIC/30x1024B, the same bytes over bare quic-go.
func BenchmarkFetch(b *testing.B) {
	const size, perGroup = 1024, 30
	for _, scheme := range transports {
		b.Run(scheme, func(b *testing.B) {
			frame := NewFrame(make([]byte, size))
			n := b.N
			mux := NewTrackMux()
			mux.Publish(context.Background(), "/bench", fetchOnly{serve: func(fw *FetchWriter) {
				o := TrackObject{Object: Object{Frame: frame}}
				for i := 0; i < n; i++ {
					o.Group, o.ID = GroupSequence(i/perGroup), uint64(i%perGroup)
					if err := fw.WriteObject(&o); err != nil {
						b.Error(err)
						return
					}
				}
			}})
			env := startServer(b, &Server{TrackMux: mux})
			sess := env.dial(b, scheme, nil)
			ctx := context.Background()
			b.ReportAllocs()
			b.SetBytes(size)
			b.ResetTimer()
			fr, err := sess.Fetch(ctx, "/bench", "t", &FetchConfig{End: Location{Group: GroupSequence(n / perGroup)}})
			if err != nil {
				b.Fatal(err)
			}
			got := 0
			for {
				o, err := fr.ReadObject()
				if err == io.EOF {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
				got += o.Frame.Len()
			}
			b.StopTimer()
			if got != n*size {
				b.Fatalf("received %d bytes, want %d", got, n*size)
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "frames/s")
		})
	}
}

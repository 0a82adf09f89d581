package moqt

import (
	"context"
	"fmt"
	"io"
	"net"
	"sync/atomic"
	"testing"

	"github.com/moqgo/moqgo/internal/wire"
	"github.com/quic-go/quic-go"
)

// benchShapes are the stream patterns benchmarked: frames per group and
// frame size.
var benchShapes = []struct {
	frames, size int
}{
	{30, 1024},
	{1, 100},
}

// BenchmarkSession moves b.N frames through one session, publisher to
// subscriber, one subgroup stream per group.
func BenchmarkSession(b *testing.B) {
	for _, scheme := range transports {
		for _, sh := range benchShapes {
			b.Run(fmt.Sprintf("%s/%dx%dB", scheme, sh.frames, sh.size), func(b *testing.B) {
				frame := NewFrame(make([]byte, sh.size))
				var total atomic.Int64 // frames to send, set before subscribing
				mux := NewTrackMux()
				mux.PublishFunc(context.Background(), "/bench", func(tw *TrackWriter) {
					defer tw.Close()
					n := int(total.Load())
					for g, sent := GroupSequence(0), 0; sent < n; g++ {
						gw, err := tw.OpenGroup(g)
						if err != nil {
							b.Error(err)
							return
						}
						for i := 0; i < sh.frames && sent < n; i, sent = i+1, sent+1 {
							if err := gw.WriteFrame(frame); err != nil {
								b.Error(err)
								return
							}
						}
						gw.Close()
					}
				})
				env := startServer(b, &Server{TrackMux: mux})
				sess := env.dial(b, scheme, nil)
				ctx := context.Background()
				total.Store(int64(b.N))
				b.ReportAllocs()
				b.SetBytes(int64(sh.size))
				b.ResetTimer()
				tr, err := sess.Subscribe("/bench", "t", nil)
				if err != nil {
					b.Fatal(err)
				}
				got := 0
				for {
					gr, err := tr.AcceptGroup(ctx)
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					for {
						f, err := gr.ReadFrame()
						if err == io.EOF {
							break
						}
						if err != nil {
							b.Fatal(err)
						}
						got += f.Len()
					}
				}
				b.StopTimer()
				if got != b.N*sh.size {
					b.Fatalf("received %d bytes, want %d", got, b.N*sh.size)
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
			})
		}
	}
}

// BenchmarkRawQUIC is the baseline: the same bytes in the same stream
// pattern (one unidirectional stream per group) over a bare quic-go
// connection.
func BenchmarkRawQUIC(b *testing.B) {
	for _, sh := range benchShapes {
		b.Run(fmt.Sprintf("%dx%dB", sh.frames, sh.size), func(b *testing.B) {
			srvTLS, cliTLS := testCert(b)
			srvTLS.NextProtos = []string{wire.ALPN}
			cliTLS.NextProtos = []string{wire.ALPN}
			ln, err := quic.ListenAddr("127.0.0.1:0", srvTLS, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer ln.Close()
			ctx := context.Background()
			n := b.N
			sendErr := make(chan error, 1)
			go func() {
				conn, err := ln.Accept(ctx)
				if err != nil {
					sendErr <- err
					return
				}
				frame := make([]byte, sh.size)
				for sent := 0; sent < n; {
					st, err := conn.OpenUniStreamSync(ctx)
					if err != nil {
						sendErr <- err
						return
					}
					for i := 0; i < sh.frames && sent < n; i, sent = i+1, sent+1 {
						if _, err := st.Write(frame); err != nil {
							sendErr <- err
							return
						}
					}
					st.Close()
				}
				sendErr <- nil
				<-conn.Context().Done()
			}()
			b.ReportAllocs()
			b.SetBytes(int64(sh.size))
			b.ResetTimer()
			conn, err := quic.DialAddr(ctx, ln.Addr().(*net.UDPAddr).String(), cliTLS, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer conn.CloseWithError(0, "")
			buf := make([]byte, sh.size)
			got := 0
			for got < n*sh.size {
				st, err := conn.AcceptUniStream(ctx)
				if err != nil {
					b.Fatal(err)
				}
				for {
					_, err := io.ReadFull(st, buf)
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					got += len(buf)
				}
			}
			b.StopTimer()
			if err := <-sendErr; err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
		})
	}
}

package moqt

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/moqgo/moqgo/internal/wire"
	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"
	"github.com/quic-go/webtransport-go"
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
// subscriber, one subgroup stream per group. The subscriber reads with
// ReadFrame (each Frame its own, as a reader that keeps frames needs), or,
// in the "-append" runs, with AppendFrame into one reused buffer, as the
// raw baselines read.
func BenchmarkSession(b *testing.B) {
	for _, scheme := range transports {
		for _, sh := range benchShapes {
			for _, reuse := range []bool{false, true} {
				name := fmt.Sprintf("%s/%dx%dB", scheme, sh.frames, sh.size)
				if reuse {
					name += "-append"
				}
				benchSession(b, name, scheme, sh.frames, sh.size, reuse)
			}
		}
	}
}

// benchSession runs one BenchmarkSession case.
func benchSession(b *testing.B, name, scheme string, frames, size int, reuse bool) {
	sh := struct{ frames, size int }{frames, size}
	b.Run(name, func(b *testing.B) {
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
		// Default Config: streams that beat SUBSCRIBE_OK are held up to
		// the transport's stream limit, and PUBLISH_DONE waits for the
		// queued groups, so no group is lost however loaded the machine.
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
		var buf []byte
		for {
			gr, err := tr.AcceptGroup(ctx)
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			for {
				n := 0
				if reuse {
					buf, err = gr.AppendFrame(buf[:0])
					n = len(buf)
				} else {
					var f *Frame
					f, err = gr.ReadFrame()
					n = f.Len()
				}
				if err == io.EOF {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
				got += n
			}
		}
		b.StopTimer()
		if got != b.N*sh.size {
			b.Fatalf("received %d bytes, want %d", got, b.N*sh.size)
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
	})
}

// BenchmarkRawQUIC is the baseline: the same bytes in the same stream
// pattern (one unidirectional stream per group) over a bare quic-go
// connection.
func BenchmarkRawQUIC(b *testing.B) {
	for _, sh := range benchShapes {
		benchRawQUIC(b, fmt.Sprintf("%dx%dB", sh.frames, sh.size), sh.frames, sh.size, rawSend)
		if sh.frames > 1 {
			benchRawQUIC(b, fmt.Sprintf("%dx%dB-onewrite", sh.frames, sh.size), sh.frames, sh.size, rawSendGroups)
		}
	}
}

// benchRawQUIC runs one raw quic-go baseline: send writes the streams.
func benchRawQUIC(b *testing.B, name string, frames, size int, send func(n, frames, size int, open func() (io.WriteCloser, error)) error) {
	b.Run(name, func(b *testing.B) {
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
			sendErr <- send(n, frames, size, func() (io.WriteCloser, error) { return conn.OpenUniStreamSync(ctx) })
			<-conn.Context().Done()
		}()
		b.ReportAllocs()
		b.SetBytes(int64(size))
		b.ResetTimer()
		conn, err := quic.DialAddr(ctx, ln.Addr().(*net.UDPAddr).String(), cliTLS, nil)
		if err != nil {
			b.Fatal(err)
		}
		defer conn.CloseWithError(0, "")
		rawReceive(b, n*size, size, func() (io.Reader, error) { return conn.AcceptUniStream(ctx) })
		rawDone(b, sendErr)
	})
}

// BenchmarkRawWebTransport is the baseline of the https runs: the same
// stream pattern over a bare webtransport-go session, whose per-stream
// costs (HTTP/3 stream headers, session bookkeeping) moqgo cannot avoid
// either.
func BenchmarkRawWebTransport(b *testing.B) {
	for _, sh := range benchShapes {
		b.Run(fmt.Sprintf("%dx%dB", sh.frames, sh.size), func(b *testing.B) {
			srvTLS, cliTLS := testCert(b)
			srvTLS.NextProtos = []string{http3.NextProtoH3}
			pc, err := net.ListenPacket("udp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			defer pc.Close()
			ctx := context.Background()
			n := b.N
			sendErr := make(chan error, 1)
			mux := http.NewServeMux()
			wt := &webtransport.Server{
				H3:          &http3.Server{TLSConfig: srvTLS, Handler: mux},
				CheckOrigin: func(*http.Request) bool { return true },
			}
			mux.HandleFunc("/raw", func(w http.ResponseWriter, r *http.Request) {
				s, err := wt.Upgrade(w, r)
				if err != nil {
					sendErr <- err
					return
				}
				sendErr <- rawSend(n, sh.frames, sh.size, func() (io.WriteCloser, error) { return s.OpenUniStreamSync(ctx) })
				<-s.Context().Done()
			})
			served := make(chan struct{})
			go func() { defer close(served); _ = wt.Serve(pc) }()
			defer func() { wt.Close(); <-served }()
			b.ReportAllocs()
			b.SetBytes(int64(sh.size))
			b.ResetTimer()
			d := &webtransport.Transport{TLSClientConfig: cliTLS, QUICConfig: &quic.Config{EnableDatagrams: true, EnableStreamResetPartialDelivery: true}}
			_, s, err := d.Dial(ctx, "https://"+pc.LocalAddr().String()+"/raw", nil)
			if err != nil {
				b.Fatal(err)
			}
			defer s.CloseWithError(0, "")
			rawReceive(b, n*sh.size, sh.size, func() (io.Reader, error) { return s.AcceptUniStream(ctx) })
			rawDone(b, sendErr)
		})
	}
}

// rawSend writes n frames of size bytes, frames to a stream, on the
// streams open returns.
func rawSend(n, frames, size int, open func() (io.WriteCloser, error)) error {
	frame := make([]byte, size)
	for sent := 0; sent < n; {
		st, err := open()
		if err != nil {
			return err
		}
		for i := 0; i < frames && sent < n; i, sent = i+1, sent+1 {
			if _, err := st.Write(frame); err != nil {
				return err
			}
		}
		st.Close()
	}
	return nil
}

// rawSendGroups is rawSend with each group handed to quic-go in one Write:
// the best a raw quic-go sender can do with this stream pattern, and so the
// ceiling for moqgo, whose send scheduler also coalesces the objects it
// queues.
func rawSendGroups(n, frames, size int, open func() (io.WriteCloser, error)) error {
	group := make([]byte, frames*size)
	for sent := 0; sent < n; {
		st, err := open()
		if err != nil {
			return err
		}
		k := min(frames, n-sent)
		if _, err := st.Write(group[:k*size]); err != nil {
			return err
		}
		sent += k
		st.Close()
	}
	return nil
}

// rawDone stops the timer, checks the sender and reports frames/s.
func rawDone(b *testing.B, sendErr <-chan error) {
	b.StopTimer()
	if err := <-sendErr; err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
}

// rawReceive reads want bytes, size at a time, from the streams accept
// returns.
func rawReceive(b *testing.B, want, size int, accept func() (io.Reader, error)) {
	buf := make([]byte, size)
	for got := 0; got < want; {
		st, err := accept()
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
}

package moqt

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/moqgo/moqgo/internal/wire"
)

// TestTryWriteObjects: TryWriteObjects queues objects without waiting
// until the subscription's send buffer is full, then returns how many it
// queued and ErrWouldBlock without sending any part of the next one; the
// group stays usable, and a blocking write continues exactly there (IDs
// and payloads arrive whole and in order). A datagram group, which the
// scheduler does not send, always answers ErrWouldBlock.
func TestTryWriteObjects(t *testing.T) {
	const size = 4 << 10
	payload := func(i int) []byte {
		return bytes.Repeat([]byte{byte(i)}, size)
	}
	for _, scheme := range transports {
		t.Run(scheme, func(t *testing.T) {
			type result struct {
				tried, total int
				err          error
				dgErr        error
			}
			res := make(chan result, 1)
			mux := NewTrackMux()
			mux.PublishFunc(context.Background(), "/try", func(tw *TrackWriter) {
				defer tw.Close()
				var r result
				defer func() { res <- r }()
				dg, err := tw.OpenDatagramGroup(0)
				if err != nil {
					r.err = err
					return
				}
				if n, err := dg.TryWriteObjects([]*Object{{Frame: NewFrame([]byte("d"))}}); n != 0 || !errors.Is(err, ErrWouldBlock) {
					r.dgErr = fmt.Errorf("datagram group: %d, %v", n, err)
				}
				dg.CancelWrite(GroupErrorCancelled)
				gw, err := tw.OpenGroup(1)
				if err != nil {
					r.err = err
					return
				}
				// The subscriber does not read yet: flow control stops
				// the transport, then the 64 KiB send buffer fills.
				for r.tried < 4096 {
					n, err := gw.TryWriteObjects([]*Object{{ID: uint64(r.tried), Frame: NewFrame(payload(r.tried))}})
					r.tried += n
					if errors.Is(err, ErrWouldBlock) {
						break
					}
					if err != nil || n != 1 {
						r.err = fmt.Errorf("TryWriteObjects after %d: %d, %v", r.tried, n, err)
						return
					}
				}
				r.total = r.tried + 8
				for i := r.tried; i < r.total; i++ {
					if err := gw.WriteObject(&Object{ID: uint64(i), Frame: NewFrame(payload(i))}); err != nil {
						r.err = err
						return
					}
				}
				r.err = gw.Close()
			})
			env := startServer(t, &Server{TrackMux: mux, Config: &Config{SendBuffer: 64 << 10}})
			sess := env.dial(t, scheme, nil)
			ctx := testContext(t)
			tr, err := sess.Subscribe("/try", "t", nil)
			if err != nil {
				t.Fatal(err)
			}
			var gr *GroupReader
			for gr == nil || gr.GroupSequence() != 1 {
				if gr, err = tr.AcceptGroup(ctx); err != nil {
					t.Fatal(err)
				}
			}
			// Read only once the publisher saw ErrWouldBlock (or failed).
			var r result
			select {
			case r = <-res:
			case <-ctx.Done():
				t.Fatal("publisher never saw ErrWouldBlock")
			}
			if r.tried == 0 || r.tried >= 4096 || r.err != nil || r.dgErr != nil {
				t.Fatalf("publisher: queued %d without waiting, err %v, %v", r.tried, r.err, r.dgErr)
			}
			t.Logf("%d objects of %d B queued before ErrWouldBlock", r.tried, size)
			for i := 0; ; i++ {
				o, err := gr.ReadObject()
				if err == io.EOF {
					if i != r.total {
						t.Fatalf("group ended after %d objects, want %d", i, r.total)
					}
					break
				}
				if err != nil {
					t.Fatalf("object %d: %v", i, err)
				}
				if o.ID != uint64(i) || !bytes.Equal(o.Frame.Bytes(), payload(i)) {
					t.Fatalf("object %d: ID %d, %d bytes starting %v", i, o.ID, o.Frame.Len(), o.Frame.Bytes()[:1])
				}
			}
		})
	}
}

// TestAppendFrame: AppendFrame yields the payloads ReadFrame would, into
// the caller's buffer, skipping status objects and ending at End of Group;
// on a datagram group too.
func TestAppendFrame(t *testing.T) {
	payloads := [][]byte{[]byte("one"), bytes.Repeat([]byte("x"), 5000), {}, []byte("four")}
	for _, scheme := range transports {
		t.Run(scheme, func(t *testing.T) {
			read := make(chan struct{}) // the subscriber has both groups
			mux := NewTrackMux()
			mux.PublishFunc(context.Background(), "/append", func(tw *TrackWriter) {
				defer tw.Close()
				defer func() { <-read }() // a datagram group does not delay PUBLISH_DONE
				gw, err := tw.OpenGroup(0)
				if err != nil {
					t.Error(err)
					return
				}
				for i, p := range payloads {
					if i == 2 { // an object that does not exist, then an empty one
						if err := gw.WriteObject(&Object{ID: 6, Status: StatusDoesNotExist}); err != nil {
							t.Error(err)
						}
					}
					if err := gw.WriteObject(&Object{ID: 2*uint64(i) + 3, Frame: NewFrame(p)}); err != nil {
						t.Error(err)
					}
				}
				if err := gw.WriteObject(&Object{ID: 11, Status: StatusEndOfGroup}); err != nil {
					t.Error(err)
				}
				gw.Close()
				dg, err := tw.OpenDatagramGroup(1)
				if err != nil {
					t.Error(err)
					return
				}
				if err := dg.WriteFrame(NewFrame([]byte("datagram"))); err != nil {
					t.Error(err)
				}
				dg.Close()
			})
			env := startServer(t, &Server{TrackMux: mux})
			var once sync.Once
			done := func() { once.Do(func() { close(read) }) }
			t.Cleanup(done) // runs before the server's: a failed test releases the publisher
			sess := env.dial(t, scheme, nil)
			ctx := testContext(t)
			tr, err := sess.Subscribe("/append", "t", nil)
			if err != nil {
				t.Fatal(err)
			}
			got := make(map[GroupSequence][][]byte) // the datagram may overtake the stream
			buf := []byte("kept:")
			for g := 0; g < 2; g++ {
				gr, err := tr.AcceptGroup(ctx)
				if err != nil {
					t.Fatal(err)
				}
				for {
					out, err := gr.AppendFrame(buf)
					if err == io.EOF {
						if string(out) != "kept:" {
							t.Errorf("at the end: %q, want the buffer unchanged", out)
						}
						break
					}
					if err != nil {
						t.Fatal(err)
					}
					if string(out[:5]) != "kept:" {
						t.Fatalf("prefix overwritten: %q", out[:5])
					}
					got[gr.GroupSequence()] = append(got[gr.GroupSequence()], bytes.Clone(out[5:]))
				}
			}
			done()
			want := map[GroupSequence][][]byte{0: payloads, 1: {[]byte("datagram")}}
			for g, w := range want {
				if len(got[g]) != len(w) {
					t.Fatalf("group %d: got %d frames, want %d", g, len(got[g]), len(w))
				}
				for i := range w {
					if !bytes.Equal(got[g][i], w[i]) {
						t.Errorf("group %d frame %d: %d bytes, want %d", g, i, len(got[g][i]), len(w[i]))
					}
				}
			}
		})
	}
}

// TestTryReadObject: TryReadObject returns an object only once all of it
// is buffered, ErrWouldBlock otherwise (the stream untouched: ReadObject
// then waits for the rest), and leaves the stream's end to ReadObject. The
// stream is scripted, below the network, so that what has arrived when is
// exact: each Read returns the next chunk, or waits for it.
func TestTryReadObject(t *testing.T) {
	hdr := wire.SubgroupHeader{TrackAlias: 1, GroupID: 7, IDMode: wire.SubgroupIDZero, Extensions: true}
	w := wire.NewSubgroupWriter(hdr, wire.Draft14)
	var objs [][]byte // each object's bytes, header and payload
	for i, p := range [][]byte{[]byte("zero"), []byte("one"), bytes.Repeat([]byte("2"), 300)} {
		o := wire.Object{GroupID: 7, ObjectID: uint64(i), Extensions: []byte{}, PayloadLength: uint64(len(p))}
		b, err := w.AppendObject(nil, &o)
		if err != nil {
			t.Fatal(err)
		}
		objs = append(objs, append(b, p...))
	}
	// Objects 0 and 1 and the start of 2 arrive together; the rest of 2
	// and the stream's end come later.
	first := append(append(bytes.Clone(objs[0]), objs[1]...), objs[2][:100]...)
	rs := &scriptedStream{chunks: make(chan []byte, 2)}
	rs.chunks <- first
	gr := &GroupReader{tr: &TrackReader{sess: &Session{cfg: (&Config{}).withDefaults()}}, rs: rs}
	gr.br = bufio.NewReaderSize((*groupSource)(gr), 4096)
	gr.sr.Reset(hdr, wire.Draft14)

	if o, err := gr.ReadObject(); err != nil || string(o.Frame.Bytes()) != "zero" {
		t.Fatalf("ReadObject: %v, %v", o, err)
	}
	o, err := gr.TryReadObject()
	if err != nil || o.ID != 1 || string(o.Frame.Bytes()) != "one" {
		t.Fatalf("TryReadObject with object 1 buffered: %+v, %v", o, err)
	}
	if o, err := gr.TryReadObject(); !errors.Is(err, ErrWouldBlock) {
		t.Fatalf("TryReadObject with part of object 2 buffered: %+v, %v, want ErrWouldBlock", o, err)
	}
	rs.chunks <- objs[2][100:]
	close(rs.chunks) // then the stream ends
	if o, err := gr.ReadObject(); err != nil || o.ID != 2 || !bytes.Equal(o.Frame.Bytes(), bytes.Repeat([]byte("2"), 300)) {
		t.Fatalf("ReadObject after ErrWouldBlock: %+v, %v", o, err)
	}
	if o, err := gr.TryReadObject(); !errors.Is(err, ErrWouldBlock) {
		t.Fatalf("TryReadObject at the end: %+v, %v, want ErrWouldBlock", o, err)
	}
	if _, err := gr.ReadObject(); err != io.EOF {
		t.Fatalf("ReadObject at the end: %v, want io.EOF", err)
	}
}

// scriptedStream is a transport.ReceiveStream whose reads return the
// chunks sent on chunks, one per read, waiting for the next; io.EOF once
// chunks is closed.
type scriptedStream struct {
	chunks chan []byte
	rest   []byte
}

func (s *scriptedStream) Read(p []byte) (int, error) {
	if len(s.rest) == 0 {
		c, ok := <-s.chunks
		if !ok {
			return 0, io.EOF
		}
		s.rest = c
	}
	n := copy(p, s.rest)
	s.rest = s.rest[n:]
	return n, nil
}

func (s *scriptedStream) CancelRead(uint64)               {}
func (s *scriptedStream) SetReadDeadline(time.Time) error { return nil }
func (s *scriptedStream) StreamID() uint64                { return 2 }

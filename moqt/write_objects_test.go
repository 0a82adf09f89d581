package moqt

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"testing"
)

// TestWriteObjects checks the batched write a relay uses: the objects
// arrive with their IDs, statuses and payloads; an ID of zero after the
// first object takes the next ID (Object.ID); an ID going backwards stops
// the batch at that object, reporting how many were written.
func TestWriteObjects(t *testing.T) {
	for _, scheme := range transports {
		t.Run(scheme, func(t *testing.T) {
			written := make(chan string, 1)
			mux := NewTrackMux()
			mux.PublishFunc(context.Background(), "/batch", func(tw *TrackWriter) {
				defer tw.Close()
				gw, err := tw.OpenGroup(1)
				if err != nil {
					t.Error(err)
					return
				}
				objs := []*Object{
					{ID: 0, Frame: NewFrame([]byte("a"))},
					{ID: 4, Frame: NewFrame([]byte("b"))},
					{ID: 0, Frame: NewFrame([]byte("c"))}, // the next ID: 5
					{ID: 3, Frame: NewFrame([]byte("x"))}, // backwards: refused
					{ID: 9, Frame: NewFrame([]byte("y"))},
				}
				n, err := gw.WriteObjects(objs)
				written <- fmt.Sprintf("%d %v", n, err != nil)
				if n, err := gw.WriteObjects([]*Object{{ID: 7, Status: StatusEndOfGroup}}); n != 1 || err != nil {
					t.Errorf("end of group: %d, %v", n, err)
				}
				gw.Close()
			})
			env := startServer(t, &Server{TrackMux: mux})
			sess := env.dial(t, scheme, nil)
			ctx := testContext(t)
			tr, err := sess.Subscribe("/batch", "t", nil)
			if err != nil {
				t.Fatal(err)
			}
			gr, err := tr.AcceptGroup(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for {
				o, err := gr.ReadObject()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if o.Frame != nil {
					got = append(got, fmt.Sprintf("%d:%s", o.ID, o.Frame.Bytes()))
				} else {
					got = append(got, fmt.Sprintf("%d:status %d", o.ID, o.Status))
				}
			}
			if w := <-written; w != "3 true" {
				t.Errorf("WriteObjects = %s, want 3 written and an error", w)
			}
			if fmt.Sprint(got) != "[0:a 4:b 5:c 7:status 3]" {
				t.Errorf("received %v", got)
			}
		})
	}
}

// TestWriteObjectsBatched: a batch written to a stream already started is
// queued for the scheduler as one write, maxBatch objects at a time; every
// object still arrives with its ID, status, extensions and payload, small
// payloads (copied next to their headers) and large ones (referenced)
// alike.
func TestWriteObjectsBatched(t *testing.T) {
	const n = 2*maxBatch + 3
	want := make([]*Object, 0, n)
	for i := range n {
		o := &Object{ID: uint64(2*i + 1)}
		switch {
		case i == 7:
			o.Status = StatusDoesNotExist
		case i == n-1:
			o.Status = StatusEndOfGroup
		default:
			size := 100
			if i%3 == 0 {
				size = 5000
			}
			o.Frame = NewFrame(bytes.Repeat([]byte{byte(i)}, size))
		}
		if i%4 == 1 && o.Status == StatusNormal {
			o.Extensions = []Extension{{Type: 2, Value: uint64(i)}, {Type: 3, Bytes: []byte{byte(i), 'x'}}}
		}
		want = append(want, o)
	}
	for _, scheme := range transports {
		t.Run(scheme, func(t *testing.T) {
			mux := NewTrackMux()
			mux.PublishFunc(context.Background(), "/batched", func(tw *TrackWriter) {
				defer tw.Close()
				gw, err := tw.OpenGroup(0)
				if err != nil {
					t.Error(err)
					return
				}
				// Object 0 starts the stream; the batch follows it.
				if err := gw.WriteFrame(NewFrame([]byte("first"))); err != nil {
					t.Error(err)
				}
				if k, err := gw.WriteObjects(want); k != n || err != nil {
					t.Errorf("WriteObjects: %d, %v", k, err)
				}
				gw.Close()
			})
			env := startServer(t, &Server{TrackMux: mux})
			sess := env.dial(t, scheme, nil)
			ctx := testContext(t)
			tr, err := sess.Subscribe("/batched", "t", nil)
			if err != nil {
				t.Fatal(err)
			}
			gr, err := tr.AcceptGroup(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if f, err := gr.ReadFrame(); err != nil || string(f.Bytes()) != "first" {
				t.Fatalf("object 0: %v", err)
			}
			for i := 0; ; i++ {
				o, err := gr.ReadObject()
				if err == io.EOF {
					if i != n { // the stream's end, after End of Group
						t.Fatalf("%d objects, want %d", i, n)
					}
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				w := want[i]
				if o.ID != w.ID || o.Status != w.Status || !bytes.Equal(o.Frame.Bytes(), w.Frame.Bytes()) ||
					fmt.Sprint(o.Extensions) != fmt.Sprint(w.Extensions) {
					t.Fatalf("object %d: ID %d status %v %d bytes ext %v, want ID %d status %v %d bytes ext %v",
						i, o.ID, o.Status, o.Frame.Len(), o.Extensions, w.ID, w.Status, w.Frame.Len(), w.Extensions)
				}
				if o.Status == StatusEndOfGroup {
					if i != n-1 {
						t.Fatalf("End of Group at %d", i)
					}
				}
			}
		})
	}
}

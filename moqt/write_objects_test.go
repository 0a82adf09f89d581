package moqt

import (
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

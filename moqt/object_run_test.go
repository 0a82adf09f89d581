package moqt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"
)

// TestWriteRun: runs encoded once (RunEncoder) and written to the groups
// of two subscriptions arrive at both with every object's ID, status,
// extensions and payload; a GroupWriter that wrote the first objects
// itself continues with a run encoded after them; a run that does not
// continue a group where it stands is refused and leaves it usable; a
// datagram group answers TryWriteRun with ErrWouldBlock.
func TestWriteRun(t *testing.T) {
	var objs []*Object
	for i := range 12 {
		o := &Object{ID: uint64(i)}
		switch {
		case i == 6:
			o.Status = StatusDoesNotExist
		case i == 11:
			o.Status = StatusEndOfGroup
		default:
			size := 100 + i
			if i%4 == 3 {
				size = 5000 // referenced, not copied into the run
			}
			o.Frame = NewFrame(bytes.Repeat([]byte{byte('a' + i)}, size))
		}
		if i%3 == 1 && o.Status == StatusNormal {
			o.Extensions = []Extension{{Type: 4, Value: uint64(i)}, {Type: 5, Bytes: []byte{byte(i)}}}
		}
		objs = append(objs, o)
	}
	enc := NewRunEncoder(3, 0)
	var runs []*ObjectRun
	for _, r := range [][2]int{{0, 2}, {2, 5}, {5, 11}, {11, 12}} {
		run, err := enc.Encode(objs[r[0]:r[1]])
		if err != nil {
			t.Fatal(err)
		}
		if run.Len() != r[1]-r[0] {
			t.Fatalf("run of %d objects, want %d", run.Len(), r[1]-r[0])
		}
		runs = append(runs, run)
	}
	if _, err := enc.Encode(objs[:1]); err == nil {
		t.Fatal("encoding after End of Group succeeded")
	}
	for _, scheme := range transports {
		t.Run(scheme, func(t *testing.T) {
			var mu sync.Mutex
			served := 0
			mux := NewTrackMux()
			mux.PublishFunc(context.Background(), "/runs", func(tw *TrackWriter) {
				defer tw.Close()
				mu.Lock()
				n := served
				served++
				mu.Unlock()
				dg, err := tw.OpenDatagramGroup(1)
				if err != nil {
					t.Error(err)
					return
				}
				if err := dg.TryWriteRun(runs[0]); !errors.Is(err, ErrWouldBlock) {
					t.Errorf("TryWriteRun on a datagram group: %v", err)
				}
				dg.CancelWrite(GroupErrorCancelled)
				gw, err := tw.OpenGroup(3)
				if err != nil {
					t.Error(err)
					return
				}
				if err := gw.WriteRun(runs[1]); !errors.Is(err, ErrRunMismatch) {
					t.Errorf("a run that does not start the group: %v, want ErrRunMismatch", err)
				}
				rest := runs[1:]
				if n == 0 { // the first subscription: all runs
					rest = runs
				} else { // the second: the first objects one by one
					if k, err := gw.WriteObjects(objs[:2]); k != 2 || err != nil {
						t.Errorf("WriteObjects: %d, %v", k, err)
					}
				}
				for i, r := range rest {
					if err := gw.TryWriteRun(r); err != nil {
						t.Errorf("run %d: %v", i, err)
					}
				}
				if err := gw.WriteRun(runs[3]); !errors.Is(err, ErrRunMismatch) {
					t.Errorf("a run after the end of the group: %v, want ErrRunMismatch", err)
				}
				gw.Close()
			})
			env := startServer(t, &Server{TrackMux: mux})
			ctx := testContext(t)
			for sub := range 2 {
				tr, err := env.dial(t, scheme, nil).Subscribe("/runs", "t", nil)
				if err != nil {
					t.Fatal(err)
				}
				var gr *GroupReader
				for gr == nil || gr.GroupSequence() != 3 {
					if gr, err = tr.AcceptGroup(ctx); err != nil {
						t.Fatal(err)
					}
				}
				for i := 0; ; i++ {
					o, err := gr.ReadObject()
					if err == io.EOF {
						if i != len(objs) {
							t.Fatalf("subscriber %d: %d objects, want %d", sub, i, len(objs))
						}
						break
					}
					if err != nil {
						t.Fatalf("subscriber %d, object %d: %v", sub, i, err)
					}
					w := objs[i]
					if o.ID != w.ID || o.Status != w.Status || !bytes.Equal(o.Frame.Bytes(), w.Frame.Bytes()) ||
						fmt.Sprint(o.Extensions) != fmt.Sprint(w.Extensions) {
						t.Fatalf("subscriber %d, object %d: ID %d status %v %d bytes ext %v, want ID %d status %v %d bytes ext %v",
							sub, i, o.ID, o.Status, o.Frame.Len(), o.Extensions, w.ID, w.Status, w.Frame.Len(), w.Extensions)
					}
				}
			}
		})
	}
}

// TestChunkJoinsAdjacentRuns: the scheduler hands runs that lie next to
// each other in memory to the transport as one piece, and nothing else.
func TestChunkJoinsAdjacentRuns(t *testing.T) {
	block := make([]byte, 0, 64)
	block = append(block, "aaaabbbbcc"...)
	other := []byte("zz")
	q := &schedBuf{segs: []schedSeg{{ref: block[0:4]}, {ref: block[4:8]}, {ref: other}, {ref: block[8:10]}}}
	iov := q.chunk(nil)
	var got []string
	for _, b := range iov {
		got = append(got, string(b))
	}
	if fmt.Sprint(got) != "[aaaabbbb zz cc]" {
		t.Fatalf("chunk pieces %q, want [aaaabbbb zz cc]", got)
	}
}

// TestRunEncoderBlocks: runs are carved from shared blocks: the runs of a
// subgroup encoded one after another lie next to each other in memory
// (one write for the transport), groups of one small object share a block,
// and a copied payload's Frame is the run's copy.
func TestRunEncoderBlocks(t *testing.T) {
	first := &Object{Frame: NewFrame(bytes.Repeat([]byte("p"), 100))}
	orig := first.Frame
	enc0 := NewRunEncoder(0, 0)
	r0, err := enc0.Encode([]*Object{first})
	if err != nil {
		t.Fatal(err)
	}
	enc0.Close()
	seg := r0.segs[0]
	if first.Frame == orig || !bytes.Equal(first.Frame.Bytes(), orig.Bytes()) ||
		&seg[len(seg)-100] != &first.Frame.Bytes()[0] {
		t.Fatal("the object's payload is not the run's copy")
	}
	// Tiny groups: each costs its encoding, not a block.
	shared := 0
	prev := r0
	for g := 1; g < 50; g++ {
		enc := NewRunEncoder(GroupSequence(g), 0)
		r, err := enc.Encode([]*Object{{Frame: NewFrame(make([]byte, 100))}})
		if err != nil {
			t.Fatal(err)
		}
		enc.Close()
		if adjacent(prev.segs[0], r.segs[0]) {
			shared++
		}
		prev = r
	}
	// (Under the race detector sync.Pool drops a quarter of what it is
	// given, so "most" is half.)
	if shared < 25 {
		t.Fatalf("%d of 49 one-object groups share a block with the group before, want most", shared)
	}
	// A long subgroup: its runs follow each other.
	enc := NewRunEncoder(100, 0)
	shared, prev = 0, nil
	for i := range 200 {
		r, err := enc.Encode([]*Object{{ID: uint64(i), Frame: NewFrame(make([]byte, 900))}})
		if err != nil {
			t.Fatal(err)
		}
		if prev != nil && adjacent(prev.segs[len(prev.segs)-1], r.segs[0]) {
			shared++
		}
		prev = r
	}
	if shared < 100 {
		t.Fatalf("%d of 199 runs follow the one before in memory, want most", shared)
	}
}

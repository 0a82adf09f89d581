package moqt

import (
	"bytes"
	"fmt"
	"io"
	"testing"
	"unsafe"
)

// TestGroupWriterObjects checks what a GroupWriter puts on its stream, with
// and without the scheduler: payloads around the size up to which they are
// joined to their header (maxInline), an empty one, and an object whose
// extension headers do not fit the inline header buffer, all arrive intact
// and in order; and the group's Context ends with the group, whether it was
// asked for before Close or after.
func TestGroupWriterObjects(t *testing.T) {
	ext := []Extension{{Type: 1, Bytes: bytes.Repeat([]byte{7}, 3*smallBuf)}}
	sizes := []int{0, 1, 100, maxInline, maxInline + 1, 5000}
	payload := func(i, n int) []byte { return bytes.Repeat([]byte{byte(i + 1)}, n) }
	for _, disable := range []bool{false, true} {
		t.Run(fmt.Sprintf("DisableScheduler=%v", disable), func(t *testing.T) {
			ctxEnded := make(chan error, 1)
			mux := NewTrackMux()
			mux.PublishFunc(testContext(t), "/g", func(tw *TrackWriter) {
				defer tw.Close()
				ctxEnded <- func() error {
					gw, err := tw.OpenGroup(0)
					if err != nil {
						return err
					}
					before := gw.Context()
					for i, n := range sizes {
						if err := gw.WriteFrame(NewFrame(payload(i, n))); err != nil {
							return err
						}
					}
					if err := gw.WriteObject(&Object{ID: uint64(len(sizes)), Extensions: ext, Frame: NewFrame([]byte("ext"))}); err != nil {
						return err
					}
					if err := gw.Close(); err != nil {
						return err
					}
					for _, ctx := range []interface{ Err() error }{before, gw.Context()} {
						if ctx.Err() == nil {
							return fmt.Errorf("group context not done after Close")
						}
					}
					return nil
				}()
			})
			env := startServer(t, &Server{TrackMux: mux, Config: &Config{DisableScheduler: disable}})
			sess := env.dial(t, "moqt", nil)
			tr, err := sess.Subscribe("/g", "t", nil)
			if err != nil {
				t.Fatal(err)
			}
			gr, err := tr.AcceptGroup(testContext(t))
			if err != nil {
				t.Fatal(err)
			}
			for i, n := range sizes {
				f, err := gr.ReadFrame()
				if err != nil {
					t.Fatalf("object %d: %v", i, err)
				}
				if !bytes.Equal(f.Bytes(), payload(i, n)) {
					t.Fatalf("object %d: %d bytes, want %d bytes of %d", i, f.Len(), n, i+1)
				}
			}
			o, err := gr.ReadObject()
			if err != nil {
				t.Fatal(err)
			}
			if len(o.Extensions) != 1 || !bytes.Equal(o.Extensions[0].Bytes, ext[0].Bytes) || string(o.Frame.Bytes()) != "ext" {
				t.Fatalf("object with extensions: %+v", o)
			}
			if _, err := gr.ReadFrame(); err != io.EOF {
				t.Fatalf("after the last object: %v, want io.EOF", err)
			}
			if err := <-ctxEnded; err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestGroupWriterSize guards the size of a GroupWriter, which is allocated
// per group (and zeroed) on the publisher's hot path: what few groups use
// belongs behind a pointer.
func TestGroupWriterSize(t *testing.T) {
	const limit = 384
	if n := unsafe.Sizeof(GroupWriter{}); n > limit {
		t.Fatalf("GroupWriter is %d bytes, want at most %d", n, limit)
	}
}

package relay

import (
	"bytes"
	"context"
	"reflect"
	"testing"

	"github.com/moqgo/moqgo/moqt"
)

// TestDatagramForwarding: a group the publisher sends as datagrams
// (OpenDatagramGroup) reaches the subscriber as datagrams too, with its
// objects intact, extension headers included, over both transports on
// each side.
func TestDatagramForwarding(t *testing.T) {
	for _, scheme := range transports {
		t.Run(scheme, func(t *testing.T) {
			const objects, size = 5, 100
			e := startRelay(t, Config{})
			ctx := testContext(t)
			f := newFeed()
			f.publish(t, e, scheme, "/live")
			waitAnnounced(t, ctx, e.relay, "/live")
			tr, err := e.dial(t, scheme, nil).Subscribe("/live", "audio", &moqt.TrackConfig{Filter: moqt.FilterNextGroupStart})
			if err != nil {
				t.Fatal(err)
			}
			// Datagrams may be lost even on loopback: the publisher sends
			// groups until the subscriber saw a whole one.
			pctx, stopPub := context.WithCancel(ctx)
			pubDone := make(chan struct{})
			go func() {
				defer close(pubDone)
				for g := moqt.GroupSequence(0); pctx.Err() == nil; g++ {
					w := func(tw *moqt.TrackWriter) error {
						gw, err := tw.OpenDatagramGroup(g)
						if err != nil {
							return err
						}
						for i := range uint64(objects) {
							o := &moqt.Object{ID: i, Frame: moqt.NewFrame(frame(g, 0, i, size)), Extensions: datagramExts(g, i)}
							if err := gw.WriteObject(o); err != nil {
								return err
							}
						}
						return gw.Close()
					}
					select {
					case f.groups <- w:
					case <-pctx.Done():
					}
				}
			}()
			defer func() {
				stopPub()
				<-pubDone
			}()
			for {
				gr, err := tr.AcceptGroup(ctx)
				if err != nil {
					t.Fatalf("AcceptGroup: %v", err)
				}
				if !gr.Datagram() {
					t.Fatalf("group %d forwarded on a stream, want datagrams", gr.GroupSequence())
				}
				objs, err := readAll(gr)
				if err != nil {
					t.Fatalf("group %d: %v", gr.GroupSequence(), err)
				}
				n := 0
				for _, o := range objs {
					if o.Status != moqt.StatusNormal {
						continue // End of Group
					}
					n++
					if want := frame(gr.GroupSequence(), 0, o.ID, size); !bytes.Equal(o.Frame.Bytes(), want) {
						t.Fatalf("group %d object %d: wrong payload", gr.GroupSequence(), o.ID)
					}
					if want := datagramExts(gr.GroupSequence(), o.ID); !reflect.DeepEqual(o.Extensions, want) {
						t.Fatalf("group %d object %d: extensions %+v, want %+v", gr.GroupSequence(), o.ID, o.Extensions, want)
					}
				}
				if n == objects {
					return
				}
			}
		})
	}
}

// datagramExts are the extension headers of datagram object id of group g:
// a varint one on every object, a byte-string one on odd objects.
func datagramExts(g moqt.GroupSequence, id uint64) []moqt.Extension {
	exts := []moqt.Extension{{Type: 4, Value: uint64(g)<<8 | id}}
	if id%2 == 1 {
		exts = append(exts, moqt.Extension{Type: 0x13, Bytes: []byte{byte(g), byte(id), 'x'}})
	}
	return exts
}

// TestDatagramEndOfGroupOnce: the End of Group status datagram the
// publisher sends ends the relay's upstream group; the relay sends its own
// when it closes the forwarded group, and must not also forward the
// publisher's, or the subscriber gets the marker twice. Written objects are
// what Stats().ObjectsOut counts: only the publisher's normal objects.
func TestDatagramEndOfGroupOnce(t *testing.T) {
	const groups, objects = 3, 5
	e := startRelay(t, Config{})
	ctx := testContext(t)
	f := newFeed()
	f.publish(t, e, "moqt", "/live")
	waitAnnounced(t, ctx, e.relay, "/live")
	tr, err := e.dial(t, "moqt", nil).Subscribe("/live", "audio", &moqt.TrackConfig{Filter: moqt.FilterNextGroupStart})
	if err != nil {
		t.Fatal(err)
	}
	for g := range moqt.GroupSequence(groups) {
		f.push(t, ctx, func(tw *moqt.TrackWriter) error {
			gw, err := tw.OpenDatagramGroup(g)
			if err != nil {
				return err
			}
			for i := range uint64(objects) {
				if err := gw.WriteFrame(moqt.NewFrame(frame(g, 0, i, 100))); err != nil {
					return err
				}
			}
			return gw.Close()
		})
	}
	close(f.release)
	for {
		gr, err := tr.AcceptGroup(ctx)
		if err != nil {
			break // PUBLISH_DONE: the relay's senders are done
		}
		if _, err := readAll(gr); err != nil {
			t.Fatalf("group %d: %v", gr.GroupSequence(), err)
		}
	}
	st := e.relay.Stats()
	if st.ObjectsIn <= groups*objects {
		t.Skipf("datagrams lost on loopback: relay received %d objects", st.ObjectsIn)
	}
	if st.ObjectsOut != groups*objects {
		t.Fatalf("relay wrote %d objects for %d received, want %d: the publisher's End of Group markers were forwarded besides the relay's own", st.ObjectsOut, st.ObjectsIn, groups*objects)
	}
}

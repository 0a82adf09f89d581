package relay

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"reflect"
	"sync"
	"testing"

	"github.com/moqgo/moqgo/moqt"
)

// layered describes the objects of the test track: per group, a base
// subgroup with extensions, a skipped object ID and an end-of-group status
// object, and an enhancement subgroup with its own priority.
type layered struct {
	sub      uint64
	priority uint8
	objs     []moqt.Object
}

func layeredGroup(g moqt.GroupSequence) []layered {
	// Object IDs are unique within the group: even in the base layer
	// (with a gap), odd in the enhancement layer.
	base := layered{sub: 0, priority: 10}
	for _, id := range []uint64{0, 2, 6} {
		o := moqt.Object{ID: id, Frame: moqt.NewFrame(frame(g, 0, id, 100+int(id)*400))}
		if id == 2 {
			o.Extensions = []moqt.Extension{{Type: 2, Value: uint64(g) + 7}, {Type: 0x11, Bytes: []byte("meta")}}
		}
		base.objs = append(base.objs, o)
	}
	base.objs = append(base.objs, moqt.Object{ID: 8, Status: moqt.StatusEndOfGroup})
	enh := layered{sub: 1, priority: 200}
	for _, id := range []uint64{1, 3, 5} {
		enh.objs = append(enh.objs, moqt.Object{ID: id, Frame: moqt.NewFrame(frame(g, 1, id, 50))})
	}
	return []layered{base, enh}
}

func writeLayered(g moqt.GroupSequence) func(*moqt.TrackWriter) error {
	return func(tw *moqt.TrackWriter) error {
		for _, l := range layeredGroup(g) {
			gw, err := tw.OpenSubgroup(g, l.sub, l.priority)
			if err != nil {
				return err
			}
			for i := range l.objs {
				if err := gw.WriteObject(&l.objs[i]); err != nil {
					return err
				}
			}
			if err := gw.Close(); err != nil {
				return err
			}
		}
		return nil
	}
}

type subgroupKey struct {
	g   moqt.GroupSequence
	sub uint64
}

// collect reads every group of tr until the track ends and returns them by
// (group, subgroup).
func collect(ctx context.Context, tr *moqt.TrackReader) (map[subgroupKey]layered, error) {
	got := make(map[subgroupKey]layered)
	for {
		gr, err := tr.AcceptGroup(ctx)
		if err == io.EOF {
			return got, nil
		}
		if err != nil {
			return got, err
		}
		objs, err := readAll(gr)
		if err != nil {
			return got, fmt.Errorf("group %d: %w", gr.GroupSequence(), err)
		}
		l := layered{sub: gr.SubgroupID(), priority: gr.PublisherPriority()}
		for _, o := range objs {
			l.objs = append(l.objs, *o)
		}
		got[subgroupKey{gr.GroupSequence(), l.sub}] = l
	}
}

func sameObjects(a, b []moqt.Object) error {
	if len(a) != len(b) {
		return fmt.Errorf("%d objects, want %d", len(a), len(b))
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.ID != y.ID || x.Status != y.Status || !bytes.Equal(x.Frame.Bytes(), y.Frame.Bytes()) {
			return fmt.Errorf("object %d: id %d status %d len %d, want id %d status %d len %d",
				i, x.ID, x.Status, x.Frame.Len(), y.ID, y.Status, y.Frame.Len())
		}
		if len(x.Extensions)+len(y.Extensions) > 0 && !reflect.DeepEqual(x.Extensions, y.Extensions) {
			return fmt.Errorf("object %d: extensions %+v, want %+v", x.ID, x.Extensions, y.Extensions)
		}
	}
	return nil
}

// TestFanOut: subscribers on both transports receive every object of a
// publisher byte for byte, with subgroups, priorities, object status and
// extension headers unchanged, through one upstream subscription.
func TestFanOut(t *testing.T) {
	for _, pubScheme := range transports {
		t.Run("publisher-"+pubScheme, func(t *testing.T) {
			e := startRelay(t, Config{Logger: testLogger(t)})
			ctx := testContext(t)
			f := newFeed()
			f.publish(t, e, pubScheme, "/live/room")
			waitAnnounced(t, ctx, e.relay, "/live/room")

			const groups = 5
			var readers []*moqt.TrackReader
			for i := 0; i < 4; i++ {
				sess := e.dial(t, transports[i%2], nil)
				tr, err := sess.Subscribe("/live/room", "video", &moqt.TrackConfig{Filter: moqt.FilterAbsoluteStart})
				if err != nil {
					t.Fatalf("Subscribe %d: %v", i, err)
				}
				readers = append(readers, tr)
			}
			if n := len(f.served); n != 1 {
				t.Fatalf("publisher serves %d subscriptions, want 1 (one upstream per track)", n)
			}
			checkMetrics(t, e.relay, map[string]float64{
				"moq_relay_tracks":                1,
				"moq_relay_subscriptions":         4,
				"moq_relay_viewers{/live/room}":   4,
				"moq_relay_sessions":              5,
				"moq_relay_waiting_subscriptions": 0,
			})
			var wg sync.WaitGroup
			results := make([]map[subgroupKey]layered, len(readers))
			errs := make([]error, len(readers))
			for i, tr := range readers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					results[i], errs[i] = collect(ctx, tr)
				}()
			}
			for g := moqt.GroupSequence(0); g < groups; g++ {
				f.push(t, ctx, writeLayered(g))
			}
			close(f.release)
			wg.Wait()
			for i, got := range results {
				if errs[i] != nil {
					t.Errorf("subscriber %d: %v", i, errs[i])
					continue
				}
				if len(got) != groups*2 {
					t.Errorf("subscriber %d: %d subgroups, want %d", i, len(got), groups*2)
				}
				for g := moqt.GroupSequence(0); g < groups; g++ {
					for _, want := range layeredGroup(g) {
						l, ok := got[subgroupKey{g, want.sub}]
						if !ok {
							t.Errorf("subscriber %d: group %d subgroup %d missing", i, g, want.sub)
							continue
						}
						if l.priority != want.priority {
							t.Errorf("subscriber %d: group %d subgroup %d priority %d, want %d", i, g, want.sub, l.priority, want.priority)
						}
						if err := sameObjects(l.objs, want.objs); err != nil {
							t.Errorf("subscriber %d: group %d subgroup %d: %v", i, g, want.sub, err)
						}
					}
				}
			}
			st := e.relay.Stats()
			checkMetrics(t, e.relay, map[string]float64{
				"moq_relay_objects_in_total":  groups * 7,
				"moq_relay_objects_out_total": groups * 7 * 4,
				"moq_relay_bytes_in_total":    float64(st.BytesIn),
				"moq_relay_bytes_out_total":   float64(4 * st.BytesIn),
				"moq_relay_tracks":            0, // the publisher ended the track
				"moq_relay_skips_total":       0,
			})
			if want := int64(groups * 7); st.ObjectsIn != want {
				t.Errorf("ObjectsIn = %d, want %d", st.ObjectsIn, want)
			}
			if want := int64(groups * 7 * 4); st.ObjectsOut != want {
				t.Errorf("ObjectsOut = %d, want %d", st.ObjectsOut, want)
			}
			if st.BytesOut != 4*st.BytesIn || st.BytesIn == 0 {
				t.Errorf("BytesOut = %d, BytesIn = %d: want 4x", st.BytesOut, st.BytesIn)
			}
		})
	}
}

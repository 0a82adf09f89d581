package moqt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moqgo/moqgo/internal/netsim"
	"github.com/moqgo/moqgo/internal/wire"
)

// datagramTrackGroups and datagramTrackFrames shape the tracks of the
// datagram tests.
const (
	datagramTrackGroups = 20
	datagramTrackFrames = 20
)

// publishMixed publishes "video" on streams: datagramTrackGroups groups,
// then PUBLISH_DONE. It publishes "audio" like a live source, one datagram
// group every few milliseconds: the same groups, then more until the
// subscriber leaves (a lost End of Group datagram ends a group only once a
// newer group has begun).
func publishMixed(t *testing.T) *TrackMux {
	mux := NewTrackMux()
	mux.PublishFunc(context.Background(), "/room", func(tw *TrackWriter) {
		defer tw.Close()
		audio := tw.TrackName == "audio"
		tick := time.NewTicker(3 * time.Millisecond)
		defer tick.Stop()
		for g := GroupSequence(0); audio || g < datagramTrackGroups; g++ {
			var gw *GroupWriter
			var err error
			if audio {
				select {
				case <-tick.C:
				case <-tw.Context().Done():
					return
				}
				gw, err = tw.OpenDatagramGroup(g)
			} else {
				gw, err = tw.OpenGroup(g)
			}
			if err != nil {
				if audio && tw.Context().Err() != nil {
					return
				}
				t.Errorf("open group %d: %v", g, err)
				return
			}
			for i := range datagramTrackFrames {
				if err := gw.WriteFrame(NewFrame(fmt.Appendf(nil, "%s/%d/%d", tw.TrackName, g, i))); err != nil {
					if audio && tw.Context().Err() != nil {
						return
					}
					t.Errorf("WriteFrame: %v", err)
					return
				}
			}
			if err := gw.Close(); err != nil && tw.Context().Err() == nil {
				t.Errorf("Close: %v", err)
			}
		}
	})
	return mux
}

// trackObjects is what a subscriber read of a track: per group, the object
// IDs and payloads in the order read.
type trackObjects map[GroupSequence][]*Object

// readTrack reads the groups of tr, checking each payload against its
// group and object ID, until the track ends or a group numbered last or
// more was read to its end.
func readTrack(t *testing.T, tr *TrackReader, last GroupSequence) trackObjects {
	got := trackObjects{}
	ctx := testContext(t)
	for {
		gr, err := tr.AcceptGroup(ctx)
		if err == io.EOF {
			return got
		}
		if err != nil {
			t.Errorf("%s: AcceptGroup: %v", tr.TrackName, err)
			return got
		}
		for {
			o, err := gr.ReadObject()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Errorf("%s: ReadObject: %v", tr.TrackName, err)
				return got
			}
			if o.Status != StatusNormal {
				continue
			}
			want := fmt.Sprintf("%s/%d/%d", tr.TrackName, gr.GroupSequence(), o.ID)
			if string(o.Frame.Bytes()) != want {
				t.Errorf("object %d of group %d is %q, want %q", o.ID, gr.GroupSequence(), o.Frame.Bytes(), want)
			}
			got[gr.GroupSequence()] = append(got[gr.GroupSequence()], o)
		}
		if gr.GroupSequence() >= last {
			return got
		}
	}
}

// TestDatagramLoss sends a datagram track and a stream track through a
// lossy path (netsim, 10% loss from publisher to subscriber): the lost
// datagram objects are simply missing — the reader neither stalls nor
// fails, and later groups and later objects of a group with a gap still
// arrive — while the stream track is delivered whole.
func TestDatagramLoss(t *testing.T) {
	for _, scheme := range transports {
		t.Run(scheme, func(t *testing.T) {
			env := startServer(t, &Server{TrackMux: publishMixed(t)})
			proxy, err := netsim.New(env.addr, netsim.Config{
				Down: netsim.Link{Loss: 0.1},
				Seed: 14,
			})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { proxy.Close() })
			lossy := *env
			lossy.addr = proxy.Addr().String()
			lossy.client = &Client{TLSConfig: env.client.TLSConfig, Config: &Config{DatagramGroupTimeout: 100 * time.Millisecond}}
			sess := lossy.dial(t, scheme, nil)

			var wg sync.WaitGroup
			results := map[TrackName]trackObjects{}
			var mu sync.Mutex
			for _, name := range []TrackName{"audio", "video"} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					tr, err := sess.Subscribe("/room", name, nil)
					if err != nil {
						t.Errorf("Subscribe %s: %v", name, err)
						return
					}
					last := GroupSequence(datagramTrackGroups - 1)
					if name == "video" {
						last = math.MaxUint64 // read to PUBLISH_DONE
					}
					got := readTrack(t, tr, last)
					tr.Close()
					mu.Lock()
					results[name] = got
					mu.Unlock()
				}()
			}
			wg.Wait()
			if t.Failed() {
				return
			}
			if lost := proxy.Stats().Down.Lost; lost == 0 {
				t.Fatalf("the proxy dropped nothing: %+v", proxy.Stats().Down)
			}

			video := results["video"]
			for g := range GroupSequence(datagramTrackGroups) {
				if n := len(video[g]); n != datagramTrackFrames {
					t.Errorf("video group %d: %d objects, want all %d", g, n, datagramTrackFrames)
				}
			}

			audio := results["audio"]
			total, gapThenMore, lateGroups := 0, false, 0
			for g, objs := range audio {
				if g >= datagramTrackGroups {
					continue // sent after the groups counted
				}
				total += len(objs)
				for i := 1; i < len(objs); i++ {
					if objs[i].ID <= objs[i-1].ID {
						t.Errorf("audio group %d: object %d after %d", g, objs[i].ID, objs[i-1].ID)
					}
					if objs[i].ID > objs[i-1].ID+1 {
						gapThenMore = true
					}
				}
				if g >= datagramTrackGroups/2 {
					lateGroups++
				}
			}
			sent := datagramTrackGroups * datagramTrackFrames
			t.Logf("%s: audio received %d of %d datagram objects; proxy %+v", scheme, total, sent, proxy.Stats().Down)
			if total >= sent {
				t.Errorf("audio: all %d objects arrived through a lossy path", total)
			}
			if total < sent/4 {
				t.Errorf("audio: only %d of %d objects arrived with 10%% loss", total, sent)
			}
			if !gapThenMore {
				t.Error("audio: no group read on past a lost object")
			}
			if lateGroups == 0 {
				t.Error("audio: no group of the second half arrived")
			}
		})
	}
}

// TestDatagramTooLarge: an object too large for a datagram goes on a
// subgroup stream of the same group, which the subscriber accepts as a
// second GroupReader; the small objects still travel as datagrams.
func TestDatagramTooLarge(t *testing.T) {
	for _, scheme := range transports {
		t.Run(scheme, func(t *testing.T) {
			big := strings.Repeat("x", 5000)
			mux := NewTrackMux()
			mux.PublishFunc(context.Background(), "/big", func(tw *TrackWriter) {
				defer tw.Close()
				gw, err := tw.OpenDatagramGroup(1)
				if err != nil {
					t.Errorf("OpenDatagramGroup: %v", err)
					return
				}
				for _, p := range []string{"small0", big, "small2"} {
					if err := gw.WriteFrame(NewFrame([]byte(p))); err != nil {
						t.Errorf("WriteFrame(%d bytes): %v", len(p), err)
					}
				}
				if err := gw.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
				<-tw.Context().Done()
			})
			env := startServer(t, &Server{TrackMux: mux})
			sess := env.dial(t, scheme, nil)
			tr, err := sess.Subscribe("/big", "t", nil)
			if err != nil {
				t.Fatal(err)
			}
			ctx := testContext(t)
			got := map[uint64]string{}
			datagramReaders := 0
			for range 2 {
				gr, err := tr.AcceptGroup(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if gr.Datagram() {
					datagramReaders++
				}
				if gr.GroupSequence() != 1 {
					t.Errorf("group %d, want 1", gr.GroupSequence())
				}
				for {
					o, err := gr.ReadObject()
					if err == io.EOF {
						break
					}
					if err != nil {
						t.Fatal(err)
					}
					if o.Status == StatusNormal {
						got[o.ID] = string(o.Frame.Bytes())
					}
				}
			}
			tr.Close()
			if datagramReaders != 1 {
				t.Errorf("%d of the 2 GroupReaders are datagram groups, want 1", datagramReaders)
			}
			want := map[uint64]string{0: "small0", 1: big, 2: "small2"}
			if len(got) != len(want) {
				t.Fatalf("got %d objects in 2 GroupReaders, want 3", len(got))
			}
			for id, p := range want {
				if got[id] != p {
					t.Errorf("object %d: %d bytes, want %d", id, len(got[id]), len(p))
				}
			}
		})
	}
}

// sendDatagram sends one OBJECT_DATAGRAM from the raw publisher.
func (p *rawPublisher) sendDatagram(d *wire.Datagram) {
	p.t.Helper()
	b, err := wire.AppendDatagram(nil, d, wire.Draft14)
	if err != nil {
		p.t.Fatal(err)
	}
	if err := p.conn.SendDatagram(b); err != nil {
		p.t.Fatal(err)
	}
}

func objectDatagram(group, id uint64, payload string, endOfGroup bool) *wire.Datagram {
	return &wire.Datagram{
		TrackAlias: 7,
		Object:     wire.Object{GroupID: group, ObjectID: id, EndOfGroup: endOfGroup},
		Payload:    []byte(payload),
	}
}

// readFrames reads gr to its end and returns the payloads.
func readFrames(t *testing.T, gr *GroupReader) []string {
	t.Helper()
	var got []string
	_ = gr.SetReadDeadline(time.Now().Add(10 * time.Second)) // a group that never ends fails
	for {
		f, err := gr.ReadFrame()
		if err == io.EOF {
			return got
		}
		if err != nil {
			t.Fatalf("group %d: ReadFrame: %v", gr.GroupSequence(), err)
		}
		got = append(got, string(f.Bytes()))
	}
}

// TestDatagramGroupRules checks when datagram groups begin and end, with a
// raw publisher that controls every datagram: a group ends on its End of
// Group datagram, or once a newer group has begun and it was idle for
// Config.DatagramGroupTimeout; an ended group is not reopened by a late
// datagram; Config.MaxDatagramGroups bounds the groups remembered (older
// ones are dropped); a malformed datagram closes the session.
func TestDatagramGroupRules(t *testing.T) {
	p, s := newRawPublisher(t, &Config{DatagramGroupTimeout: 50 * time.Millisecond, MaxDatagramGroups: 2})
	sub, done := subscribeRaw(p, s)
	p.write(&wire.SubscribeOK{RequestID: sub.RequestID, TrackAlias: 7, GroupOrder: wire.GroupOrderAscending})
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	ctx := testContext(t)
	accept := func(want GroupSequence) *GroupReader {
		t.Helper()
		gr, err := r.tr.AcceptGroup(ctx)
		if err != nil {
			t.Fatalf("AcceptGroup: %v", err)
		}
		if gr.GroupSequence() != want {
			t.Fatalf("group %d, want %d", gr.GroupSequence(), want)
		}
		return gr
	}

	// Group 1 loses its End of Group: it ends once group 2 began and group
	// 1 stayed idle.
	p.sendDatagram(objectDatagram(1, 0, "1.0", false))
	p.sendDatagram(objectDatagram(1, 2, "1.2", false))
	g1 := accept(1)
	if !g1.Datagram() {
		t.Error("group 1 is not a datagram group")
	}
	p.sendDatagram(objectDatagram(2, 0, "2.0", false))
	if got := readFrames(t, g1); fmt.Sprint(got) != "[1.0 1.2]" {
		t.Errorf("group 1: %q", got)
	}
	// Group 2 ends with an End of Group flag; a late datagram of group 1
	// opens nothing.
	g2 := accept(2)
	p.sendDatagram(objectDatagram(1, 3, "1.3 late", false))
	p.sendDatagram(objectDatagram(2, 1, "2.1", true))
	if got := readFrames(t, g2); fmt.Sprint(got) != "[2.0 2.1]" {
		t.Errorf("group 2: %q", got)
	}
	// Group 3 makes the state forget group 1 (MaxDatagramGroups 2): a
	// datagram of group 1 is then below the floor and dropped too.
	p.sendDatagram(objectDatagram(3, 0, "3.0", false))
	p.sendDatagram(objectDatagram(1, 4, "1.4 later", false))
	p.sendDatagram(&wire.Datagram{TrackAlias: 7, Object: wire.Object{GroupID: 3, ObjectID: 1, Status: wire.StatusEndOfGroup}, StatusPresent: true})
	if got := readFrames(t, accept(3)); fmt.Sprint(got) != "[3.0]" {
		t.Errorf("group 3: %q", got)
	}
	s.dgram.mu.Lock()
	remembered := len(s.dgram.tracks[r.tr].groups)
	s.dgram.mu.Unlock()
	if remembered != 2 {
		t.Errorf("%d groups remembered, want MaxDatagramGroups = 2", remembered)
	}

	// A malformed datagram (an undefined type) closes the session.
	if err := p.conn.SendDatagram([]byte{0x3f, 7, 1}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.Context().Done():
	case <-ctx.Done():
		t.Fatal("session survived a malformed datagram")
	}
	var se *SessionError
	if !errors.As(s.Err(), &se) || se.Code != ErrCodeProtocolViolation {
		t.Errorf("session ended with %v, want PROTOCOL_VIOLATION", s.Err())
	}
}

package wire

import (
	"bytes"
	"reflect"
	"testing"
)

func TestDatagramRoundTrip(t *testing.T) {
	ext := []byte{0x3c, 0x01}
	cases := []struct {
		name string
		d    Datagram // as built by a sender: layout flags left to AppendDatagram
		typ  uint64
		hex  string
	}{
		{"payload, object ID", Datagram{TrackAlias: 1, Object: Object{GroupID: 2, ObjectID: 3, PublisherPriority: 0x80}, Payload: []byte{0xde, 0xad}},
			0x00, "00 01 02 03 80 dead"},
		{"payload, object ID 0 sent", Datagram{TrackAlias: 1, Object: Object{GroupID: 2, PublisherPriority: 0x80}, Payload: []byte{0xde}, ObjectIDPresent: true},
			0x00, "00 01 02 00 80 de"},
		{"extensions", Datagram{TrackAlias: 1, Object: Object{GroupID: 2, ObjectID: 3, Extensions: ext}, Payload: []byte{0xde}},
			0x01, "01 01 02 03 00 02 3c01 de"},
		{"end of group", Datagram{TrackAlias: 1, Object: Object{GroupID: 2, ObjectID: 3, EndOfGroup: true}, Payload: []byte{0xde}},
			0x02, "02 01 02 03 00 de"},
		{"end of group, extensions", Datagram{TrackAlias: 1, Object: Object{GroupID: 2, ObjectID: 3, EndOfGroup: true, Extensions: ext}, Payload: []byte{0xde}},
			0x03, "03 01 02 03 00 02 3c01 de"},
		{"object ID 0 left out", Datagram{TrackAlias: 1, Object: Object{GroupID: 2}, Payload: []byte{0xde}},
			0x04, "04 01 02 00 de"},
		{"no object ID, extensions", Datagram{TrackAlias: 1, Object: Object{GroupID: 2, Extensions: ext}, Payload: []byte{0xde}},
			0x05, "05 01 02 00 02 3c01 de"},
		{"no object ID, end of group", Datagram{TrackAlias: 1, Object: Object{GroupID: 2, EndOfGroup: true}, Payload: []byte{0xde}},
			0x06, "06 01 02 00 de"},
		{"no object ID, end of group, extensions", Datagram{TrackAlias: 1, Object: Object{GroupID: 2, EndOfGroup: true, Extensions: ext}, Payload: []byte{0xde}},
			0x07, "07 01 02 00 02 3c01 de"},
		{"empty payload", Datagram{TrackAlias: 1, Object: Object{GroupID: 2, ObjectID: 1}},
			0x00, "00 01 02 01 00"},
		{"status", Datagram{TrackAlias: 1, Object: Object{GroupID: 2, Status: StatusDoesNotExist}},
			0x20, "20 01 02 00 00 01"},
		{"status end of track", Datagram{TrackAlias: 1, Object: Object{GroupID: 2, ObjectID: 9, Status: StatusEndOfTrack}},
			0x20, "20 01 02 09 00 04"},
		{"normal status", Datagram{TrackAlias: 1, Object: Object{GroupID: 2}, StatusPresent: true},
			0x20, "20 01 02 00 00 00"},
		{"status, extensions", Datagram{TrackAlias: 1, Object: Object{GroupID: 2, Status: StatusEndOfGroup, Extensions: ext}},
			0x21, "21 01 02 00 00 02 3c01 03"},
		{"empty extensions are left out", Datagram{TrackAlias: 1, Object: Object{GroupID: 2, ObjectID: 3, Extensions: []byte{}}, Payload: []byte{0xde}},
			0x00, "00 01 02 03 00 de"},
		{"large fields", Datagram{TrackAlias: MaxVarint, Object: Object{GroupID: 1 << 40, ObjectID: 16384, PublisherPriority: 0xff}, Payload: make([]byte, 1200)},
			0x00, "00 ffffffffffffffff c000010000000000 80004000 ff" + string(bytes.Repeat([]byte("00"), 1200))},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if typ, err := c.d.Type(); err != nil || typ != c.typ {
				t.Errorf("Type() = %#x, %v; want %#x", typ, err, c.typ)
			}
			b, err := AppendDatagram([]byte{0xaa}, &c.d, Draft14)
			if err != nil {
				t.Fatal(err)
			}
			want := unhex(t, c.hex)
			if !bytes.Equal(b[1:], want) || b[0] != 0xaa {
				t.Fatalf("encoded\n got %x\nwant aa%x", b, want)
			}
			var got Datagram
			if err := ParseDatagram(want, &got, Draft14); err != nil {
				t.Fatal(err)
			}
			// What the parser adds: the layout flags and the derived fields.
			exp := c.d
			exp.ObjectIDPresent = c.typ&datagramNoObjectID == 0
			exp.StatusPresent = c.typ&datagramStatus != 0
			exp.SubgroupID = exp.ObjectID
			exp.PayloadLength = uint64(len(exp.Payload))
			if len(exp.Extensions) == 0 {
				exp.Extensions = nil
			}
			if exp.Payload == nil && !exp.StatusPresent {
				exp.Payload = []byte{}
			}
			if !reflect.DeepEqual(got, exp) {
				t.Errorf("parsed\n got %+v\nwant %+v", got, exp)
			}
			// Parsed and re-encoded, the same bytes.
			again, err := AppendDatagram(nil, &got, Draft14)
			if err != nil || !bytes.Equal(again, want) {
				t.Errorf("re-encoded %x, %v; want %x", again, err, want)
			}
			// Extensions and payload alias the input.
			if len(got.Payload) > 0 && &got.Payload[0] != &want[len(want)-len(got.Payload)] {
				t.Error("payload was copied")
			}
			if allocs := testing.AllocsPerRun(100, func() { _ = ParseDatagram(want, &got, Draft14) }); allocs != 0 {
				t.Errorf("ParseDatagram: %v allocations", allocs)
			}
		})
	}
}

func TestDatagramParseErrors(t *testing.T) {
	cases := []struct {
		name string
		hex  string
		kind ErrorKind
	}{
		{"type 0x08", "08 01 02 00", KindUnknownMessage},
		{"type 0x22", "22 01 02 00 00 00", KindUnknownMessage},
		{"type 0x08 in two bytes", "4008 01 02 00", KindUnknownMessage},
		{"type 0x10", "10 01 02 00", KindUnknownMessage},
		{"empty", "", KindIncomplete},
		{"extensions present with length 0", "01 01 02 03 00 00 de", KindInvalidValue},
		{"status extensions present with length 0", "21 01 02 03 00 00 01", KindInvalidValue},
		{"extension length over the limit", "01 01 02 03 00 80010000", KindLimit},
		{"extension length past the end", "01 01 02 03 00 05 3c01", KindIncomplete},
		{"malformed extension block", "01 01 02 03 00 02 3d05 de", KindIncomplete},
		{"undefined status", "20 01 02 03 00 02", KindInvalidValue},
		{"extensions on a missing object", "21 01 02 03 00 02 3c01 01", KindInvalidValue},
		{"bytes after the status", "20 01 02 03 00 03 ff", KindInvalidValue},
		{"truncated vector", "000102", KindIncomplete},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var d Datagram
			err := ParseDatagram(unhex(t, c.hex), &d, Draft14)
			e := wantKind(t, err, c.kind)
			if e.NeedMore() {
				t.Error("a datagram error reports NeedMore")
			}
			if c.kind == KindUnknownMessage {
				typ, _, _ := ParseVarint(unhex(t, c.hex))
				if e.Type != typ {
					t.Errorf("error Type %#x, want %#x", e.Type, typ)
				}
			}
		})
	}
	// Every proper prefix of every valid datagram form fails with
	// KindIncomplete, or parses as a shorter payload.
	for _, h := range []string{"03 01 02 03 80 02 3c01 dead", "21 4001 4002 4003 80 02 3c01 03", "04 01 02 80"} {
		b := unhex(t, h)
		payloadAt := map[string]int{"03": 8, "04": 4}[h[:2]]
		for cut := 0; cut < len(b); cut++ {
			var d Datagram
			err := ParseDatagram(b[:cut], &d, Draft14)
			if payloadAt > 0 && cut >= payloadAt {
				if err != nil {
					t.Errorf("%s cut at %d: %v", h, cut, err)
				}
				continue
			}
			if e := wantKind(t, err, KindIncomplete); e.NeedMore() {
				t.Errorf("%s cut at %d: NeedMore", h, cut)
			}
		}
	}
	var d Datagram
	if err := ParseDatagram([]byte{0, 1, 2, 3, 4}, &d, Version(1)); err == nil {
		t.Error("ParseDatagram accepted an unsupported version")
	}
}

func TestDatagramAppendErrors(t *testing.T) {
	cases := []struct {
		name string
		d    Datagram
		kind ErrorKind // 0 means ErrVarintRange
	}{
		{"status with payload", Datagram{Object: Object{Status: StatusEndOfGroup}, Payload: []byte{1}}, KindInvalidValue},
		{"status present with payload", Datagram{StatusPresent: true, Payload: []byte{1}}, KindInvalidValue},
		{"status and end of group", Datagram{Object: Object{Status: StatusEndOfTrack, EndOfGroup: true}}, KindInvalidValue},
		{"undefined status", Datagram{Object: Object{Status: 7}}, KindInvalidValue},
		{"extensions on a missing object", Datagram{Object: Object{Status: StatusDoesNotExist, Extensions: []byte{0x3c, 0}}}, KindInvalidValue},
		{"malformed extensions", Datagram{Object: Object{Extensions: []byte{0x3d, 5}}}, KindIncomplete},
		{"extensions over the limit", Datagram{Object: Object{Extensions: make([]byte, MaxExtensionHeadersLen+1)}}, KindLimit},
		{"track alias over 2^62-1", Datagram{TrackAlias: MaxVarint + 1}, 0},
		{"group over 2^62-1", Datagram{Object: Object{GroupID: 1 << 63}}, 0},
		{"object over 2^62-1", Datagram{Object: Object{ObjectID: 1 << 62}}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := AppendDatagram([]byte{0xaa}, &c.d, Draft14)
			wantEncodeError(t, b, 1, err, c.kind)
		})
	}
	if _, err := AppendDatagram(nil, &Datagram{}, Version(1)); err == nil {
		t.Error("AppendDatagram accepted an unsupported version")
	}
}

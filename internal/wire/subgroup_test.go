package wire

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
)

// Helpers shared by the data stream tests.

// streamObject is an object with its payload, as the tests build and read
// streams.
type streamObject struct {
	Object
	Payload []byte
}

// obj builds a streamObject whose PayloadLength matches the payload.
func obj(o Object, payload string) streamObject {
	o.PayloadLength = uint64(len(payload))
	if payload == "" {
		return streamObject{Object: o}
	}
	return streamObject{Object: o, Payload: []byte(payload)}
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// mustExtensions builds an extension headers block.
func mustExtensions(t testing.TB, kvs ...KeyValue) []byte {
	t.Helper()
	b, err := AppendExtensions(nil, kvs)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// wantEncodeError checks a failed append that was given n bytes: it returned
// them unchanged, and ErrVarintRange if kind is 0, else a codec error of
// kind.
func wantEncodeError(t testing.TB, b []byte, n int, err error, kind ErrorKind) {
	t.Helper()
	if kind == 0 {
		if !errors.Is(err, ErrVarintRange) {
			t.Fatalf("got %v, want ErrVarintRange", err)
		}
	} else {
		wantKind(t, err, kind)
	}
	if len(b) != n {
		t.Errorf("b changed on error: %d bytes, was %d", len(b), n)
	}
}

// wantKind fails unless err is a codec error of kind k.
func wantKind(t testing.TB, err error, k ErrorKind) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T), want a %v codec error", err, err, k)
	}
	if e.Kind != k {
		t.Fatalf("error %q has kind %v, want %v", err, e.Kind, k)
	}
	return e
}

// snapshot copies a decoded object and its payload out of the reader's
// buffers, with empty extensions and payloads as nil.
func snapshot(o *Object, payload []byte) streamObject {
	so := streamObject{Object: *o}
	so.Extensions = nil
	if len(o.Extensions) > 0 {
		so.Extensions = bytes.Clone(o.Extensions)
	}
	if len(payload) > 0 {
		so.Payload = bytes.Clone(payload)
	}
	return so
}

// buildSubgroupStream encodes a whole subgroup stream and returns it with the
// offsets at which a stream may cleanly end (after the header and after each
// object).
func buildSubgroupStream(t testing.TB, h SubgroupHeader, objs []streamObject) ([]byte, []int) {
	t.Helper()
	w := NewSubgroupWriter(h, Draft14)
	b, err := w.AppendHeader(nil)
	if err != nil {
		t.Fatalf("AppendHeader: %v", err)
	}
	return appendStreamObjects(t, b, w.AppendObject, objs)
}

// appendStreamObjects appends each object's header with appendObject, then
// its payload, and returns the stream with the offsets at which it may
// cleanly end: before the first object and after each.
func appendStreamObjects(t testing.TB, b []byte, appendObject func([]byte, *Object) ([]byte, error), objs []streamObject) ([]byte, []int) {
	t.Helper()
	ends := []int{len(b)}
	for i := range objs {
		var err error
		if b, err = appendObject(b, &objs[i].Object); err != nil {
			t.Fatalf("AppendObject %d: %v", i, err)
		}
		b = append(b, objs[i].Payload...)
		ends = append(ends, len(b))
	}
	return b, ends
}

// readSubgroupStream decodes a whole subgroup stream from r. It returns the
// header, the objects read and the first error other than the clean end.
func readSubgroupStream(r StreamReader) (SubgroupHeader, []streamObject, error) {
	var h SubgroupHeader
	st, err := ReadStreamType(r)
	if err != nil {
		return h, nil, err
	}
	if err := ReadSubgroupHeader(r, st, &h, Draft14); err != nil {
		return h, nil, err
	}
	sr := NewSubgroupReader(h, Draft14)
	objs, err := readObjects(r, sr.ReadObject)
	return sr.Header(), objs, err
}

// readObjects reads objects with read, and their payloads, until the end of
// the stream or an error other than the clean end. It reuses one Object, as
// a real reader would.
func readObjects(r StreamReader, read func(StreamReader, *Object) error) ([]streamObject, error) {
	var objs []streamObject
	var o Object
	for {
		if err := read(r, &o); err != nil {
			if err == io.EOF {
				err = nil
			}
			return objs, err
		}
		p, err := ReadPayload(r, o.PayloadLength, nil)
		if err != nil {
			return objs, err
		}
		objs = append(objs, snapshot(&o, p))
	}
}

// checkTruncations decodes every proper prefix of a valid stream: one that
// ends at a clean end must decode without error, any other must fail with
// KindIncomplete, and none may panic.
func checkTruncations(t *testing.T, b []byte, ends []int, read func(StreamReader) error) {
	t.Helper()
	clean := map[int]bool{0: true}
	for _, e := range ends {
		clean[e] = true
	}
	for cut := 0; cut < len(b); cut++ {
		err := read(bytes.NewReader(b[:cut]))
		if cut == 0 {
			if err != io.EOF {
				t.Errorf("empty stream: %v, want io.EOF", err)
			}
			continue
		}
		if clean[cut] {
			if err != nil {
				t.Errorf("cut at object boundary %d: %v", cut, err)
			}
			continue
		}
		wantKind(t, err, KindIncomplete)
	}
}

func TestSubgroupHeaderTypes(t *testing.T) {
	defined := map[uint64]SubgroupHeader{
		0x10: {IDMode: SubgroupIDZero},
		0x11: {IDMode: SubgroupIDZero, Extensions: true},
		0x12: {IDMode: SubgroupIDFirstObject},
		0x13: {IDMode: SubgroupIDFirstObject, Extensions: true},
		0x14: {IDMode: SubgroupIDExplicit},
		0x15: {IDMode: SubgroupIDExplicit, Extensions: true},
		0x18: {IDMode: SubgroupIDZero, EndOfGroup: true},
		0x19: {IDMode: SubgroupIDZero, Extensions: true, EndOfGroup: true},
		0x1A: {IDMode: SubgroupIDFirstObject, EndOfGroup: true},
		0x1B: {IDMode: SubgroupIDFirstObject, Extensions: true, EndOfGroup: true},
		0x1C: {IDMode: SubgroupIDExplicit, EndOfGroup: true},
		0x1D: {IDMode: SubgroupIDExplicit, Extensions: true, EndOfGroup: true},
	}
	for typ := uint64(0); typ < 0x40; typ++ {
		want, ok := defined[typ]
		var h SubgroupHeader
		err := ParseSubgroupHeaderType(typ, &h, Draft14)
		kind, kerr := ClassifyStreamType(typ, Draft14)
		if !ok {
			if err == nil {
				t.Errorf("type %#x: parsed as %+v, want unknown", typ, h)
				continue
			}
			if e := wantKind(t, err, KindUnknownMessage); e.Type != typ {
				t.Errorf("type %#x: error Type %#x", typ, e.Type)
			}
			if typ == StreamTypeFetchHeader {
				if kind != StreamKindFetch || kerr != nil {
					t.Errorf("ClassifyStreamType(0x05) = %v, %v", kind, kerr)
				}
			} else if e := wantKind(t, kerr, KindUnknownMessage); e.Type != typ {
				t.Errorf("ClassifyStreamType(%#x): error Type %#x", typ, e.Type)
			}
			continue
		}
		if err != nil || h != want {
			t.Errorf("type %#x: %+v, %v; want %+v", typ, h, err, want)
		}
		if kind != StreamKindSubgroup || kerr != nil {
			t.Errorf("ClassifyStreamType(%#x) = %v, %v", typ, kind, kerr)
		}
		if got := want.StreamType(); got != typ {
			t.Errorf("%+v: StreamType %#x, want %#x", want, got, typ)
		}
		// Round trip a full header with large field values.
		h = want
		h.TrackAlias, h.GroupID, h.PublisherPriority = 1<<40, 77, 0xfe
		if h.IDMode == SubgroupIDExplicit {
			h.SubgroupID = 16384
		}
		b, err := AppendSubgroupHeader([]byte{0xaa}, &h, Draft14)
		if err != nil {
			t.Fatalf("type %#x: %v", typ, err)
		}
		r := bytes.NewReader(b[1:])
		st, err := ReadStreamType(r)
		if err != nil || st != typ {
			t.Fatalf("type %#x: ReadStreamType %#x, %v", typ, st, err)
		}
		var got SubgroupHeader
		if err := ReadSubgroupHeader(r, st, &got, Draft14); err != nil || got != h || r.Len() != 0 {
			t.Errorf("type %#x: read %+v, %v (%d left), want %+v", typ, got, err, r.Len(), h)
		}
	}
	if _, err := ClassifyStreamType(0x10, Version(1)); err == nil {
		t.Error("ClassifyStreamType accepted an unsupported version")
	}
}

func TestSubgroupHeaderErrors(t *testing.T) {
	bad := []struct {
		name string
		h    SubgroupHeader
		kind ErrorKind
	}{
		{"zero mode with a subgroup ID", SubgroupHeader{SubgroupID: 3}, KindInvalidValue},
		{"undefined mode", SubgroupHeader{IDMode: 3}, KindInvalidValue},
	}
	for _, c := range bad {
		b, err := AppendSubgroupHeader([]byte{1}, &c.h, Draft14)
		wantKind(t, err, c.kind)
		if len(b) != 1 {
			t.Errorf("%s: b grew on error", c.name)
		}
	}
	for _, h := range []SubgroupHeader{
		{TrackAlias: MaxVarint + 1},
		{GroupID: 1 << 63},
		{IDMode: SubgroupIDExplicit, SubgroupID: MaxVarint + 1},
	} {
		b, err := AppendSubgroupHeader([]byte{1}, &h, Draft14)
		if !errors.Is(err, ErrVarintRange) || len(b) != 1 {
			t.Errorf("%+v: %v, %d bytes; want ErrVarintRange and b unchanged", h, err, len(b))
		}
	}
	if _, err := AppendSubgroupHeader(nil, &SubgroupHeader{}, Version(1)); err == nil {
		t.Error("AppendSubgroupHeader accepted an unsupported version")
	}
	// Truncated headers: every proper prefix after the type.
	h := SubgroupHeader{TrackAlias: 300, GroupID: 70000, SubgroupID: 5, IDMode: SubgroupIDExplicit, PublisherPriority: 9}
	b, _ := AppendSubgroupHeader(nil, &h, Draft14)
	for cut := 1; cut < len(b); cut++ {
		var got SubgroupHeader
		err := ReadSubgroupHeader(bytes.NewReader(b[1:cut]), uint64(b[0]), &got, Draft14)
		if e := wantKind(t, err, KindIncomplete); e.Type != uint64(b[0]) {
			t.Errorf("cut %d: error Type %#x", cut, e.Type)
		}
	}
	// A stream type cut inside its varint.
	_, err := ReadStreamType(bytes.NewReader([]byte{0x40}))
	wantKind(t, err, KindIncomplete)
}

func TestSubgroupStreams(t *testing.T) {
	cases := []struct {
		name string
		h    SubgroupHeader
		objs []streamObject
		hex  string // expected encoding, if given
	}{{
		// draft-14 §10.5 Examples, the first: a subgroup on one stream.
		name: "spec example",
		h:    SubgroupHeader{TrackAlias: 2, IDMode: SubgroupIDExplicit},
		objs: []streamObject{obj(Object{ObjectID: 0}, "abcd"), obj(Object{ObjectID: 1}, "efgh")},
		hex:  "14 02 00 00 00 00 04 61626364 00 04 65666768",
	}, {
		// draft-14 §10.5 Examples, the second. The example gives Extension
		// Headers Length 33 and a Length of 21 for "traceID:123456", which is
		// 14 bytes: the two pairs take 9 + 17 = 26 bytes.
		name: "spec example with extension headers",
		h:    SubgroupHeader{TrackAlias: 2, IDMode: SubgroupIDExplicit, Extensions: true},
		objs: []streamObject{
			obj(Object{ObjectID: 0, Extensions: mustExtensions(t, KeyValue{Type: 4, Value: 2186796243}, KeyValue{Type: 77, Bytes: []byte("traceID:123456")})}, "abcd"),
			obj(Object{ObjectID: 1}, "efgh"),
		},
		hex: "15 02 00 00 00 00 1a 04 c00000008257dcd3 404d 0e 747261636549443a313233343536 04 61626364 00 00 04 65666768",
	}, {
		name: "deltas",
		h:    SubgroupHeader{TrackAlias: 1, GroupID: 9, PublisherPriority: 0x80},
		objs: []streamObject{
			obj(Object{GroupID: 9, ObjectID: 2}, "a"),
			obj(Object{GroupID: 9, ObjectID: 3}, "bb"),
			obj(Object{GroupID: 9, ObjectID: 10}, "c"),
			obj(Object{GroupID: 9, ObjectID: 16394}, "d"),
		},
		hex: "10 01 09 80 02 01 61 00 02 6262 06 01 63 7fff 01 64",
	}, {
		name: "extensions present and absent",
		h:    SubgroupHeader{TrackAlias: 1, GroupID: 1, Extensions: true},
		objs: []streamObject{
			obj(Object{GroupID: 1, ObjectID: 0, Extensions: unhex(t, "3c02")}, "x"),
			obj(Object{GroupID: 1, ObjectID: 1}, "y"),
			obj(Object{GroupID: 1, ObjectID: 2, Extensions: unhex(t, "3e01 0b03 3c0102")}, "z"),
		},
		hex: "11 01 01 00 00 02 3c02 01 78 00 00 01 79 00 07 3e010b033c0102 01 7a",
	}, {
		name: "zero-length objects with each status",
		h:    SubgroupHeader{TrackAlias: 4, GroupID: 2, SubgroupID: 1, IDMode: SubgroupIDExplicit, Extensions: true},
		objs: []streamObject{
			obj(Object{GroupID: 2, SubgroupID: 1, ObjectID: 0, Status: StatusNormal}, ""),
			obj(Object{GroupID: 2, SubgroupID: 1, ObjectID: 1, Status: StatusNormal, Extensions: unhex(t, "3c00")}, ""),
			obj(Object{GroupID: 2, SubgroupID: 1, ObjectID: 2, Status: StatusDoesNotExist}, ""),
			obj(Object{GroupID: 2, SubgroupID: 1, ObjectID: 4, Status: StatusEndOfGroup, Extensions: unhex(t, "3e01")}, ""),
		},
		hex: "15 04 02 01 00 00 00 00 00 00 02 3c00 00 00 00 00 00 01 01 02 3e01 00 03",
	}, {
		name: "end of track",
		h:    SubgroupHeader{TrackAlias: 4, GroupID: 2, EndOfGroup: true},
		objs: []streamObject{
			obj(Object{GroupID: 2, ObjectID: 0}, "p"),
			obj(Object{GroupID: 2, ObjectID: 1, Status: StatusEndOfTrack}, ""),
		},
		hex: "18 04 02 00 00 01 70 00 00 04",
	}, {
		name: "subgroup ID from the first object",
		h:    SubgroupHeader{TrackAlias: 3, GroupID: 5, IDMode: SubgroupIDFirstObject, PublisherPriority: 1},
		objs: []streamObject{
			obj(Object{GroupID: 5, SubgroupID: 7, ObjectID: 7, PublisherPriority: 1}, "q"),
			obj(Object{GroupID: 5, SubgroupID: 7, ObjectID: 8, PublisherPriority: 1}, "r"),
		},
		hex: "12 03 05 01 07 01 71 00 01 72",
	}, {
		name: "header only",
		h:    SubgroupHeader{TrackAlias: 3, GroupID: 5, IDMode: SubgroupIDFirstObject, EndOfGroup: true, Extensions: true},
		hex:  "1b 03 05 00",
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, ends := buildSubgroupStream(t, c.h, c.objs)
			if c.hex != "" && !bytes.Equal(b, unhex(t, c.hex)) {
				t.Fatalf("encoded\n got %x\nwant %x", b, unhex(t, c.hex))
			}
			// Objects read from a stream carry the header's priority.
			want := make([]streamObject, len(c.objs))
			for i, o := range c.objs {
				o.PublisherPriority = c.h.PublisherPriority
				want[i] = o
			}
			for _, r := range []StreamReader{
				bytes.NewReader(b),
				bufio.NewReaderSize(iotest.OneByteReader(bytes.NewReader(b)), 16),
			} {
				h, got, err := readSubgroupStream(r)
				if err != nil {
					t.Fatalf("read: %v", err)
				}
				if len(want) > 0 && !reflect.DeepEqual(got, want) {
					t.Errorf("read\n got %+v\nwant %+v", got, want)
				}
				wantH := c.h
				if c.h.IDMode == SubgroupIDFirstObject && len(c.objs) > 0 {
					wantH.SubgroupID = c.objs[0].ObjectID
				}
				if h != wantH {
					t.Errorf("header %+v, want %+v", h, wantH)
				}
			}
			checkTruncations(t, b, ends, func(r StreamReader) error {
				_, _, err := readSubgroupStream(r)
				return err
			})
		})
	}
}

// TestSubgroupExtensionsByteForByte checks that a block in a non-minimal
// encoding, or of unknown types, is kept and forwarded exactly as received.
func TestSubgroupExtensionsByteForByte(t *testing.T) {
	in := unhex(t, "11 01 01 00 00 08 403c 4001 7fff0100 01 61")
	_, objs, err := readSubgroupStream(bytes.NewReader(in))
	if err != nil || len(objs) != 1 {
		t.Fatalf("read: %v, %d objects", err, len(objs))
	}
	if want := unhex(t, "403c 4001 7fff0100"); !bytes.Equal(objs[0].Extensions, want) {
		t.Fatalf("extensions %x, want %x", objs[0].Extensions, want)
	}
	out, _ := buildSubgroupStream(t, SubgroupHeader{TrackAlias: 1, GroupID: 1, Extensions: true}, objs)
	if !bytes.Equal(out, in) {
		t.Errorf("forwarded\n got %x\nwant %x", out, in)
	}
}

func TestSubgroupReadErrors(t *testing.T) {
	cases := []struct {
		name string
		hex  string
		kind ErrorKind
		n    int // objects read before the error
	}{
		{"undefined status", "10 01 00 00 00 00 02", KindInvalidValue, 0},
		{"large undefined status", "10 01 00 00 00 00 4005", KindInvalidValue, 0},
		{"extensions on a missing object", "11 01 00 00 00 02 3c01 00 01", KindInvalidValue, 0},
		{"extension block cut inside a pair", "11 01 00 00 00 02 3d05 01 61", KindIncomplete, 0},
		{"extension block cut inside a type", "11 01 00 00 00 01 40 01 61", KindIncomplete, 0},
		{"extension length over the limit", "11 01 00 00 00 80010000", KindLimit, 0},
		{"object after end of group", "10 01 00 00 00 00 03 00 01 61", KindInvalidValue, 1},
		{"object after end of track", "10 01 00 00 00 00 04 00 00 00", KindInvalidValue, 1},
		{"object ID past 2^62-1", "10 01 00 00 ffffffffffffffff 01 61 00 01 62", KindInvalidValue, 1},
		{"unknown stream type", "16 01 00 00", KindUnknownMessage, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, objs, err := readSubgroupStream(bytes.NewReader(unhex(t, c.hex)))
			e := wantKind(t, err, c.kind)
			if len(objs) != c.n {
				t.Errorf("%d objects read before the error, want %d", len(objs), c.n)
			}
			if c.kind == KindIncomplete && e.NeedMore() {
				t.Errorf("a malformed extension block reports NeedMore")
			}
			if e.Type == 0 {
				t.Errorf("error %v does not record the stream type", err)
			}
		})
	}
	// Extensions present with a length of 0 are fine on a stream.
	ok := unhex(t, "11 01 00 00 00 00 01 61 00 00 01 62")
	if _, objs, err := readSubgroupStream(bytes.NewReader(ok)); err != nil || len(objs) != 2 || objs[1].ObjectID != 1 {
		t.Errorf("read: %v, %+v", err, objs)
	}
	// A read error other than the end of the stream is returned as is.
	boom := errors.New("stream reset")
	r := bufio.NewReader(io.MultiReader(bytes.NewReader(unhex(t, "10 01 00 00 00")), iotest.ErrReader(boom)))
	if _, _, err := readSubgroupStream(r); err != boom {
		t.Errorf("got %v, want the reader's error", err)
	}
	// An unsupported version.
	var o Object
	if err := NewSubgroupReader(SubgroupHeader{}, Version(1)).ReadObject(bytes.NewReader([]byte{0}), &o); err == nil {
		t.Error("ReadObject accepted an unsupported version")
	}
}

func TestSubgroupWriteErrors(t *testing.T) {
	h := SubgroupHeader{TrackAlias: 1, GroupID: 3, SubgroupID: 2, IDMode: SubgroupIDExplicit}
	cases := []struct {
		name  string
		h     SubgroupHeader
		prior []Object // appended first, successfully
		o     Object
		kind  ErrorKind // 0 means ErrVarintRange
	}{
		{"status with payload", h, nil, Object{GroupID: 3, SubgroupID: 2, Status: StatusEndOfGroup, PayloadLength: 1}, KindInvalidValue},
		{"undefined status", h, nil, Object{GroupID: 3, SubgroupID: 2, Status: 2}, KindInvalidValue},
		{"extensions on a stream without them", h, nil, Object{GroupID: 3, SubgroupID: 2, Extensions: []byte{0x3c, 0}, PayloadLength: 1}, KindInvalidValue},
		{"extensions on a missing object", SubgroupHeader{Extensions: true}, nil, Object{Status: StatusDoesNotExist, Extensions: []byte{0x3c, 0}}, KindInvalidValue},
		{"malformed extensions", SubgroupHeader{Extensions: true}, nil, Object{Extensions: []byte{0x3d, 5}, PayloadLength: 1}, KindIncomplete},
		{"extensions over the limit", SubgroupHeader{Extensions: true}, nil, Object{Extensions: make([]byte, MaxExtensionHeadersLen+1), PayloadLength: 1}, KindLimit},
		{"wrong group", h, nil, Object{GroupID: 4, SubgroupID: 2, PayloadLength: 1}, KindInvalidValue},
		{"wrong subgroup", h, nil, Object{GroupID: 3, SubgroupID: 1, PayloadLength: 1}, KindInvalidValue},
		{"first object is not the subgroup ID", SubgroupHeader{IDMode: SubgroupIDFirstObject}, nil, Object{SubgroupID: 0, ObjectID: 1, PayloadLength: 1}, KindInvalidValue},
		{"repeated object ID", h, []Object{{GroupID: 3, SubgroupID: 2, ObjectID: 5, PayloadLength: 1}}, Object{GroupID: 3, SubgroupID: 2, ObjectID: 5, PayloadLength: 1}, KindInvalidValue},
		{"decreasing object ID", h, []Object{{GroupID: 3, SubgroupID: 2, ObjectID: 5, PayloadLength: 1}}, Object{GroupID: 3, SubgroupID: 2, ObjectID: 4, PayloadLength: 1}, KindInvalidValue},
		{"object after end of group", h, []Object{{GroupID: 3, SubgroupID: 2, ObjectID: 5, Status: StatusEndOfGroup}}, Object{GroupID: 3, SubgroupID: 2, ObjectID: 6, PayloadLength: 1}, KindInvalidValue},
		{"object ID over 2^62-1", h, nil, Object{GroupID: 3, SubgroupID: 2, ObjectID: MaxVarint + 1, PayloadLength: 1}, 0},
		{"object ID over 2^62-1 as a delta", h, []Object{{GroupID: 3, SubgroupID: 2, ObjectID: MaxVarint - 1, PayloadLength: 1}}, Object{GroupID: 3, SubgroupID: 2, ObjectID: MaxVarint + 5, PayloadLength: 1}, 0},
		{"payload length over 2^62-1", h, nil, Object{GroupID: 3, SubgroupID: 2, PayloadLength: 1 << 62}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := NewSubgroupWriter(c.h, Draft14)
			var b []byte
			for _, p := range c.prior {
				var err error
				if b, err = w.AppendObject(b, &p); err != nil {
					t.Fatalf("prior object: %v", err)
				}
			}
			n := len(b)
			before := *w
			b, err := w.AppendObject(b, &c.o)
			wantEncodeError(t, b, n, err, c.kind)
			if *w != before {
				t.Errorf("writer state advanced on error")
			}
		})
	}
	if _, err := NewSubgroupWriter(h, Version(1)).AppendObject(nil, &Object{GroupID: 3, SubgroupID: 2}); err == nil {
		t.Error("AppendObject accepted an unsupported version")
	}
}

func TestReadPayload(t *testing.T) {
	src := bytes.Repeat([]byte("0123456789"), 5000)
	buf := make([]byte, 0, 64)
	p, err := ReadPayload(bytes.NewReader(src), 10, buf)
	if err != nil || string(p) != "0123456789" || &p[0] != &buf[:1][0] {
		t.Errorf("small read: %q, %v (buffer reused: %v)", p, err, err == nil && &p[0] == &buf[:1][0])
	}
	p, err = ReadPayload(bytes.NewReader(src), uint64(len(src)), buf)
	if err != nil || !bytes.Equal(p, src) {
		t.Errorf("grown read: %d bytes, %v", len(p), err)
	}
	if p, err := ReadPayload(bytes.NewReader(nil), 0, nil); err != nil || len(p) != 0 {
		t.Errorf("empty read: %q, %v", p, err)
	}
	// A peer announcing a huge payload and sending a little: an incomplete
	// error, and no allocation anywhere near the announced size.
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err = ReadPayload(bytes.NewReader(src[:100]), 1<<50, nil)
	runtime.ReadMemStats(&after)
	wantKind(t, err, KindIncomplete)
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
		t.Errorf("%d bytes allocated for 100 bytes of input", n)
	}
	_, err = ReadPayload(bufio.NewReader(iotest.OneByteReader(bytes.NewReader(src))), uint64(len(src))+1, nil)
	wantKind(t, err, KindIncomplete)
}

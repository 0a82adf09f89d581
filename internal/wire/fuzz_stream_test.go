package wire

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// Fuzz targets for the data plane: whatever the bytes, the decoders must not
// panic, must fail only with codec errors, and whatever they decode must
// encode and decode again to the same values.

// dataStreamVectorHexes returns the hex of every vector in the shared
// data-stream vector files whose first varint satisfies keep.
func dataStreamVectorHexes(f *testing.F, keep func(t uint64) bool) [][]byte {
	paths, _ := filepath.Glob(filepath.Join(sharedVectors, "data-streams", "*.json"))
	if len(paths) == 0 {
		f.Fatalf("no data-stream vectors under %s", sharedVectors)
	}
	var out [][]byte
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		var vf vectorFile
		if err := json.Unmarshal(raw, &vf); err != nil {
			f.Fatalf("%s: %v", p, err)
		}
		for _, v := range vf.Vectors {
			b, err := hex.DecodeString(v.Hex)
			if err != nil {
				f.Fatalf("%s/%s: %v", p, v.ID, err)
			}
			if t, _, err := ParseVarint(b); err == nil && keep(t) {
				out = append(out, b)
			}
		}
	}
	return out
}

// checkCodecError fails unless err is one of the package's codec errors.
func checkCodecError(t *testing.T, err error) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("decode failed with %v (%T), not a codec error", err, err)
	}
}

func FuzzSubgroupStream(f *testing.F) {
	for _, b := range dataStreamVectorHexes(f, func(t uint64) bool { return t >= StreamTypeSubgroupMin && t <= StreamTypeSubgroupMax }) {
		f.Add(b)
	}
	ext := []byte{0x3c, 0x02, 0x0b, 0x03, 0x3e, 0x01, 0x00}
	for _, s := range []struct {
		h    SubgroupHeader
		objs []streamObject
	}{
		{SubgroupHeader{TrackAlias: 2, IDMode: SubgroupIDExplicit}, []streamObject{obj(Object{}, "abcd"), obj(Object{ObjectID: 1}, "efgh")}},
		{SubgroupHeader{TrackAlias: 1, GroupID: 9, Extensions: true, EndOfGroup: true}, []streamObject{
			obj(Object{GroupID: 9, ObjectID: 3, Extensions: ext}, "x"),
			obj(Object{GroupID: 9, ObjectID: 4, Status: StatusDoesNotExist}, ""),
			obj(Object{GroupID: 9, ObjectID: 9, Extensions: ext[:2], Status: StatusEndOfGroup}, ""),
		}},
		{SubgroupHeader{TrackAlias: 300, GroupID: 1 << 20, IDMode: SubgroupIDFirstObject, PublisherPriority: 7}, []streamObject{
			obj(Object{GroupID: 1 << 20, SubgroupID: 5, ObjectID: 5}, ""),
			obj(Object{GroupID: 1 << 20, SubgroupID: 5, ObjectID: 70000}, "yz"),
			obj(Object{GroupID: 1 << 20, SubgroupID: 5, ObjectID: 70001, Status: StatusEndOfTrack}, ""),
		}},
	} {
		b, _ := buildSubgroupStream(f, s.h, s.objs)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		st, err := ReadStreamType(r)
		if err != nil {
			if len(data) > 0 {
				checkCodecError(t, err)
			}
			return
		}
		var h SubgroupHeader
		if err := ReadSubgroupHeader(r, st, &h, Draft14); err != nil {
			checkCodecError(t, err)
			return
		}
		objs, err := readObjects(r, NewSubgroupReader(h, Draft14).ReadObject)
		if err != nil {
			checkCodecError(t, err)
		}
		// Re-encode what decoded, then decode that again.
		b, _ := buildSubgroupStream(t, h, objs)
		h2, objs2, err := readSubgroupStream(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("re-encoded stream %x does not decode: %v", b, err)
		}
		if h.IDMode == SubgroupIDFirstObject && len(objs) > 0 {
			h.SubgroupID = objs[0].ObjectID
		}
		if h2 != h || !reflect.DeepEqual(objs2, objs) {
			t.Fatalf("round trip changed the stream:\nheader %+v\n    -> %+v\nobjects %+v\n     -> %+v", h, h2, objs, objs2)
		}
	})
}

func FuzzFetchStream(f *testing.F) {
	for _, b := range dataStreamVectorHexes(f, func(t uint64) bool { return t == StreamTypeFetchHeader }) {
		f.Add(b)
	}
	b, _ := buildFetchStream(f, 9, []streamObject{
		obj(Object{GroupID: 1, SubgroupID: 2, ObjectID: 3, PublisherPriority: 4, Extensions: []byte{0x3c, 0x01, 0x0d, 0x01, 0xff}}, "pay"),
		obj(Object{GroupID: 1, SubgroupID: 2, ObjectID: 4, Status: StatusDoesNotExist}, ""),
		obj(Object{GroupID: 1 << 30, ObjectID: 16383, Status: StatusEndOfTrack}, ""),
	})
	f.Add(b)
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		st, err := ReadStreamType(r)
		if err != nil || st != StreamTypeFetchHeader {
			return
		}
		id, err := ReadFetchHeader(r, Draft14)
		if err != nil {
			checkCodecError(t, err)
			return
		}
		objs, err := readObjects(r, NewFetchReader(Draft14).ReadObject)
		if err != nil {
			checkCodecError(t, err)
		}
		b, _ := buildFetchStream(t, id, objs)
		id2, objs2, err := readFetchStream(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("re-encoded stream %x does not decode: %v", b, err)
		}
		if id2 != id || !reflect.DeepEqual(objs2, objs) {
			t.Fatalf("round trip changed the stream:\nrequest %d -> %d\nobjects %+v\n     -> %+v", id, id2, objs, objs2)
		}
	})
}

func FuzzDatagram(f *testing.F) {
	for _, b := range dataStreamVectorHexes(f, func(t uint64) bool { return t <= 0x07 || t == 0x20 || t == 0x21 }) {
		f.Add(b)
	}
	f.Add([]byte{0x21, 0x40, 0x01, 0x02, 0x03, 0x80, 0x04, 0x0b, 0x02, 0x3c, 0x00, 0x03})
	f.Add([]byte{0x07, 0x01, 0x02, 0x80, 0x03, 0x3d, 0x01, 0x00, 'p'})
	f.Fuzz(func(t *testing.T, data []byte) {
		var d Datagram
		if err := ParseDatagram(data, &d, Draft14); err != nil {
			checkCodecError(t, err)
			return
		}
		b, err := AppendDatagram(nil, &d, Draft14)
		if err != nil {
			t.Fatalf("parsed datagram %+v does not encode: %v", d, err)
		}
		if len(b) > len(data) {
			t.Fatalf("re-encoding grew the datagram: %x -> %x", data, b)
		}
		var d2 Datagram
		if err := ParseDatagram(b, &d2, Draft14); err != nil {
			t.Fatalf("re-encoded datagram %x does not parse: %v", b, err)
		}
		if !reflect.DeepEqual(d2, d) {
			t.Fatalf("round trip changed the datagram:\n%+v\n-> %+v", d, d2)
		}
		if again, _ := AppendDatagram(nil, &d2, Draft14); !bytes.Equal(again, b) {
			t.Fatalf("encoding is not stable: %x then %x", b, again)
		}
	})
}

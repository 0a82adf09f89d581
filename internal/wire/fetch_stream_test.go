package wire

import (
	"bufio"
	"bytes"
	"reflect"
	"testing"
	"testing/iotest"
)

// buildFetchStream encodes a whole fetch stream and returns it with the
// offsets at which it may cleanly end.
func buildFetchStream(t testing.TB, requestID uint64, objs []streamObject) ([]byte, []int) {
	t.Helper()
	b, err := AppendFetchHeader(nil, requestID, Draft14)
	if err != nil {
		t.Fatalf("AppendFetchHeader: %v", err)
	}
	return appendStreamObjects(t, b, NewFetchWriter(Draft14).AppendObject, objs)
}

// readFetchStream decodes a whole fetch stream from r, like
// readSubgroupStream.
func readFetchStream(r StreamReader) (uint64, []streamObject, error) {
	st, err := ReadStreamType(r)
	if err != nil {
		return 0, nil, err
	}
	if st != StreamTypeFetchHeader {
		return 0, nil, errUnknownType("stream_type", st, "stream")
	}
	id, err := ReadFetchHeader(r, Draft14)
	if err != nil {
		return 0, nil, err
	}
	objs, err := readObjects(r, NewFetchReader(Draft14).ReadObject)
	return id, objs, err
}

func TestFetchStreams(t *testing.T) {
	cases := []struct {
		name string
		id   uint64
		objs []streamObject
		hex  string
	}{
		{"header only", 7, nil, "05 07"},
		{"objects across groups and subgroups", 2, []streamObject{
			obj(Object{GroupID: 0, SubgroupID: 0, ObjectID: 0, PublisherPriority: 0x80}, "ab"),
			obj(Object{GroupID: 0, SubgroupID: 1, ObjectID: 5, PublisherPriority: 3, Extensions: unhex(t, "3c02")}, "c"),
			obj(Object{GroupID: 3, SubgroupID: 9, ObjectID: 9, Status: StatusDoesNotExist}, ""),
			obj(Object{GroupID: 3, SubgroupID: 9, ObjectID: 10, Status: StatusEndOfGroup, Extensions: unhex(t, "0b00")}, ""),
			obj(Object{GroupID: 4, ObjectID: 0, Status: StatusNormal}, ""),
			obj(Object{GroupID: 16384, SubgroupID: 64, ObjectID: 1 << 30, Status: StatusEndOfTrack}, ""),
		}, "05 02" +
			"00 00 00 80 00 02 6162" +
			"00 01 05 03 02 3c02 01 63" +
			"03 09 09 00 00 00 01" +
			"03 09 0a 00 02 0b00 00 03" +
			"04 00 00 00 00 00 00" +
			"80004000 4040 c000000040000000 00 00 00 04"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, ends := buildFetchStream(t, c.id, c.objs)
			if want := unhex(t, c.hex); !bytes.Equal(b, want) {
				t.Fatalf("encoded\n got %x\nwant %x", b, want)
			}
			for _, r := range []StreamReader{
				bytes.NewReader(b),
				bufio.NewReaderSize(iotest.OneByteReader(bytes.NewReader(b)), 16),
			} {
				id, got, err := readFetchStream(r)
				if err != nil || id != c.id {
					t.Fatalf("read: request %d, %v", id, err)
				}
				if len(c.objs) > 0 && !reflect.DeepEqual(got, c.objs) {
					t.Errorf("read\n got %+v\nwant %+v", got, c.objs)
				}
			}
			checkTruncations(t, b, ends, func(r StreamReader) error {
				_, _, err := readFetchStream(r)
				return err
			})
		})
	}
}

func TestFetchReadErrors(t *testing.T) {
	cases := []struct {
		name string
		hex  string
		kind ErrorKind
		n    int
	}{
		{"undefined status", "05 01 00 00 00 80 00 00 05", KindInvalidValue, 0},
		{"extensions on a missing object", "05 01 00 00 00 80 02 3c00 00 01", KindInvalidValue, 0},
		{"malformed extension block", "05 01 00 00 00 80 01 3d 00 00", KindIncomplete, 0},
		{"extension length over the limit", "05 01 00 00 00 80 80010000", KindLimit, 0},
		{"bad second object", "05 01 00 00 00 80 00 01 61 00 00 01 80 00 00 02", KindInvalidValue, 1},
		{"truncated vector", "050200", KindIncomplete, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, objs, err := readFetchStream(bytes.NewReader(unhex(t, c.hex)))
			if e := wantKind(t, err, c.kind); e.Type != StreamTypeFetchHeader {
				t.Errorf("error Type %#x", e.Type)
			}
			if len(objs) != c.n {
				t.Errorf("%d objects before the error, want %d", len(objs), c.n)
			}
		})
	}
	// The end of the stream inside the Request ID.
	r := bytes.NewReader([]byte{0x40})
	_, err := ReadFetchHeader(r, Draft14)
	wantKind(t, err, KindIncomplete)
	if _, err := ReadFetchHeader(bytes.NewReader([]byte{1}), Version(1)); err == nil {
		t.Error("ReadFetchHeader accepted an unsupported version")
	}
	var o Object
	if err := NewFetchReader(Version(1)).ReadObject(bytes.NewReader([]byte{0}), &o); err == nil {
		t.Error("ReadObject accepted an unsupported version")
	}
}

func TestFetchWriteErrors(t *testing.T) {
	cases := []struct {
		name string
		o    Object
		kind ErrorKind // 0 means ErrVarintRange
	}{
		{"status with payload", Object{Status: StatusEndOfTrack, PayloadLength: 3}, KindInvalidValue},
		{"undefined status", Object{Status: 2}, KindInvalidValue},
		{"extensions on a missing object", Object{Status: StatusDoesNotExist, Extensions: []byte{0x3c, 0}}, KindInvalidValue},
		{"malformed extensions", Object{Extensions: []byte{0x40}, PayloadLength: 1}, KindIncomplete},
		{"group over 2^62-1", Object{GroupID: MaxVarint + 1}, 0},
		{"subgroup over 2^62-1", Object{SubgroupID: MaxVarint + 1}, 0},
		{"object over 2^62-1", Object{ObjectID: MaxVarint + 1}, 0},
		{"payload length over 2^62-1", Object{PayloadLength: MaxVarint + 1}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := NewFetchWriter(Draft14).AppendObject([]byte{0xaa}, &c.o)
			wantEncodeError(t, b, 1, err, c.kind)
		})
	}
	b, err := AppendFetchHeader([]byte{0xaa}, MaxVarint+1, Draft14)
	wantEncodeError(t, b, 1, err, 0)
	if _, err := AppendFetchHeader(nil, 1, Version(1)); err == nil {
		t.Error("AppendFetchHeader accepted an unsupported version")
	}
	if _, err := NewFetchWriter(Version(1)).AppendObject(nil, &Object{}); err == nil {
		t.Error("AppendObject accepted an unsupported version")
	}
}

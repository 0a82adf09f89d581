package trace

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var sampleRecords = []Record{
	{Kind: KindObject, Time: 0, Group: 0, Subgroup: 0, Object: 0, Priority: 128, Payload: []byte("hello")},
	{Kind: KindObject, Time: 1500 * time.Microsecond, Group: 0, Subgroup: 1, Object: 1, Priority: 7,
		Extensions: []byte{0x02, 0x07, 0x03, 0x02, 'h', 'i'}, Payload: []byte{0, 1, 2}},
	{Kind: KindObject, Time: 2 * time.Millisecond, Group: 0, Subgroup: 0, Object: 2, Priority: 128, Status: 3},
	{Kind: KindSubgroupEnd, Time: 3 * time.Millisecond, Group: 0, Subgroup: 0, Priority: 128},
	{Kind: KindObject, Time: time.Second, Group: 1 << 40, Subgroup: 0, Object: 1 << 20, Priority: 0, Datagram: true, Payload: []byte("dg")},
}

func encode(t testing.TB, h Header, recs []Record) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, h)
	if err != nil {
		t.Fatal(err)
	}
	for i := range recs {
		if err := w.Write(&recs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestRoundTrip(t *testing.T) {
	h := Header{Path: "/live/x", Track: "video", Start: time.Unix(1700000000, 123456789)}
	b := encode(t, h, sampleRecords)
	r, err := NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if r.Header.Path != h.Path || r.Header.Track != h.Track || !r.Header.Start.Equal(h.Start) {
		t.Errorf("header = %+v, want %+v", r.Header, h)
	}
	for i := range sampleRecords {
		got, err := r.Next()
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if !reflect.DeepEqual(*got, sampleRecords[i]) {
			t.Errorf("record %d = %+v, want %+v", i, *got, sampleRecords[i])
		}
	}
	if _, err := r.Next(); err != io.EOF {
		t.Errorf("after the last record: %v, want io.EOF", err)
	}
}

// TestTruncated: a recording cut anywhere yields its complete records and
// then a clear error, never a panic or a wrong record.
func TestTruncated(t *testing.T) {
	b := encode(t, Header{Path: "/p", Track: "t"}, sampleRecords)
	for cut := 0; cut < len(b); cut++ {
		r, err := NewReader(bytes.NewReader(b[:cut]))
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("cut %d: header error %v does not wrap ErrFormat", cut, err)
			}
			continue
		}
		n := 0
		for {
			rec, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				if !errors.Is(err, ErrFormat) {
					t.Fatalf("cut %d: %v does not wrap ErrFormat", cut, err)
				}
				break
			}
			if !reflect.DeepEqual(*rec, sampleRecords[n]) {
				t.Fatalf("cut %d: record %d = %+v", cut, n, *rec)
			}
			n++
		}
	}
}

func TestReaderErrors(t *testing.T) {
	good := encode(t, Header{Path: "/p", Track: "t"}, nil)
	rec := func(body ...byte) []byte {
		b := append([]byte(nil), good...)
		b = binary.AppendUvarint(b, uint64(len(body)))
		return append(b, body...)
	}
	for _, tc := range []struct {
		name, in, want string
	}{
		{"empty", "", "header"},
		{"magic", "MOQTRACX\x01", "bad magic"},
		{"version", "MOQTRACE\x02", "unsupported version 2"},
		{"name too long", "MOQTRACE\x01\xff\xff\x01", "path length"},
		{"huge record", string(append(append([]byte(nil), good...), 0xff, 0xff, 0xff, 0xff, 0x7f)), "exceeds the limit"},
		{"kind", string(rec(9, 0, 0, 0, 0, 0, 0, 0, 0)), "unknown record kind 9"},
		{"flags", string(rec(0, 0, 0, 0, 0, 0, 0, 4, 0)), "unknown record flags"},
		{"extension length", string(rec(0, 0, 0, 0, 0, 0, 0, 0, 5, 1)), "extensions length"},
		{"extension block", string(rec(0, 0, 0, 0, 0, 0, 0, 0, 2, 3, 9)), "extensions"},
		{"short body", string(rec(0, 0)), "truncated"},
		{"end with payload", string(rec(1, 0, 0, 0, 0, 0, 0, 0, 0, 'x')), "subgroup end record"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := NewReader(strings.NewReader(tc.in))
			if err == nil {
				_, err = r.Next()
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestWriterErrors(t *testing.T) {
	if _, err := NewWriter(io.Discard, Header{Path: strings.Repeat("x", MaxNameLen+1)}); err == nil {
		t.Error("overlong path accepted")
	}
	w, err := NewWriter(io.Discard, Header{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(&Record{Kind: 5}); err == nil {
		t.Error("unknown kind accepted")
	}
	if err := w.Write(&Record{Time: -1}); err == nil {
		t.Error("negative time accepted")
	}
}

// FuzzTraceReader: any input reads as records or fails with an error;
// it never panics, and what it reads re-encodes to the same records.
func FuzzTraceReader(f *testing.F) {
	f.Add(encode(f, Header{Path: "/live/x", Track: "v", Start: time.Unix(1, 0)}, sampleRecords))
	f.Add(encode(f, Header{}, nil))
	f.Add([]byte("MOQTRACE\x01\x00\x00\x00\x05\x00\x00\x00\x00\x00"))
	f.Add([]byte("MOQTRACE\x01\x00\x00\x00\xff\xff\xff\xff\x0f"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := NewReader(bytes.NewReader(b))
		if err != nil {
			return
		}
		r.MaxRecordSize = 1 << 16
		var recs []Record
		for {
			rec, err := r.Next()
			if err != nil {
				break
			}
			recs = append(recs, *rec)
		}
		again := encode(t, r.Header, recs)
		r2, err := NewReader(bytes.NewReader(again))
		if err != nil {
			t.Fatalf("re-encoded header: %v", err)
		}
		for i := range recs {
			rec, err := r2.Next()
			if err != nil || !reflect.DeepEqual(*rec, recs[i]) {
				t.Fatalf("re-encoded record %d = %+v, %v; want %+v", i, rec, err, recs[i])
			}
		}
	})
}

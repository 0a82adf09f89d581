package wire

import (
	"bufio"
	"bytes"
	"io"
	"testing"
)

// Data plane benchmarks. Every object path must report 0 allocs/op.

const benchPayload = 1024

// benchExtensions is a typical extension block: a varint header and a short
// byte header.
var benchExtensions = []byte{0x3c, 0x01, 0x0d, 0x08, 1, 2, 3, 4, 5, 6, 7, 8}

func BenchmarkSubgroupObjectAppend(b *testing.B) {
	for _, c := range []struct {
		name string
		ext  []byte
	}{{"plain", nil}, {"extensions", benchExtensions}} {
		b.Run(c.name, func(b *testing.B) {
			h := SubgroupHeader{TrackAlias: 5, GroupID: 1000, SubgroupID: 2, IDMode: SubgroupIDExplicit, Extensions: c.ext != nil}
			w := NewSubgroupWriter(h, Draft14)
			o := Object{GroupID: 1000, SubgroupID: 2, Extensions: c.ext, PayloadLength: benchPayload}
			buf, err := w.AppendObject(make([]byte, 0, 64), &o)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 1; i <= b.N; i++ {
				o.ObjectID = uint64(i)
				if buf, err = w.AppendObject(buf[:0], &o); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// objectStream replays a prebuilt stream of objects forever, rewinding at
// the end, and reads object headers from it.
type objectStream struct {
	data []byte
	src  *bytes.Reader
	br   *bufio.Reader
}

func newObjectStream(data []byte) *objectStream {
	s := &objectStream{data: data, src: bytes.NewReader(data)}
	s.br = bufio.NewReaderSize(s.src, 64<<10)
	return s
}

func (s *objectStream) rewind() {
	s.src.Reset(s.data)
	s.br.Reset(s.src)
}

// benchStreamRead reads one object per iteration with read and discards its
// payload; start (re)reads the stream header after each rewind.
func benchStreamRead(b *testing.B, data []byte, objects int, start func(*bufio.Reader), read func(*bufio.Reader, *Object) error) {
	s := newObjectStream(data)
	start(s.br)
	var o Object
	b.SetBytes(int64(len(data) / objects))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		err := read(s.br, &o)
		if err == io.EOF {
			s.rewind()
			start(s.br)
			err = read(s.br, &o)
		}
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.br.Discard(int(o.PayloadLength)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSubgroupObjectRead(b *testing.B) {
	const n = 1000
	for _, c := range []struct {
		name string
		ext  []byte
	}{{"plain", nil}, {"extensions", benchExtensions}} {
		b.Run(c.name, func(b *testing.B) {
			h := SubgroupHeader{TrackAlias: 5, GroupID: 1000, IDMode: SubgroupIDFirstObject, Extensions: c.ext != nil}
			objs := make([]streamObject, n)
			payload := string(make([]byte, benchPayload))
			for i := range objs {
				objs[i] = obj(Object{GroupID: 1000, SubgroupID: 0, ObjectID: uint64(i), Extensions: c.ext}, payload)
			}
			data, _ := buildSubgroupStream(b, h, objs)
			sr := NewSubgroupReader(h, Draft14)
			benchStreamRead(b, data, n, func(r *bufio.Reader) {
				var hh SubgroupHeader
				st, err := ReadStreamType(r)
				if err == nil {
					err = ReadSubgroupHeader(r, st, &hh, Draft14)
				}
				if err != nil {
					b.Fatal(err)
				}
				sr.Reset(hh, Draft14)
			}, func(r *bufio.Reader, o *Object) error { return sr.ReadObject(r, o) })
		})
	}
}

func BenchmarkFetchObjectRead(b *testing.B) {
	const n = 1000
	objs := make([]streamObject, n)
	payload := string(make([]byte, benchPayload))
	for i := range objs {
		objs[i] = obj(Object{GroupID: uint64(i / 30), SubgroupID: 0, ObjectID: uint64(i % 30), PublisherPriority: 0x80, Extensions: benchExtensions}, payload)
	}
	data, _ := buildFetchStream(b, 7, objs)
	fr := NewFetchReader(Draft14)
	benchStreamRead(b, data, n, func(r *bufio.Reader) {
		st, err := ReadStreamType(r)
		if err == nil && st == StreamTypeFetchHeader {
			_, err = ReadFetchHeader(r, Draft14)
		}
		if err != nil {
			b.Fatal(err)
		}
	}, func(r *bufio.Reader, o *Object) error { return fr.ReadObject(r, o) })
}

func benchDatagram() *Datagram {
	return &Datagram{
		TrackAlias: 5,
		Object:     Object{GroupID: 1000, ObjectID: 17, PublisherPriority: 0x80, Extensions: benchExtensions},
		Payload:    make([]byte, benchPayload),
	}
}

func BenchmarkDatagramParse(b *testing.B) {
	data, err := AppendDatagram(nil, benchDatagram(), Draft14)
	if err != nil {
		b.Fatal(err)
	}
	var d Datagram
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := ParseDatagram(data, &d, Draft14); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDatagramAppend(b *testing.B) {
	d := benchDatagram()
	buf, err := AppendDatagram(make([]byte, 0, 2048), d, Draft14)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if buf, err = AppendDatagram(buf[:0], d, Draft14); err != nil {
			b.Fatal(err)
		}
	}
}

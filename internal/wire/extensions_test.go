package wire

import (
	"bytes"
	"encoding/hex"
	"reflect"
	"testing"
)

func TestExtensionsRoundTrip(t *testing.T) {
	kvs := []KeyValue{
		{Type: ExtPriorGroupIDGap, Value: 2},
		{Type: ExtPriorObjectIDGap, Value: 1 << 40},
		{Type: ExtImmutableExtensions, Bytes: []byte{0x3c, 0x01, 0x40, 0x4d, 0x02, 'h', 'i'}},
		{Type: 77, Bytes: []byte("traceID:123456")},
		{Type: 0x25, Bytes: []byte{}},
		{Type: MaxVarint - 1, Value: MaxVarint},
	}
	block, err := AppendExtensions(nil, kvs)
	if err != nil {
		t.Fatal(err)
	}
	want := unhex(t, "3c02 3e c000010000000000 0b07 3c01404d026869 404d 0e "+hex.EncodeToString([]byte("traceID:123456"))+
		" 25 00 fffffffffffffffe ffffffffffffffff")
	if !bytes.Equal(block, want) {
		t.Fatalf("block\n got %x\nwant %x", block, want)
	}
	got, err := ParseExtensions(block)
	if err != nil || !reflect.DeepEqual(got, kvs) {
		t.Fatalf("ParseExtensions: %+v, %v", got, err)
	}
	// ParseExtensions copies; the iterator aliases and exposes the raw pairs.
	if &got[2].Bytes[0] == &block[bytes.Index(block, kvs[2].Bytes)] {
		t.Error("ParseExtensions aliases the block")
	}
	it := NewExtensionIter(block)
	var raw []byte
	for it.Next() {
		raw = append(raw, it.Raw()...)
	}
	if it.Err() != nil || !bytes.Equal(raw, block) {
		t.Errorf("raw pairs %x, %v", raw, it.Err())
	}
	// The Immutable Extensions value is itself a block.
	imm, ok := FindExtension(block, ExtImmutableExtensions)
	if !ok {
		t.Fatal("FindExtension: no Immutable Extensions")
	}
	inner, err := ParseExtensions(imm.Bytes)
	if err != nil || !reflect.DeepEqual(inner, []KeyValue{{Type: 0x3c, Value: 1}, {Type: 0x4d, Bytes: []byte("hi")}}) {
		t.Errorf("immutable extensions %+v, %v", inner, err)
	}
	if _, ok := FindExtension(block, 0x40); ok {
		t.Error("FindExtension found an absent type")
	}
	// RangeExtensions stops when told to.
	n := 0
	if err := RangeExtensions(block, func(KeyValue) bool { n++; return n < 2 }); err != nil || n != 2 {
		t.Errorf("RangeExtensions: %d calls, %v", n, err)
	}
	if allocs := testing.AllocsPerRun(100, func() {
		if ValidateExtensions(block) != nil {
			t.Fatal("invalid")
		}
		_, _ = FindExtension(block, 0x25)
	}); allocs != 0 {
		t.Errorf("%v allocations validating a block", allocs)
	}
	if err := ValidateExtensions(nil); err != nil {
		t.Errorf("empty block: %v", err)
	}
}

func TestExtensionErrors(t *testing.T) {
	cases := []struct {
		name  string
		hex   string
		kind  ErrorKind
		valid int // pairs before the bad one
	}{
		{"type cut", "3c01 40", KindIncomplete, 1},
		{"even value cut", "3c", KindIncomplete, 0},
		{"even value varint cut", "3c 80 00", KindIncomplete, 0},
		{"length cut", "3d", KindIncomplete, 0},
		{"value cut", "3d 03 0102", KindIncomplete, 0},
		{"value over 65535 bytes", "3c00 3d 80010000", KindLimit, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			block := unhex(t, c.hex)
			e := wantKind(t, ValidateExtensions(block), c.kind)
			if e.NeedMore() {
				t.Error("a malformed block reports NeedMore")
			}
			n := 0
			err := RangeExtensions(block, func(KeyValue) bool { n++; return true })
			wantKind(t, err, c.kind)
			if n != c.valid {
				t.Errorf("%d pairs before the error, want %d", n, c.valid)
			}
			if _, err := ParseExtensions(block); KindOf(err) != c.kind {
				t.Errorf("ParseExtensions: %v", err)
			}
		})
	}
	b, err := AppendExtension([]byte{0xaa}, KeyValue{Type: 1, Bytes: make([]byte, MaxKeyValueLen+1)})
	wantEncodeError(t, b, 1, err, KindLimit)
	if b, err := AppendExtension([]byte{0xaa}, KeyValue{Type: 1, Bytes: make([]byte, MaxKeyValueLen)}); err != nil || len(b) != 1+1+4+MaxKeyValueLen {
		t.Errorf("largest value: %d bytes, %v", len(b), err)
	}
	for _, kv := range []KeyValue{{Type: MaxVarint + 1}, {Type: 2, Value: 1 << 63}} {
		b, err := AppendExtension([]byte{0xaa}, kv)
		wantEncodeError(t, b, 1, err, 0)
	}
	b, err = AppendExtensions([]byte{0xaa}, []KeyValue{{Type: 2}, {Type: 4, Value: 1 << 62}})
	wantEncodeError(t, b, 1, err, 0)
}

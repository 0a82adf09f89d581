package wire

// Object Extension Header types defined by draft-14 §11 Extension Headers.
// Extension headers of other types are kept and forwarded byte for byte
// (draft-14 §10.2.1.2 Object Extension Header).
const (
	// ExtPriorGroupIDGap is Prior Group ID Gap (draft-14 §11.1): a varint,
	// the number of Groups before this one that do not and will never exist.
	ExtPriorGroupIDGap uint64 = 0x3C
	// ExtImmutableExtensions is Immutable Extensions (draft-14 §11.2): its
	// value is a sequence of Key-Value-Pairs that are also extension headers
	// of the object and that relays must not modify or remove. Read it with
	// [NewExtensionIter] on the value.
	ExtImmutableExtensions uint64 = 0x0B
	// ExtPriorObjectIDGap is Prior Object ID Gap (draft-14 §11.3): a varint,
	// the number of Objects before this one that do not and will never exist.
	ExtPriorObjectIDGap uint64 = 0x3E
)

// MaxExtensionHeadersLen is the largest Extension Headers Length, in bytes,
// that the decoders accept and the encoders produce. Draft-14 sets no limit on
// the whole block (only on each value, [MaxKeyValueLen]); moqgo sets this one
// so that a peer cannot make a reader buffer more than 64 KiB of extension
// headers per object. A longer block is a [KindLimit] error.
const MaxExtensionHeadersLen = 1<<16 - 1

// AppendExtension appends one extension header, a Key-Value-Pair (draft-14
// §1.4.2), to an Extension Headers block b: a varint value for an even Type,
// a length-prefixed byte value of at most [MaxKeyValueLen] bytes for an odd
// one.
func AppendExtension(b []byte, kv KeyValue) ([]byte, error) {
	if kv.IsBytes() && len(kv.Bytes) > MaxKeyValueLen {
		return b, errLimit("extension_headers", "value of extension %#x is %d bytes, the maximum is %d", kv.Type, len(kv.Bytes), MaxKeyValueLen)
	}
	start := len(b)
	b, err := appendKV(b, kv)
	if err != nil {
		return b[:start], err
	}
	return b, nil
}

// AppendExtensions appends each pair with [AppendExtension].
func AppendExtensions(b []byte, kvs []KeyValue) ([]byte, error) {
	start := len(b)
	for _, kv := range kvs {
		var err error
		if b, err = AppendExtension(b, kv); err != nil {
			return b[:start], err
		}
	}
	return b, nil
}

// ExtensionIter walks an Extension Headers block (draft-14 §10.2.1.2) without
// allocating:
//
//	it := wire.NewExtensionIter(o.Extensions)
//	for it.Next() {
//		kv := it.KeyValue()
//		...
//	}
//	if err := it.Err(); err != nil { ... }
type ExtensionIter struct {
	block []byte
	off   int
	raw   []byte
	kv    KeyValue
	err   error
}

// NewExtensionIter returns an iterator over the Key-Value-Pairs of block.
func NewExtensionIter(block []byte) ExtensionIter { return ExtensionIter{block: block} }

// Next advances to the next extension header. It returns false at the end of
// the block or on a malformed pair, which [ExtensionIter.Err] then reports.
func (it *ExtensionIter) Next() bool {
	if it.err != nil || it.off >= len(it.block) {
		return false
	}
	d := decoder{b: it.block, off: it.off}
	var kv KeyValue
	kv.Type = d.varint("extension_headers")
	if kv.IsBytes() {
		kv.Bytes = d.bytes("extension_headers", MaxKeyValueLen)
	} else {
		kv.Value = d.varint("extension_headers")
	}
	if d.err != nil {
		// The block is length-delimited: a pair ending early is malformed.
		it.err = truncated(d.err)
		return false
	}
	it.kv, it.raw = kv, it.block[it.off:d.off:d.off]
	it.off = d.off
	return true
}

// KeyValue returns the current extension header. For an odd Type, Bytes
// aliases the block.
func (it *ExtensionIter) KeyValue() KeyValue { return it.kv }

// Raw returns the wire bytes of the current extension header (Type,
// [Length,] Value), aliasing the block: a relay that rewrites some headers
// copies the others with it.
func (it *ExtensionIter) Raw() []byte { return it.raw }

// Err returns the error that stopped the iteration, or nil at the end of a
// well-formed block. A pair that runs past the end of the block is a
// [KindIncomplete] error that does not report NeedMore; a value longer than
// [MaxKeyValueLen] is a [KindLimit] error.
func (it *ExtensionIter) Err() error { return it.err }

// RangeExtensions calls fn for each extension header of block in order until
// fn returns false. Byte values alias block. It returns the error of a
// malformed block, after calling fn for the pairs before the bad one.
func RangeExtensions(block []byte, fn func(KeyValue) bool) error {
	it := NewExtensionIter(block)
	for it.Next() {
		if !fn(it.KeyValue()) {
			return nil
		}
	}
	return it.Err()
}

// ValidateExtensions checks that block is a well-formed sequence of
// Key-Value-Pairs (draft-14 §1.4.2) without allocating. The decoders call it
// on every block they read. It does not look inside values: the content of
// Immutable Extensions, say, is the business of whoever reads it.
func ValidateExtensions(block []byte) error {
	it := NewExtensionIter(block)
	for it.Next() {
	}
	return it.Err()
}

// ParseExtensions decodes block into a new slice of pairs whose byte values
// are copies, for tools and tests. The object paths use [ExtensionIter].
func ParseExtensions(block []byte) ([]KeyValue, error) {
	var kvs []KeyValue
	it := NewExtensionIter(block)
	for it.Next() {
		kv := it.KeyValue()
		if kv.Bytes != nil {
			kv.Bytes = append([]byte{}, kv.Bytes...)
		}
		kvs = append(kvs, kv)
	}
	return kvs, it.Err()
}

// FindExtension returns the first extension header of type t in block. It
// stops at a malformed pair (the decoders have already rejected such blocks).
func FindExtension(block []byte, t uint64) (KeyValue, bool) {
	it := NewExtensionIter(block)
	for it.Next() {
		if kv := it.KeyValue(); kv.Type == t {
			return kv, true
		}
	}
	return KeyValue{}, false
}

package wire

import (
	"errors"
	"io"
)

// MaxVarint is the largest value a QUIC variable-length integer can hold,
// 2^62-1 (RFC 9000 §16).
const MaxVarint = 1<<62 - 1

// ErrVarintRange is returned when encoding a value above [MaxVarint].
var ErrVarintRange = errors.New("moq wire: value exceeds 2^62-1 and cannot be encoded as a varint")

// VarintLen returns the number of bytes the minimal encoding of v takes, or 0
// if v is above [MaxVarint].
func VarintLen(v uint64) int {
	switch {
	case v <= 63:
		return 1
	case v <= 16383:
		return 2
	case v <= 1073741823:
		return 4
	case v <= MaxVarint:
		return 8
	}
	return 0
}

// AppendVarint appends the minimal encoding of v to b (RFC 9000 §16).
// It fails with [ErrVarintRange] if v is above [MaxVarint].
func AppendVarint(b []byte, v uint64) ([]byte, error) {
	switch {
	case v <= 63:
		return append(b, byte(v)), nil
	case v <= 16383:
		return append(b, byte(v>>8)|0x40, byte(v)), nil
	case v <= 1073741823:
		return append(b, byte(v>>24)|0x80, byte(v>>16), byte(v>>8), byte(v)), nil
	case v <= MaxVarint:
		return append(b, byte(v>>56)|0xc0, byte(v>>48), byte(v>>40), byte(v>>32),
			byte(v>>24), byte(v>>16), byte(v>>8), byte(v)), nil
	}
	return b, ErrVarintRange
}

// appendVarint is AppendVarint for values the caller has already bounded
// (lengths, counts, small enums). It panics on a value above MaxVarint, which
// would be a bug in this package.
func appendVarint(b []byte, v uint64) []byte {
	b, err := AppendVarint(b, v)
	if err != nil {
		panic(err)
	}
	return b
}

// ParseVarint decodes one varint from the start of b and returns it with the
// number of bytes consumed. A short b yields a [KindIncomplete] error that
// reports NeedMore. Non-minimal encodings are accepted (RFC 9000 allows them).
func ParseVarint(b []byte) (uint64, int, error) {
	if len(b) == 0 {
		return 0, 0, errIncomplete("")
	}
	n := 1 << (b[0] >> 6)
	if len(b) < n {
		return 0, 0, errIncomplete("")
	}
	v := uint64(b[0] & 0x3f)
	for i := 1; i < n; i++ {
		v = v<<8 | uint64(b[i])
	}
	return v, n, nil
}

// ReadVarint reads one varint from r. If r ends before the first byte it
// returns io.EOF; if it ends inside the varint it returns a [KindIncomplete]
// error. Other read errors are returned as they are.
func ReadVarint(r io.ByteReader) (uint64, error) {
	first, err := r.ReadByte()
	if err != nil {
		return 0, err
	}
	n := 1 << (first >> 6)
	v := uint64(first & 0x3f)
	for i := 1; i < n; i++ {
		c, err := r.ReadByte()
		if err != nil {
			if err == io.EOF {
				return 0, errIncomplete("")
			}
			return 0, err
		}
		v = v<<8 | uint64(c)
	}
	return v, nil
}

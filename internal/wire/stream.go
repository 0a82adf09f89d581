package wire

import (
	"fmt"
	"io"
	"slices"
)

// Unidirectional data stream types: draft-14 §10 Data Streams and Datagrams.
// Every unidirectional stream starts with one of these as a varint.
const (
	// StreamTypeFetchHeader starts a fetch stream: draft-14 §10.4.4 Fetch Header.
	StreamTypeFetchHeader uint64 = 0x05
	// StreamTypeSubgroupMin is the lowest SUBGROUP_HEADER type: draft-14
	// §10.4.2 Subgroup Header.
	StreamTypeSubgroupMin uint64 = 0x10
	// StreamTypeSubgroupMax is the highest SUBGROUP_HEADER type. Not every
	// value in between is defined (0x16 and 0x17 are not): use
	// [ClassifyStreamType] or [ParseSubgroupHeaderType] to check a type.
	StreamTypeSubgroupMax uint64 = 0x1D
)

// StreamReader is what the data stream decoders read from: a buffered
// stream, such as a *bufio.Reader around a QUIC receive stream or a
// *bytes.Reader. Object headers are read byte by byte, so r should be
// buffered.
type StreamReader interface {
	io.Reader
	io.ByteReader
}

// StreamKind is the kind of a unidirectional data stream, told by its type
// (draft-14 §10 Data Streams and Datagrams).
type StreamKind uint8

// Data stream kinds.
const (
	// StreamKindSubgroup is a stream that starts with a SUBGROUP_HEADER
	// (draft-14 §10.4.2 Subgroup Header).
	StreamKindSubgroup StreamKind = iota + 1
	// StreamKindFetch is a stream that starts with a FETCH_HEADER (draft-14
	// §10.4.4 Fetch Header).
	StreamKindFetch
)

// String returns "subgroup" or "fetch".
func (k StreamKind) String() string {
	switch k {
	case StreamKindSubgroup:
		return "subgroup"
	case StreamKindFetch:
		return "fetch"
	}
	return fmt.Sprintf("stream-kind(%d)", uint8(k))
}

// ReadStreamType reads the stream type varint that starts every
// unidirectional stream (draft-14 §10 Data Streams and Datagrams). It returns
// io.EOF if the stream ends before the first byte, and a [KindIncomplete]
// error if it ends inside the varint. The type is not checked: pass it to
// [ClassifyStreamType], or straight to [ReadSubgroupHeader] or
// [ReadFetchHeader], which reject types the version does not define.
func ReadStreamType(r io.ByteReader) (uint64, error) {
	t, err := ReadVarint(r)
	if err != nil && err != io.EOF {
		return 0, fieldErr(err, "stream_type")
	}
	return t, err
}

// ClassifyStreamType tells which kind of data stream type t starts in
// version v (draft-14 §10 Data Streams and Datagrams). A type v does not
// define yields a [KindUnknownMessage] error whose Type is t: the receiver
// must close the session.
func ClassifyStreamType(t uint64, v Version) (StreamKind, error) {
	if err := checkDataVersion(v); err != nil {
		return 0, err
	}
	if t == StreamTypeFetchHeader {
		return StreamKindFetch, nil
	}
	var h SubgroupHeader
	if err := ParseSubgroupHeaderType(t, &h, v); err != nil {
		return 0, err
	}
	return StreamKindSubgroup, nil
}

// checkDataVersion reports an error for a version whose data stream layouts
// this package does not implement. It is a switch rather than a table lookup
// because it runs once per object.
func checkDataVersion(v Version) error {
	switch v {
	case Draft14:
		return nil
	}
	return fmt.Errorf("moq wire: unsupported version %v", v)
}

func errUnknownType(field string, t uint64, what string) *Error {
	return &Error{Kind: KindUnknownMessage, Field: field, Type: t, Detail: fmt.Sprintf("unknown %s type %#x", what, t)}
}

// fieldErr turns an error met while reading field from a stream into the
// error the stream decoders return: the stream ending inside a header or an
// object is a KindIncomplete error naming the field; other read errors (a
// reset stream, say) pass through as they are.
func fieldErr(err error, field string) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return errIncomplete(field)
	}
	if e, ok := err.(*Error); ok && e.Field == "" {
		e.Field = field // a fresh error from ReadVarint
	}
	return err
}

// withType records the stream or datagram type on a codec error, for
// diagnostics.
func withType(err error, t uint64) error {
	if e, ok := err.(*Error); ok && e.Type == 0 {
		e.Type = t
	}
	return err
}

// readField reads a varint field that cannot be the first of its unit: any
// end of the stream is a KindIncomplete error.
func readField(r io.ByteReader, field string) (uint64, error) {
	v, err := ReadVarint(r)
	if err != nil {
		return 0, fieldErr(err, field)
	}
	return v, nil
}

// readFirstField reads the varint that starts an object: a stream ending
// right before it is a clean end (io.EOF), one ending inside it is not.
func readFirstField(r io.ByteReader, field string) (uint64, error) {
	v, err := ReadVarint(r)
	if err != nil && err != io.EOF {
		return 0, fieldErr(err, field)
	}
	return v, err
}

// readByteField reads a single byte field (the spec's "(8)").
func readByteField(r io.ByteReader, field string) (uint8, error) {
	c, err := r.ReadByte()
	if err != nil {
		return 0, fieldErr(err, field)
	}
	return c, nil
}

// readChunk is how far ahead of the bytes actually received readBytes
// allocates when it has to grow the caller's buffer: a peer that announces a
// huge length and sends little cannot make the decoder allocate much.
const readChunk = 16 << 10

// readBytes reads exactly n bytes from r into buf[:0] and returns the filled
// slice. buf is reused if it is large enough; otherwise it grows as the bytes
// arrive, never more than max(readChunk, bytes read so far) ahead of them.
func readBytes(r io.Reader, n uint64, buf []byte, field string) ([]byte, error) {
	buf = buf[:0]
	if uint64(cap(buf)) >= n {
		buf = buf[:n]
		if _, err := io.ReadFull(r, buf); err != nil {
			return buf[:0], eofToIncomplete(err, field)
		}
		return buf, nil
	}
	for uint64(len(buf)) < n {
		step := uint64(max(len(buf), readChunk))
		if rest := n - uint64(len(buf)); step > rest {
			step = rest
		}
		m := len(buf)
		buf = slices.Grow(buf, int(step))[:m+int(step)]
		if _, err := io.ReadFull(r, buf[m:]); err != nil {
			return buf[:0], eofToIncomplete(err, field)
		}
	}
	return buf, nil
}

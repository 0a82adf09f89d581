// Package trace reads and writes .moqtrace files: a recording of the
// objects of one MoQ track, with enough context (group, subgroup, object
// ID, publisher priority, status, extension headers and arrival time) to
// inspect it offline or replay it with its original timing. `moq record`
// writes them and `moq replay` reads them.
//
// # Why a format of our own
//
// A trace must keep what a MoQT subscriber sees of each object — not just
// its payload — and must be appendable while a live track is recorded, so
// that a recording cut short (Ctrl-C, a crash) is still readable up to its
// last complete record. A length-prefixed binary stream of self-contained
// records gives both, needs no dependency, and lets a reader bound every
// allocation before it makes it.
//
// # Format (version 1)
//
// All integers are unsigned LEB128 varints (encoding/binary.AppendUvarint)
// unless stated otherwise. A file is a header followed by records until the
// end of the file:
//
//	header:
//	  magic      8 bytes, "MOQTRACE"
//	  version    varint, 1
//	  path       varint length (at most MaxNameLen) + UTF-8 bytes: the broadcast path
//	  track      varint length (at most MaxNameLen) + UTF-8 bytes: the track name
//	  start      zig-zag varint (binary.AppendVarint): Unix time of the start, in ns
//	record:
//	  length     varint: the number of bytes of the rest of the record
//	             (at most Reader.MaxRecordSize)
//	  kind       1 byte: 0 an object, 1 the end of a subgroup stream
//	  time       varint: nanoseconds since start when the record was taken
//	  group      varint: Group ID
//	  subgroup   varint: Subgroup ID
//	  object     varint: Object ID (0 for a subgroup end)
//	  priority   1 byte: publisher priority
//	  status     varint: object status (draft-14 §10.2.1.1)
//	  flags      1 byte: bit 0 set if the object arrived as a datagram
//	  extensions varint length (at most 65535) + the Extension Headers
//	             block exactly as on the wire (draft-14 Key-Value-Pairs)
//	  payload    the remaining bytes of the record
//
// A reader rejects unknown versions, kinds and flags, oversized lengths and
// malformed extension blocks with an error naming the offending field.
package trace

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/moqgo/moqgo/internal/wire"
)

// Magic starts every trace file.
const Magic = "MOQTRACE"

// Version is the format version this package writes and reads.
const Version = 1

// Limits of the format.
const (
	// MaxNameLen bounds the path and track name in the header.
	MaxNameLen = 4096
	// DefaultMaxRecordSize is Reader.MaxRecordSize's default: the largest
	// record (object plus its fields) a Reader accepts.
	DefaultMaxRecordSize = 16 << 20
	// maxExtensionsLen bounds a record's extension block.
	maxExtensionsLen = wire.MaxExtensionHeadersLen
)

// Kind says what a record is.
type Kind uint8

// Record kinds.
const (
	// KindObject is an object.
	KindObject Kind = 0
	// KindSubgroupEnd marks the end of a subgroup stream (its FIN): a
	// replay closes the subgroup there.
	KindSubgroupEnd Kind = 1
)

// Header describes the recorded track.
type Header struct {
	// Path is the broadcast path, such as "/live/x".
	Path string
	// Track is the track name.
	Track string
	// Start is when the recording started; record times are relative to it.
	Start time.Time
}

// Record is one recorded event of the track: an object or a subgroup end.
type Record struct {
	Kind Kind
	// Time is when the record was taken, relative to Header.Start.
	Time time.Duration
	// Group, Subgroup and Object locate the object.
	Group, Subgroup, Object uint64
	// Priority is the subgroup's publisher priority.
	Priority uint8
	// Status is the object status (draft-14 §10.2.1.1; 0 is normal).
	Status uint64
	// Datagram reports that the object arrived as an OBJECT_DATAGRAM.
	Datagram bool
	// Extensions is the object's Extension Headers block as on the wire.
	Extensions []byte
	// Payload is the object's payload.
	Payload []byte
}

const flagDatagram = 1

// Writer appends records to a trace. It is not safe for concurrent use.
type Writer struct {
	w   *bufio.Writer
	buf []byte
}

// NewWriter writes the header h to w and returns a Writer for the records.
// Call Flush (or Close the underlying file after Flush) when done.
func NewWriter(w io.Writer, h Header) (*Writer, error) {
	if len(h.Path) > MaxNameLen || len(h.Track) > MaxNameLen {
		return nil, fmt.Errorf("trace: path or track name longer than %d bytes", MaxNameLen)
	}
	tw := &Writer{w: bufio.NewWriter(w)}
	b := append([]byte(nil), Magic...)
	b = binary.AppendUvarint(b, Version)
	b = binary.AppendUvarint(b, uint64(len(h.Path)))
	b = append(b, h.Path...)
	b = binary.AppendUvarint(b, uint64(len(h.Track)))
	b = append(b, h.Track...)
	b = binary.AppendVarint(b, h.Start.UnixNano())
	if _, err := tw.w.Write(b); err != nil {
		return nil, err
	}
	return tw, nil
}

// Write appends r.
func (tw *Writer) Write(r *Record) error {
	if r.Kind > KindSubgroupEnd {
		return fmt.Errorf("trace: unknown record kind %d", r.Kind)
	}
	if len(r.Extensions) > maxExtensionsLen {
		return fmt.Errorf("trace: extension block of %d bytes exceeds %d", len(r.Extensions), maxExtensionsLen)
	}
	if r.Time < 0 {
		return fmt.Errorf("trace: negative record time %v", r.Time)
	}
	b := tw.buf[:0]
	b = append(b, byte(r.Kind))
	b = binary.AppendUvarint(b, uint64(r.Time))
	b = binary.AppendUvarint(b, r.Group)
	b = binary.AppendUvarint(b, r.Subgroup)
	b = binary.AppendUvarint(b, r.Object)
	b = append(b, r.Priority)
	b = binary.AppendUvarint(b, r.Status)
	var flags byte
	if r.Datagram {
		flags |= flagDatagram
	}
	b = append(b, flags)
	b = binary.AppendUvarint(b, uint64(len(r.Extensions)))
	b = append(b, r.Extensions...)
	tw.buf = b
	var lenBuf [binary.MaxVarintLen64]byte
	n := binary.PutUvarint(lenBuf[:], uint64(len(b)+len(r.Payload)))
	if _, err := tw.w.Write(lenBuf[:n]); err != nil {
		return err
	}
	if _, err := tw.w.Write(b); err != nil {
		return err
	}
	_, err := tw.w.Write(r.Payload)
	return err
}

// Flush writes any buffered records to the underlying writer.
func (tw *Writer) Flush() error { return tw.w.Flush() }

// ErrFormat is wrapped by every error about malformed trace content.
var ErrFormat = errors.New("trace: malformed")

func formatErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrFormat, fmt.Sprintf(format, args...))
}

// Reader reads a trace: the header on creation, then records with Next.
type Reader struct {
	// Header is the trace's header.
	Header Header
	// MaxRecordSize bounds the size of one record; records claiming more
	// are an error. NewReader sets DefaultMaxRecordSize.
	MaxRecordSize int

	r *bufio.Reader
}

// NewReader reads the header of a trace from r.
func NewReader(r io.Reader) (*Reader, error) {
	tr := &Reader{r: bufio.NewReader(r), MaxRecordSize: DefaultMaxRecordSize}
	var magic [len(Magic)]byte
	if _, err := io.ReadFull(tr.r, magic[:]); err != nil {
		return nil, formatErr("header: %v", noEOF(err))
	}
	if string(magic[:]) != Magic {
		return nil, formatErr("not a trace file (bad magic %q)", magic[:])
	}
	v, err := binary.ReadUvarint(tr.r)
	if err != nil {
		return nil, formatErr("header version: %v", noEOF(err))
	}
	if v != Version {
		return nil, fmt.Errorf("trace: unsupported version %d (this build reads version %d)", v, Version)
	}
	if tr.Header.Path, err = tr.name("path"); err != nil {
		return nil, err
	}
	if tr.Header.Track, err = tr.name("track"); err != nil {
		return nil, err
	}
	start, err := binary.ReadVarint(tr.r)
	if err != nil {
		return nil, formatErr("header start time: %v", noEOF(err))
	}
	tr.Header.Start = time.Unix(0, start)
	return tr, nil
}

func (tr *Reader) name(field string) (string, error) {
	n, err := binary.ReadUvarint(tr.r)
	if err != nil {
		return "", formatErr("header %s: %v", field, noEOF(err))
	}
	if n > MaxNameLen {
		return "", formatErr("header %s length %d exceeds %d", field, n, MaxNameLen)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(tr.r, b); err != nil {
		return "", formatErr("header %s: %v", field, noEOF(err))
	}
	return string(b), nil
}

// noEOF turns io.EOF inside a structure into io.ErrUnexpectedEOF.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// Next returns the next record, or io.EOF at the end of the trace. A
// record cut short at the end of the file (an interrupted recording) is an
// error wrapping io.ErrUnexpectedEOF; the records before it are valid.
// The returned record's slices are its own.
func (tr *Reader) Next() (*Record, error) {
	n, err := binary.ReadUvarint(tr.r)
	if err == io.EOF {
		return nil, io.EOF
	}
	if err != nil {
		return nil, formatErr("record length: %v", noEOF(err))
	}
	if n > uint64(tr.MaxRecordSize) {
		return nil, formatErr("record of %d bytes exceeds the limit of %d", n, tr.MaxRecordSize)
	}
	// Read through a LimitReader so that a length claiming more than the
	// file holds costs no more memory than the file.
	body, err := io.ReadAll(io.LimitReader(tr.r, int64(n)))
	if err != nil {
		return nil, err
	}
	if uint64(len(body)) != n {
		return nil, fmt.Errorf("%w: record truncated (%d of %d bytes): %w", ErrFormat, len(body), n, io.ErrUnexpectedEOF)
	}
	return parseRecord(body)
}

// parseRecord decodes a record body; the record's slices alias body.
func parseRecord(b []byte) (*Record, error) {
	d := decoder{b: b}
	r := &Record{}
	kind := d.byte("kind")
	r.Time = time.Duration(d.uvarint("time"))
	r.Group = d.uvarint("group")
	r.Subgroup = d.uvarint("subgroup")
	r.Object = d.uvarint("object")
	r.Priority = d.byte("priority")
	r.Status = d.uvarint("status")
	flags := d.byte("flags")
	extLen := d.uvarint("extensions length")
	if d.err != nil {
		return nil, d.err
	}
	if Kind(kind) > KindSubgroupEnd {
		return nil, formatErr("unknown record kind %d", kind)
	}
	r.Kind = Kind(kind)
	if int64(r.Time) < 0 {
		return nil, formatErr("record time out of range")
	}
	if flags&^flagDatagram != 0 {
		return nil, formatErr("unknown record flags %#x", flags)
	}
	r.Datagram = flags&flagDatagram != 0
	if extLen > maxExtensionsLen || extLen > uint64(len(d.b)) {
		return nil, formatErr("extensions length %d exceeds the record or %d", extLen, maxExtensionsLen)
	}
	if extLen > 0 {
		r.Extensions = d.b[:extLen]
		if err := wire.ValidateExtensions(r.Extensions); err != nil {
			return nil, formatErr("extensions: %v", err)
		}
	}
	if rest := d.b[extLen:]; len(rest) > 0 {
		r.Payload = rest
	}
	if r.Kind == KindSubgroupEnd && (r.Payload != nil || r.Extensions != nil) {
		return nil, formatErr("subgroup end record with a payload or extensions")
	}
	return r, nil
}

// decoder reads fields from a record body, remembering the first error.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) byte(field string) byte {
	if d.err != nil {
		return 0
	}
	if len(d.b) == 0 {
		d.err = formatErr("record %s: truncated", field)
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *decoder) uvarint(field string) uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = formatErr("record %s: truncated or malformed varint", field)
		return 0
	}
	d.b = d.b[n:]
	return v
}

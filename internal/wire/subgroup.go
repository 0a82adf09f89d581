package wire

import "fmt"

// SubgroupIDMode says where the Subgroup ID of a subgroup stream comes from:
// the "Subgroup ID Field Present" and "Subgroup ID Value" columns of the
// SUBGROUP_HEADER types (draft-14 §10.4.2 Subgroup Header).
type SubgroupIDMode uint8

// Subgroup ID modes. The values are the mode bits of the stream type
// shifted right by one.
const (
	// SubgroupIDZero: no Subgroup ID field; the Subgroup ID is 0
	// (types 0x10, 0x11, 0x18, 0x19).
	SubgroupIDZero SubgroupIDMode = 0
	// SubgroupIDFirstObject: no Subgroup ID field; the Subgroup ID is the
	// Object ID of the first object on the stream (types 0x12, 0x13, 0x1A,
	// 0x1B).
	SubgroupIDFirstObject SubgroupIDMode = 1
	// SubgroupIDExplicit: the header carries the Subgroup ID field (types
	// 0x14, 0x15, 0x1C, 0x1D).
	SubgroupIDExplicit SubgroupIDMode = 2
)

// String returns "zero", "first-object" or "explicit".
func (m SubgroupIDMode) String() string {
	switch m {
	case SubgroupIDZero:
		return "zero"
	case SubgroupIDFirstObject:
		return "first-object"
	case SubgroupIDExplicit:
		return "explicit"
	}
	return fmt.Sprintf("subgroup-id-mode(%d)", uint8(m))
}

// Bits of the draft-14 SUBGROUP_HEADER type (draft-14 §10.4.2).
const (
	subgroupTypeExtensions = 0x01 // Extensions Present
	subgroupTypeModeShift  = 1    // two bits: SubgroupIDMode
	subgroupTypeEndOfGroup = 0x08 // Contains End of Group
)

// SubgroupHeader is SUBGROUP_HEADER (draft-14 §10.4.2 Subgroup Header): the
// start of a stream that carries objects of one Subgroup. The stream type
// is not a field: [SubgroupHeader.StreamType] computes it from IDMode,
// Extensions and EndOfGroup.
type SubgroupHeader struct {
	TrackAlias uint64
	GroupID    uint64
	// SubgroupID is on the wire only with SubgroupIDExplicit; it must be 0
	// with SubgroupIDZero; with SubgroupIDFirstObject it is the first
	// object's ID, known once that object is read or written.
	SubgroupID        uint64
	PublisherPriority uint8
	IDMode            SubgroupIDMode
	// Extensions: every object carries an Extension Headers Length field
	// (0 for no extension headers). When false, objects have none.
	Extensions bool
	// EndOfGroup is "Contains End of Group": the last object before the
	// stream's FIN is the last object of the group.
	EndOfGroup bool
}

// StreamType returns the draft-14 SUBGROUP_HEADER type (0x10-0x1D) that
// encodes the header's IDMode, Extensions and EndOfGroup.
func (h *SubgroupHeader) StreamType() uint64 {
	t := StreamTypeSubgroupMin | uint64(h.IDMode)<<subgroupTypeModeShift
	if h.Extensions {
		t |= subgroupTypeExtensions
	}
	if h.EndOfGroup {
		t |= subgroupTypeEndOfGroup
	}
	return t
}

// ParseSubgroupHeaderType sets the IDMode, Extensions and EndOfGroup of h
// from a SUBGROUP_HEADER stream type (draft-14 §10.4.2). A type that is not
// one of the twelve the version defines yields a [KindUnknownMessage] error
// whose Type is t.
func ParseSubgroupHeaderType(t uint64, h *SubgroupHeader, v Version) error {
	if err := checkDataVersion(v); err != nil {
		return err
	}
	mode := SubgroupIDMode(t >> subgroupTypeModeShift & 3)
	if t < StreamTypeSubgroupMin || t > StreamTypeSubgroupMax || mode > SubgroupIDExplicit {
		return errUnknownType("stream_type", t, "stream")
	}
	h.IDMode = mode
	h.Extensions = t&subgroupTypeExtensions != 0
	h.EndOfGroup = t&subgroupTypeEndOfGroup != 0
	return nil
}

// ReadSubgroupHeader reads the SUBGROUP_HEADER fields that follow the stream
// type (draft-14 §10.4.2): call it after [ReadStreamType] returned
// streamType. The stream ending inside the header is a [KindIncomplete]
// error; an undefined type is a [KindUnknownMessage] error.
func ReadSubgroupHeader(r StreamReader, streamType uint64, h *SubgroupHeader, v Version) error {
	*h = SubgroupHeader{}
	if err := ParseSubgroupHeaderType(streamType, h, v); err != nil {
		return err
	}
	var err error
	if h.TrackAlias, err = readField(r, "track_alias"); err != nil {
		return withType(err, streamType)
	}
	if h.GroupID, err = readField(r, "group_id"); err != nil {
		return withType(err, streamType)
	}
	if h.IDMode == SubgroupIDExplicit {
		if h.SubgroupID, err = readField(r, "subgroup_id"); err != nil {
			return withType(err, streamType)
		}
	}
	if h.PublisherPriority, err = readByteField(r, "publisher_priority"); err != nil {
		return withType(err, streamType)
	}
	return nil
}

// AppendSubgroupHeader appends SUBGROUP_HEADER, stream type included
// (draft-14 §10.4.2). A header with SubgroupIDZero and a non-zero SubgroupID
// cannot be encoded.
func AppendSubgroupHeader(b []byte, h *SubgroupHeader, v Version) ([]byte, error) {
	if err := checkDataVersion(v); err != nil {
		return b, err
	}
	if h.IDMode > SubgroupIDExplicit {
		return b, errInvalid("stream_type", "unknown subgroup ID mode %d", h.IDMode)
	}
	if h.IDMode == SubgroupIDZero && h.SubgroupID != 0 {
		return b, errInvalid("subgroup_id", "subgroup ID %d needs an explicit Subgroup ID field", h.SubgroupID)
	}
	start := len(b)
	b = appendVarint(b, h.StreamType())
	b, err := appendVarints(b, h.TrackAlias, h.GroupID)
	if err == nil && h.IDMode == SubgroupIDExplicit {
		b, err = AppendVarint(b, h.SubgroupID)
	}
	if err != nil {
		return b[:start], err
	}
	return append(b, h.PublisherPriority), nil
}

// subgroupState is what a subgroup stream reader and writer both track: the
// header and the previous Object ID, from which the next Object ID Delta
// counts (draft-14 §10.4.2).
type subgroupState struct {
	h       SubgroupHeader
	v       Version
	prev    uint64 // the previous object's ID, if started
	started bool   // an object has been read or written
	ended   bool   // an End of Group or End of Track status object was last
}

// Reset starts a new stream, whose header is h, in version v.
func (s *subgroupState) Reset(h SubgroupHeader, v Version) {
	*s = subgroupState{h: h, v: v}
}

// Header returns the stream's header. With SubgroupIDFirstObject its
// SubgroupID is the first object's ID once that object has been read or
// appended.
func (s *subgroupState) Header() SubgroupHeader { return s.h }

// next records the object with the given ID and status as the last one.
func (s *subgroupState) next(id uint64, status ObjectStatus) {
	if !s.started && s.h.IDMode == SubgroupIDFirstObject {
		s.h.SubgroupID = id
	}
	s.prev, s.started = id, true
	s.ended = status == StatusEndOfGroup || status == StatusEndOfTrack
}

// Last returns the ID of the last object read or appended, and whether
// there was one.
func (s *subgroupState) Last() (id uint64, ok bool) { return s.prev, s.started }

// Ended reports whether the last object was an End of Group or End of
// Track object, after which the stream carries no more objects.
func (s *subgroupState) Ended() bool { return s.ended }

// errAfterEnd is the error for an object that follows an End of Group or End
// of Track object on the same subgroup stream: draft-14 §10.4.3 says further
// objects on such a stream would be a protocol violation.
func errAfterEnd(field string) error {
	return errInvalid(field, "object after an End of Group or End of Track object on the same subgroup stream")
}

// SubgroupReader reads the objects of a subgroup stream after its header
// (draft-14 §10.4.2): it resolves Object ID Deltas and the first-object
// Subgroup ID and checks each object. The zero value is not usable; create
// one with [NewSubgroupReader] or [SubgroupReader.Reset].
type SubgroupReader struct{ subgroupState }

// NewSubgroupReader returns a reader for the objects of a stream whose header
// is h, read with [ReadSubgroupHeader] for version v.
func NewSubgroupReader(h SubgroupHeader, v Version) *SubgroupReader {
	r := new(SubgroupReader)
	r.Reset(h, v)
	return r
}

// ReadObject reads the next object's header fields from r into o (draft-14
// §10.4.2): Object ID Delta, [Extension Headers Length, Extension headers,]
// Object Payload Length, [Object Status]. GroupID, SubgroupID and
// PublisherPriority come from the stream header. The payload stays in r:
// the caller reads or discards o.PayloadLength bytes before the next call.
// o.Extensions' capacity is reused, so that reading allocates nothing once
// it is large enough.
//
// It returns io.EOF if r ends cleanly before the next object, and a
// [KindIncomplete] error if r ends inside the object's header. It returns a
// [KindInvalidValue] error for an undefined Object Status, extension headers
// on an object that does not exist, an Object ID above 2^62-1, or any object
// after an End of Group or End of Track object; [KindLimit] for extension
// headers longer than [MaxExtensionHeadersLen].
func (s *SubgroupReader) ReadObject(r StreamReader, o *Object) error {
	if err := checkDataVersion(s.v); err != nil {
		return err
	}
	t := s.h.StreamType()
	delta, err := readFirstField(r, "object_id_delta")
	if err != nil {
		return withType(err, t)
	}
	if s.ended {
		return withType(errAfterEnd("object_id_delta"), t)
	}
	id := delta
	if s.started {
		if delta >= MaxVarint-s.prev {
			return withType(errInvalid("object_id_delta", "delta %d after object %d passes 2^62-1", delta, s.prev), t)
		}
		id = s.prev + delta + 1
	}
	if err := readObjectTail(r, o, s.h.Extensions); err != nil {
		return withType(err, t)
	}
	s.next(id, o.Status)
	o.GroupID, o.SubgroupID, o.ObjectID = s.h.GroupID, s.h.SubgroupID, id
	o.PublisherPriority = s.h.PublisherPriority
	o.EndOfGroup = false
	return nil
}

// SubgroupWriter appends the objects of a subgroup stream (draft-14
// §10.4.2), computing Object ID Deltas. The zero value is not usable; create
// one with [NewSubgroupWriter] or [SubgroupWriter.Reset].
type SubgroupWriter struct{ subgroupState }

// NewSubgroupWriter returns a writer for a stream whose header is h, in
// version v. Append the header itself with [SubgroupWriter.AppendHeader].
func NewSubgroupWriter(h SubgroupHeader, v Version) *SubgroupWriter {
	w := new(SubgroupWriter)
	w.Reset(h, v)
	return w
}

// AppendHeader appends the stream's SUBGROUP_HEADER, stream type included
// (see [AppendSubgroupHeader]).
func (w *SubgroupWriter) AppendHeader(b []byte) ([]byte, error) {
	return AppendSubgroupHeader(b, &w.h, w.v)
}

// Skip records that the objects up to the one with ID id and the given
// status were written to the stream by other means (appended by another
// SubgroupWriter in the same state, for a relay that encodes objects once
// for many streams): the next object's ID Delta counts from id.
func (w *SubgroupWriter) Skip(id uint64, status ObjectStatus) { w.next(id, status) }

// AppendObject appends the header fields of the next object (draft-14
// §10.4.2), not its payload: the caller writes o.PayloadLength payload bytes
// after them, straight from its own buffer.
//
// Object IDs must increase along the stream. o.GroupID and o.SubgroupID must
// be the stream's (with SubgroupIDFirstObject the first object's SubgroupID
// must be its own ObjectID, since that is what the receiver infers);
// o.PublisherPriority and o.EndOfGroup are not written, the header carries
// them. The object rules of [SubgroupReader.ReadObject] apply. On error b is
// returned unchanged and the writer's state does not advance.
func (w *SubgroupWriter) AppendObject(b []byte, o *Object) ([]byte, error) {
	if err := checkDataVersion(w.v); err != nil {
		return b, err
	}
	h := &w.h
	subgroup := h.SubgroupID
	if !w.started && h.IDMode == SubgroupIDFirstObject {
		subgroup = o.ObjectID
	}
	switch {
	case o.ObjectID > MaxVarint:
		return b, ErrVarintRange
	case w.ended:
		return b, errAfterEnd("object_id")
	case o.GroupID != h.GroupID:
		return b, errInvalid("group_id", "object of group %d on a stream of group %d", o.GroupID, h.GroupID)
	case o.SubgroupID != subgroup:
		return b, errInvalid("subgroup_id", "object of subgroup %d on a stream of subgroup %d", o.SubgroupID, subgroup)
	case w.started && o.ObjectID <= w.prev:
		return b, errInvalid("object_id", "object %d after object %d: object IDs on a subgroup stream increase", o.ObjectID, w.prev)
	}
	delta := o.ObjectID
	if w.started {
		delta = o.ObjectID - w.prev - 1
	}
	start := len(b)
	b, err := AppendVarint(b, delta)
	if err == nil {
		b, err = appendObjectTail(b, o, h.Extensions)
	}
	if err != nil {
		return b[:start], err
	}
	w.next(o.ObjectID, o.Status)
	return b, nil
}

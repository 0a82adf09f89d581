package wire

// AppendFetchHeader appends FETCH_HEADER, stream type included (draft-14
// §10.4.4 Fetch Header): the start of a stream that carries the objects
// answering the FETCH with the given Request ID.
func AppendFetchHeader(b []byte, requestID uint64, v Version) ([]byte, error) {
	if err := checkDataVersion(v); err != nil {
		return b, err
	}
	start := len(b)
	b, err := appendVarints(b, StreamTypeFetchHeader, requestID)
	if err != nil {
		return b[:start], err
	}
	return b, nil
}

// ReadFetchHeader reads the FETCH_HEADER field that follows the stream type
// (draft-14 §10.4.4) and returns the Request ID: call it after
// [ReadStreamType] returned [StreamTypeFetchHeader]. The stream ending
// before the Request ID is complete is a [KindIncomplete] error.
func ReadFetchHeader(r StreamReader, v Version) (uint64, error) {
	if err := checkDataVersion(v); err != nil {
		return 0, err
	}
	id, err := readField(r, "request_id")
	return id, withType(err, StreamTypeFetchHeader)
}

// FetchReader reads the objects of a fetch stream after its header
// (draft-14 §10.4.4). It checks each object on its own; the ordering rules
// of a FETCH response (draft-14 §2.5 Malformed Tracks) make a track
// malformed rather than the stream, and are left to the caller.
type FetchReader struct{ v Version }

// NewFetchReader returns a reader for the objects of a fetch stream in
// version v.
func NewFetchReader(v Version) *FetchReader { return &FetchReader{v: v} }

// ReadObject reads the next object's header fields from r into o (draft-14
// §10.4.4): Group ID, Subgroup ID, Object ID, Publisher Priority, Extension
// Headers Length, [Extension headers,] Object Payload Length, [Object
// Status]. The payload stays in r, and errors, io.EOF and the reuse of
// o.Extensions are as for [SubgroupReader.ReadObject].
func (f *FetchReader) ReadObject(r StreamReader, o *Object) error {
	if err := checkDataVersion(f.v); err != nil {
		return err
	}
	var err error
	if o.GroupID, err = readFirstField(r, "group_id"); err != nil {
		return withType(err, StreamTypeFetchHeader)
	}
	if o.SubgroupID, err = readField(r, "subgroup_id"); err != nil {
		return withType(err, StreamTypeFetchHeader)
	}
	if o.ObjectID, err = readField(r, "object_id"); err != nil {
		return withType(err, StreamTypeFetchHeader)
	}
	if o.PublisherPriority, err = readByteField(r, "publisher_priority"); err != nil {
		return withType(err, StreamTypeFetchHeader)
	}
	o.EndOfGroup = false
	return withType(readObjectTail(r, o, true), StreamTypeFetchHeader)
}

// FetchWriter appends the objects of a fetch stream (draft-14 §10.4.4).
type FetchWriter struct{ v Version }

// NewFetchWriter returns a writer for the objects of a fetch stream in
// version v. Append the header with [AppendFetchHeader].
func NewFetchWriter(v Version) *FetchWriter { return &FetchWriter{v: v} }

// AppendObject appends the header fields of an object, not its payload: the
// caller writes o.PayloadLength payload bytes after them. Every field of o is
// written except EndOfGroup; the Extension Headers Length is always present.
// An object with a Forwarding Preference of Datagram has its Object ID as
// Subgroup ID (draft-14 §10.4.4): that is the caller's to set. On error b is
// returned unchanged.
func (f *FetchWriter) AppendObject(b []byte, o *Object) ([]byte, error) {
	if err := checkDataVersion(f.v); err != nil {
		return b, err
	}
	start := len(b)
	b, err := appendVarints(b, o.GroupID, o.SubgroupID, o.ObjectID)
	if err == nil {
		b, err = appendObjectTail(append(b, o.PublisherPriority), o, true)
	}
	if err != nil {
		return b[:start], err
	}
	return b, nil
}

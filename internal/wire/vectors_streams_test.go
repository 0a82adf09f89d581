package wire

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
)

// The conformance vector adapter for the data plane: vector files whose
// message_type is "object" (draft-14 §10 Data Streams and Datagrams). A
// vector's hex is a whole data stream (stream type, header, every object with
// its payload, up to the FIN) or a whole datagram; its "stream_type" says
// which: "fetch_header", "subgroup_header", "object_datagram" or
// "object_datagram_status".
//
// Decoding dispatches on the first varint of the hex: 0x10-0x1D is a
// subgroup stream, anything else but 0x05 a datagram. 0x05 is both
// FETCH_HEADER and an OBJECT_DATAGRAM type (stream and datagram types are
// separate namespaces) and a vector does not say which it is before it is
// decoded, so 0x05 is read as a fetch stream and, if that fails, as a
// datagram.
//
// JSON forms: integers are decimal strings; extension headers are given both
// as "extension_headers_hex" (the raw block) and as "extension_headers", a
// list of {"type", "value"} where the value of an even type is a decimal
// varint and that of an odd type is hex (also under "value_hex", with
// "length"). Objects give "payload_hex" and, for a zero-length payload,
// "object_status".

func init() {
	vectorCodecs["object"] = objectVectorCodec{}
	// draft-14 §10.2.1.2 Object Extension Header: "If an endpoint receives a
	// non-existent Object containing extension headers it MUST close the
	// session with a PROTOCOL_VIOLATION." This vector is a status datagram
	// with status Object Does Not Exist (0x1) and a Prior Group ID Gap
	// extension header, which the vector set expects to decode.
	vectorDeviations["datagram.json/type-0x21"] = vectorDeviation{
		Hex:    "2101020080023c0101",
		Error:  KindInvalidValue.String(),
		Reason: "an Object Does Not Exist object carries extension headers (draft-14 §10.2.1.2: the receiver MUST close the session with PROTOCOL_VIOLATION)",
	}
}

type objectVectorCodec struct{}

func (objectVectorCodec) decode(b []byte) (map[string]any, error) {
	t, _, err := ParseVarint(b)
	if err != nil {
		return nil, truncated(err)
	}
	switch {
	case t == StreamTypeFetchHeader:
		m, err := decodeFetchVector(b)
		if err != nil {
			if dm, derr := decodeDatagramVector(b); derr == nil {
				return dm, nil
			}
		}
		return m, err
	case t >= StreamTypeSubgroupMin && t <= StreamTypeSubgroupMax:
		return decodeSubgroupVector(b)
	}
	return decodeDatagramVector(b)
}

func (objectVectorCodec) encode(fields map[string]any) ([]byte, error) {
	f := newJSONFields(fields)
	var b []byte
	var err error
	switch st := f.str("stream_type"); st {
	case "fetch_header":
		b, err = encodeFetchVector(f)
	case "subgroup_header":
		b, err = encodeSubgroupVector(f)
	case "object_datagram", "object_datagram_status":
		b, err = encodeDatagramVector(f, st == "object_datagram_status")
	default:
		f.fail("unknown stream_type %q", st)
	}
	if ferr := f.finish(); ferr != nil {
		return nil, ferr
	}
	return b, err
}

func u64s(v uint64) string { return strconv.FormatUint(v, 10) }

// extensionsJSON renders an extension headers block in both of its forms.
func extensionsJSON(m map[string]any, block []byte) {
	m["extension_headers_length"] = u64s(uint64(len(block)))
	m["extension_headers_hex"] = hex.EncodeToString(block)
	list := []any{}
	it := NewExtensionIter(block)
	for it.Next() {
		kv := it.KeyValue()
		e := map[string]any{"type": u64s(kv.Type)}
		if kv.IsBytes() {
			e["length"] = u64s(uint64(len(kv.Bytes)))
			e["value"] = hex.EncodeToString(kv.Bytes)
			e["value_hex"] = e["value"]
		} else {
			e["value"] = u64s(kv.Value)
		}
		list = append(list, e)
	}
	m["extension_headers"] = list
}

// extensionsFromJSON builds the block from whichever forms f gives, checking
// that they and extension_headers_length agree.
func extensionsFromJSON(f *jsonFields) []byte {
	var block []byte
	if f.has("extension_headers") {
		list, _ := f.raw("extension_headers").([]any)
		for _, e := range list {
			em, _ := e.(map[string]any)
			ef := newJSONFields(em)
			kv := KeyValue{Type: ef.u64("type")}
			if kv.IsBytes() {
				if ef.has("value_hex") {
					kv.Bytes = ef.hexBytes("value_hex")
				}
				if ef.has("value") {
					kv.Bytes = ef.hexBytes("value")
				}
				if n, ok := ef.optU64("length"); ok && n != uint64(len(kv.Bytes)) {
					ef.fail("length %d but a %d-byte value", n, len(kv.Bytes))
				}
			} else {
				kv.Value = ef.u64("value")
			}
			if err := ef.finish(); err != nil {
				f.fail("extension_headers: %v", err)
			}
			var err error
			if block, err = AppendExtension(block, kv); err != nil {
				f.fail("extension_headers: %v", err)
			}
		}
	}
	if f.has("extension_headers_hex") {
		raw := f.hexBytes("extension_headers_hex")
		if f.has("extension_headers") && !bytes.Equal(raw, block) {
			f.fail("extension_headers_hex %x does not match extension_headers %x", raw, block)
		}
		block = raw
	}
	if n, ok := f.optU64("extension_headers_length"); ok && n != uint64(len(block)) {
		f.fail("extension_headers_length %d but %d bytes of extension headers", n, len(block))
	}
	return block
}

func u8Field(f *jsonFields, k string) uint8 {
	v := f.u64(k)
	if v > 0xff {
		f.fail("field %q: %d does not fit in 8 bits", k, v)
	}
	return uint8(v)
}

// streamObjectJSON renders the fields that subgroup and fetch objects share
// after the Object ID.
func streamObjectJSON(m map[string]any, o *Object, payload []byte, extensions bool) map[string]any {
	if extensions {
		extensionsJSON(m, o.Extensions)
	}
	m["payload_length"] = u64s(o.PayloadLength)
	m["payload_hex"] = hex.EncodeToString(payload)
	if o.PayloadLength == 0 {
		m["object_status"] = u64s(uint64(o.Status))
	}
	return m
}

// streamObjectFromJSON reads those fields into o and returns the payload.
func streamObjectFromJSON(f *jsonFields, o *Object) []byte {
	o.Extensions = extensionsFromJSON(f)
	var payload []byte
	if f.has("payload_hex") {
		payload = f.hexBytes("payload_hex")
	}
	o.PayloadLength = uint64(len(payload))
	if n, ok := f.optU64("payload_length"); ok && n != o.PayloadLength {
		f.fail("payload_length %d but a %d-byte payload_hex", n, len(payload))
	}
	s, _ := f.optU64("object_status")
	o.Status = ObjectStatus(s)
	return payload
}

// appendVectorObject reads the rest of an object's fields from of and, unless
// an earlier object failed (err), appends it and its payload to b.
func appendVectorObject(f, of *jsonFields, o *Object, appendObject func([]byte, *Object) ([]byte, error), b []byte, err error) ([]byte, error) {
	payload := streamObjectFromJSON(of, o)
	if ferr := of.finish(); ferr != nil {
		f.fail("objects: %v", ferr)
	}
	if err != nil {
		return b, err
	}
	b, err = appendObject(b, o)
	return append(b, payload...), err
}

// readStreamObjects reads objects and their payloads until the stream's clean
// end, rendering each with render.
func readStreamObjects(r *bytes.Reader, read func(*Object) error, render func(*Object, []byte) map[string]any) ([]any, error) {
	objects := []any{}
	for {
		var o Object
		err := read(&o)
		if err == io.EOF {
			return objects, nil
		}
		if err != nil {
			return nil, err
		}
		payload, err := ReadPayload(r, o.PayloadLength, nil)
		if err != nil {
			return nil, err
		}
		objects = append(objects, render(&o, payload))
	}
}

// jsonObjects returns the maps of the array field k.
func jsonObjects(f *jsonFields, k string) []map[string]any {
	list, ok := f.raw(k).([]any)
	if !ok {
		f.fail("field %q is not an array", k)
	}
	out := make([]map[string]any, 0, len(list))
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			f.fail("field %q holds a non-object", k)
			continue
		}
		out = append(out, m)
	}
	return out
}

func decodeFetchVector(b []byte) (map[string]any, error) {
	r := bytes.NewReader(b)
	if _, err := ReadStreamType(r); err != nil {
		return nil, err
	}
	id, err := ReadFetchHeader(r, Draft14)
	if err != nil {
		return nil, err
	}
	fr := NewFetchReader(Draft14)
	objects, err := readStreamObjects(r, func(o *Object) error { return fr.ReadObject(r, o) },
		func(o *Object, payload []byte) map[string]any {
			return streamObjectJSON(map[string]any{
				"group_id":           u64s(o.GroupID),
				"subgroup_id":        u64s(o.SubgroupID),
				"object_id":          u64s(o.ObjectID),
				"publisher_priority": u64s(uint64(o.PublisherPriority)),
			}, o, payload, true)
		})
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"stream_type":    "fetch_header",
		"stream_type_id": u64s(StreamTypeFetchHeader),
		"request_id":     u64s(id),
		"objects":        objects,
	}, nil
}

func encodeFetchVector(f *jsonFields) ([]byte, error) {
	if t, ok := f.optU64("stream_type_id"); ok && t != StreamTypeFetchHeader {
		f.fail("stream_type_id %#x is not FETCH_HEADER", t)
	}
	b, err := AppendFetchHeader(nil, f.u64("request_id"), Draft14)
	w := NewFetchWriter(Draft14)
	for _, m := range jsonObjects(f, "objects") {
		of := newJSONFields(m)
		o := Object{GroupID: of.u64("group_id"), SubgroupID: of.u64("subgroup_id"), ObjectID: of.u64("object_id"),
			PublisherPriority: u8Field(of, "publisher_priority")}
		b, err = appendVectorObject(f, of, &o, w.AppendObject, b, err)
	}
	return b, err
}

func decodeSubgroupVector(b []byte) (map[string]any, error) {
	r := bytes.NewReader(b)
	t, err := ReadStreamType(r)
	if err != nil {
		return nil, err
	}
	var h SubgroupHeader
	if err := ReadSubgroupHeader(r, t, &h, Draft14); err != nil {
		return nil, err
	}
	sr := NewSubgroupReader(h, Draft14)
	var prev uint64
	first := true
	objects, err := readStreamObjects(r, func(o *Object) error { return sr.ReadObject(r, o) },
		func(o *Object, payload []byte) map[string]any {
			delta := o.ObjectID
			if !first {
				delta = o.ObjectID - prev - 1
			}
			prev, first = o.ObjectID, false
			return streamObjectJSON(map[string]any{
				"object_id_delta": u64s(delta),
				"object_id":       u64s(o.ObjectID),
			}, o, payload, h.Extensions)
		})
	if err != nil {
		return nil, err
	}
	m := map[string]any{
		"stream_type":        "subgroup_header",
		"stream_type_id":     u64s(t),
		"track_alias":        u64s(h.TrackAlias),
		"group_id":           u64s(h.GroupID),
		"publisher_priority": u64s(uint64(h.PublisherPriority)),
		"objects":            objects,
	}
	if h.IDMode != SubgroupIDFirstObject || len(objects) > 0 {
		m["subgroup_id"] = u64s(sr.Header().SubgroupID)
	}
	return m, nil
}

// encodeSubgroupVector builds a subgroup stream. The stream type must be
// given (stream_type_id); each object gives object_id, object_id_delta or
// both.
func encodeSubgroupVector(f *jsonFields) ([]byte, error) {
	var h SubgroupHeader
	if err := ParseSubgroupHeaderType(f.u64("stream_type_id"), &h, Draft14); err != nil {
		return nil, err
	}
	h.TrackAlias, h.GroupID = f.u64("track_alias"), f.u64("group_id")
	h.PublisherPriority = u8Field(f, "publisher_priority")
	subgroup, hasSubgroup := f.optU64("subgroup_id")
	if h.IDMode != SubgroupIDFirstObject {
		h.SubgroupID = subgroup
	}
	w := NewSubgroupWriter(h, Draft14)
	b, err := w.AppendHeader(nil)
	var prev uint64
	for i, m := range jsonObjects(f, "objects") {
		of := newJSONFields(m)
		id, hasID := of.optU64("object_id")
		delta, hasDelta := of.optU64("object_id_delta")
		switch {
		case !hasID && !hasDelta:
			of.fail("neither object_id nor object_id_delta")
		case !hasID && i == 0:
			id = delta
		case !hasID:
			id = prev + delta + 1
		case hasDelta && (i == 0 && delta != id || i > 0 && delta != id-prev-1):
			of.fail("object_id %d does not follow from object_id_delta %d", id, delta)
		}
		prev = id
		o := Object{GroupID: h.GroupID, SubgroupID: h.SubgroupID, ObjectID: id}
		if h.IDMode == SubgroupIDFirstObject {
			o.SubgroupID = w.Header().SubgroupID
			if i == 0 {
				o.SubgroupID = id
			}
			if hasSubgroup && o.SubgroupID != subgroup {
				f.fail("subgroup_id %d is not the first Object ID %d", subgroup, o.SubgroupID)
			}
		}
		b, err = appendVectorObject(f, of, &o, w.AppendObject, b, err)
	}
	return b, err
}

func decodeDatagramVector(b []byte) (map[string]any, error) {
	var d Datagram
	if err := ParseDatagram(b, &d, Draft14); err != nil {
		return nil, err
	}
	t, _, _ := ParseVarint(b)
	m := map[string]any{
		"stream_type":        "object_datagram",
		"stream_type_id":     u64s(t),
		"track_alias":        u64s(d.TrackAlias),
		"group_id":           u64s(d.GroupID),
		"publisher_priority": u64s(uint64(d.PublisherPriority)),
		"end_of_group":       d.EndOfGroup,
	}
	if d.ObjectIDPresent {
		m["object_id"] = u64s(d.ObjectID)
	}
	if t&datagramExtensions != 0 {
		extensionsJSON(m, d.Extensions)
	}
	if d.StatusPresent {
		m["stream_type"] = "object_datagram_status"
		m["object_status"] = u64s(uint64(d.Status))
	} else {
		m["payload_hex"] = hex.EncodeToString(d.Payload)
	}
	return m, nil
}

// encodeDatagramVector builds a datagram. Its layout flags come from
// stream_type_id when the vector gives it (End of Group is only there), and
// otherwise from which fields are present.
func encodeDatagramVector(f *jsonFields, status bool) ([]byte, error) {
	d := Datagram{TrackAlias: f.u64("track_alias"), StatusPresent: status}
	d.GroupID = f.u64("group_id")
	d.ObjectID, d.ObjectIDPresent = f.optU64("object_id")
	d.PublisherPriority = u8Field(f, "publisher_priority")
	d.Extensions = extensionsFromJSON(f)
	if status {
		d.Status = ObjectStatus(f.u64("object_status"))
	} else {
		d.Payload = f.hexBytes("payload_hex")
	}
	if f.has("end_of_group") {
		d.EndOfGroup, _ = f.raw("end_of_group").(bool)
	}
	t, hasType := f.optU64("stream_type_id")
	if hasType && !status {
		d.EndOfGroup = t&datagramEndOfGroup != 0
	}
	if f.err != nil {
		return nil, f.err
	}
	b, err := AppendDatagram(nil, &d, Draft14)
	if err != nil {
		return nil, err
	}
	if got, _, _ := ParseVarint(b); hasType && got != t {
		return nil, fmt.Errorf("the fields encode as datagram type %#x, stream_type_id says %#x", got, t)
	}
	return b, nil
}

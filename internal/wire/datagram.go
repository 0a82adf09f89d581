package wire

// Bits of the draft-14 OBJECT_DATAGRAM type (draft-14 §10.3.1 Object
// Datagram): 0x00-0x07 carry a payload, 0x20-0x21 a status.
const (
	datagramExtensions = 0x01 // Extensions Present
	datagramEndOfGroup = 0x02 // End of Group (payload types only)
	datagramNoObjectID = 0x04 // Object ID absent, meaning 0 (payload types only)
	datagramStatus     = 0x20 // Object Status instead of a payload
)

// Datagram is OBJECT_DATAGRAM (draft-14 §10.3.1 Object Datagram): one object
// with its payload in one QUIC datagram. The datagram type is not a field:
// [Datagram.Type] chooses it from the others.
//
// Of the embedded Object, SubgroupID and PayloadLength are not on the wire:
// [ParseDatagram] sets SubgroupID to the Object ID (the Subgroup ID a fetch
// stream gives such an object, draft-14 §10.4.4) and PayloadLength to
// len(Payload); [AppendDatagram] ignores both.
type Datagram struct {
	TrackAlias uint64
	Object
	// Payload is the Object Payload. ParseDatagram makes it alias the
	// datagram; it is empty for a status datagram.
	Payload []byte
	// ObjectIDPresent records that the Object ID field is on the wire.
	// AppendDatagram omits the field when the Object ID is 0 unless this is
	// set; status datagrams always carry it.
	ObjectIDPresent bool
	// StatusPresent records a status datagram (types 0x20, 0x21). A
	// datagram whose Status is not Normal is always one; set this to send a
	// zero-length Normal object as a status datagram rather than as a
	// payload datagram with an empty payload.
	StatusPresent bool
}

// Type returns the draft-14 OBJECT_DATAGRAM type that encodes d, or a
// [KindInvalidValue] error if no type can: a status datagram has no End of
// Group form and no payload.
func (d *Datagram) Type() (uint64, error) {
	var t uint64
	if len(d.Extensions) != 0 {
		t |= datagramExtensions
	}
	if d.StatusPresent || d.Status != StatusNormal {
		if d.EndOfGroup {
			return 0, errInvalid("end_of_group", "a datagram with an Object Status cannot also be End of Group")
		}
		if len(d.Payload) != 0 {
			return 0, errInvalid("object_status", "a datagram with an Object Status cannot carry a payload")
		}
		return t | datagramStatus, nil
	}
	if d.EndOfGroup {
		t |= datagramEndOfGroup
	}
	if !d.ObjectIDPresent && d.ObjectID == 0 {
		t |= datagramNoObjectID
	}
	return t, nil
}

// ParseDatagram decodes the whole of b, one QUIC datagram, into d (draft-14
// §10.3.1) without allocating: d.Extensions and d.Payload alias b.
//
// A datagram type v does not define is a [KindUnknownMessage] error whose
// Type is the type read. A datagram that ends inside a field is a
// [KindIncomplete] error that does not report NeedMore (a datagram is
// complete as received). Extensions Present with an Extension Headers Length
// of 0, an undefined Object Status, extension headers on an object that does
// not exist and bytes after the Object Status are [KindInvalidValue] errors.
func ParseDatagram(b []byte, d *Datagram, v Version) error {
	if err := checkDataVersion(v); err != nil {
		return err
	}
	dec := decoder{b: b}
	t := dec.varint("datagram_type")
	if dec.err != nil {
		return truncated(dec.err)
	}
	if t > datagramExtensions|datagramEndOfGroup|datagramNoObjectID && t != datagramStatus && t != datagramStatus|datagramExtensions {
		return errUnknownType("datagram_type", t, "datagram")
	}
	*d = Datagram{ObjectIDPresent: t&datagramNoObjectID == 0, StatusPresent: t&datagramStatus != 0}
	d.TrackAlias = dec.varint("track_alias")
	d.GroupID = dec.varint("group_id")
	if d.ObjectIDPresent {
		d.ObjectID = dec.varint("object_id")
	}
	d.PublisherPriority = dec.u8("publisher_priority")
	if t&datagramExtensions != 0 {
		n := dec.varint("extension_headers_length")
		switch {
		case dec.err != nil:
		case n == 0:
			dec.fail(errInvalid("extension_headers_length", "extensions are present but their length is 0"))
		case n > MaxExtensionHeadersLen:
			dec.fail(errLimit("extension_headers_length", "%d bytes of extension headers, the maximum is %d", n, MaxExtensionHeadersLen))
		}
		d.Extensions = dec.raw("extension_headers", n)
	}
	if d.StatusPresent {
		d.Status = ObjectStatus(dec.varint("object_status"))
	} else {
		d.EndOfGroup = t&datagramEndOfGroup != 0
		d.Payload = dec.raw("object_payload", uint64(dec.remaining()))
	}
	if err := dec.done(); err != nil {
		return withType(truncated(err), t)
	}
	if err := ValidateExtensions(d.Extensions); err != nil {
		return withType(err, t)
	}
	d.SubgroupID = d.ObjectID
	d.PayloadLength = uint64(len(d.Payload))
	return withType(checkObject(&d.Object, d.PayloadLength), t)
}

// AppendDatagram appends d as an OBJECT_DATAGRAM (draft-14 §10.3.1), payload
// included, with the type [Datagram.Type] chooses. Empty Extensions are
// left out rather than sent with a length of 0, which the spec forbids. The
// object rules of [ParseDatagram] apply. On error b is returned unchanged.
func AppendDatagram(b []byte, d *Datagram, v Version) ([]byte, error) {
	if err := checkDataVersion(v); err != nil {
		return b, err
	}
	t, err := d.Type()
	if err != nil {
		return b, err
	}
	if err := checkObject(&d.Object, uint64(len(d.Payload))); err != nil {
		return b, err
	}
	start := len(b)
	b = appendVarint(b, t)
	b, err = appendVarints(b, d.TrackAlias, d.GroupID)
	if err == nil && t&datagramNoObjectID == 0 {
		b, err = AppendVarint(b, d.ObjectID)
	}
	if err == nil {
		b = append(b, d.PublisherPriority)
		if t&datagramExtensions != 0 {
			b, err = appendExtensionBlock(b, d.Extensions)
		}
	}
	if err != nil {
		return b[:start], err
	}
	if t&datagramStatus != 0 {
		return appendVarint(b, uint64(d.Status)), nil
	}
	return append(b, d.Payload...), nil
}

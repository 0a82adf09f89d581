package wire

import "io"

// Object is the header of one Object as a subgroup stream, a fetch stream or
// a datagram carries it: the properties of draft-14 §10.2.1 Canonical Object
// Properties, without the payload bytes.
//
// The codec never copies a payload: on a stream the payload stays in the
// reader after [SubgroupReader.ReadObject] or [FetchReader.ReadObject]
// (the caller reads or skips PayloadLength bytes, see [ReadPayload]); on the
// write side the caller writes it after the appended header.
type Object struct {
	GroupID    uint64
	SubgroupID uint64
	ObjectID   uint64
	// PublisherPriority is the object's priority (draft-14 §7). On a
	// subgroup stream it is the header's.
	PublisherPriority uint8
	// Status is the Object Status (draft-14 §10.2.1.1). Only an object with
	// status Normal has a payload.
	Status ObjectStatus
	// Extensions is the raw Extension Headers block, exactly the bytes
	// received (draft-14 §10.2.1.2 Object Extension Header), so that a relay
	// forwards it byte for byte; empty if the object has none. See
	// [ExtensionIter] to read it and [AppendExtension] to build one. The
	// readers reuse its capacity: it is valid until the next read into the
	// same Object.
	Extensions []byte
	// PayloadLength is the Object Payload Length: the number of payload
	// bytes that follow the header.
	PayloadLength uint64
	// EndOfGroup is the End of Group flag of an OBJECT_DATAGRAM type
	// (draft-14 §10.3.1 Object Datagram): the object is the last of its
	// group. Objects read from streams leave it false; a subgroup stream
	// says the same for its last object with [SubgroupHeader.EndOfGroup].
	EndOfGroup bool
}

// Location returns the object's Location (draft-14 §1.4.1).
func (o *Object) Location() Location { return Location{Group: o.GroupID, Object: o.ObjectID} }

// ReadPayload reads an object payload of n bytes from r into buf[:0], growing
// buf if it is too small, and returns the filled slice. It is a convenience
// for callers that want the payload in memory; the buffer grows only as bytes
// arrive, but callers should still bound n before calling it, since n comes
// from the peer. A stream that ends early yields a [KindIncomplete] error.
func ReadPayload(r io.Reader, n uint64, buf []byte) ([]byte, error) {
	return readBytes(r, n, buf, "object_payload")
}

// checkObject applies the rules of draft-14 §10.2.1.1 Object Status and
// §10.2.1.2 Object Extension Header to an object with a payload of
// payloadLen bytes: a defined status; no payload unless the status is Normal;
// no extension headers on an object that does not exist.
func checkObject(o *Object, payloadLen uint64) error {
	if !o.Status.Valid() {
		return errInvalid("object_status", "unknown object status %#x", uint64(o.Status))
	}
	if o.Status != StatusNormal && payloadLen != 0 {
		return errInvalid("object_status", "an object with status %v has a %d-byte payload", o.Status, payloadLen)
	}
	if o.Status == StatusDoesNotExist && len(o.Extensions) != 0 {
		return errInvalid("extension_headers", "an object that does not exist carries extension headers")
	}
	return nil
}

// readObjectTail reads the fields that subgroup and fetch objects share,
// after the Object ID: [Extension Headers Length, Extension headers,] Object
// Payload Length, [Object Status] (draft-14 §10.4.2, §10.4.4). extensions
// says whether the length field is present.
func readObjectTail(r StreamReader, o *Object, extensions bool) error {
	o.Extensions = o.Extensions[:0]
	if extensions {
		n, err := readField(r, "extension_headers_length")
		if err != nil {
			return err
		}
		if n > MaxExtensionHeadersLen {
			return errLimit("extension_headers_length", "%d bytes of extension headers, the maximum is %d", n, MaxExtensionHeadersLen)
		}
		if n > 0 {
			if o.Extensions, err = readBytes(r, n, o.Extensions, "extension_headers"); err != nil {
				return err
			}
			if err := ValidateExtensions(o.Extensions); err != nil {
				return err
			}
		}
	}
	n, err := readField(r, "object_payload_length")
	if err != nil {
		return err
	}
	o.PayloadLength = n
	o.Status = StatusNormal
	if n == 0 {
		s, err := readField(r, "object_status")
		if err != nil {
			return err
		}
		o.Status = ObjectStatus(s)
	}
	return checkObject(o, n)
}

// appendObjectTail appends what readObjectTail reads. The status is written
// only for an empty payload, as the spec has it; an object with extension
// headers on a stream whose objects carry none is an error.
func appendObjectTail(b []byte, o *Object, extensions bool) ([]byte, error) {
	if err := checkObject(o, o.PayloadLength); err != nil {
		return b, err
	}
	if extensions {
		var err error
		if b, err = appendExtensionBlock(b, o.Extensions); err != nil {
			return b, err
		}
	} else if len(o.Extensions) != 0 {
		return b, errInvalid("extension_headers", "the stream type carries no extension headers")
	}
	b, err := AppendVarint(b, o.PayloadLength)
	if err != nil {
		return b, err
	}
	if o.PayloadLength == 0 {
		b = appendVarint(b, uint64(o.Status))
	}
	return b, nil
}

// appendExtensionBlock appends Extension Headers Length and the block, after
// checking that the block is well formed and within the limit.
func appendExtensionBlock(b []byte, block []byte) ([]byte, error) {
	if len(block) > MaxExtensionHeadersLen {
		return b, errLimit("extension_headers_length", "%d bytes of extension headers, the maximum is %d", len(block), MaxExtensionHeadersLen)
	}
	if err := ValidateExtensions(block); err != nil {
		return b, err
	}
	b = appendVarint(b, uint64(len(block)))
	return append(b, block...), nil
}

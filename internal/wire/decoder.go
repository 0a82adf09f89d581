package wire

import "unicode/utf8"

// decoder reads fields from a byte slice with a sticky error, so that message
// decoders read like the spec's field lists. Once a read fails every later
// read returns the zero value and the first error is kept.
type decoder struct {
	b   []byte
	off int
	err error
}

func (d *decoder) fail(err *Error) {
	if d.err == nil {
		d.err = err
	}
}

// remaining reports how many bytes are left.
func (d *decoder) remaining() int { return len(d.b) - d.off }

// varint reads a varint field.
func (d *decoder) varint(field string) uint64 {
	if d.err != nil {
		return 0
	}
	v, n, err := ParseVarint(d.b[d.off:])
	if err != nil {
		d.fail(errIncomplete(field))
		return 0
	}
	d.off += n
	return v
}

// u8 reads a single byte field.
func (d *decoder) u8(field string) uint8 {
	if d.err != nil {
		return 0
	}
	if d.off >= len(d.b) {
		d.fail(errIncomplete(field))
		return 0
	}
	c := d.b[d.off]
	d.off++
	return c
}

// raw reads n bytes without copying.
func (d *decoder) raw(field string, n uint64) []byte {
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)-d.off) {
		d.fail(errIncomplete(field))
		return nil
	}
	p := d.b[d.off : d.off+int(n) : d.off+int(n)]
	d.off += int(n)
	return p
}

// bytes reads a length-prefixed byte field (the spec's "(b)") without copying.
// max bounds the length; a longer field fails with KindLimit.
func (d *decoder) bytes(field string, max uint64) []byte {
	n := d.varint(field)
	if d.err != nil {
		return nil
	}
	if n > max {
		d.fail(errLimit(field, "length %d exceeds the maximum of %d", n, max))
		return nil
	}
	return d.raw(field, n)
}

// bool reads a one-byte boolean that must be 0 or 1.
func (d *decoder) bool(field string) bool {
	v := d.u8(field)
	if d.err == nil && v > 1 {
		d.fail(errInvalid(field, "%d is not 0 or 1", v))
	}
	return v == 1
}

// reason reads a Reason Phrase (draft-14 §1.4.3): at most 1024 bytes, UTF-8.
func (d *decoder) reason(field string) string {
	p := d.bytes(field, MaxReasonPhraseLen)
	if d.err == nil && !utf8.Valid(p) {
		d.fail(errInvalid(field, "reason phrase is not valid UTF-8"))
	}
	return string(p)
}

// location reads a Location {Group (i), Object (i)}. An error names the
// location field: building "field.group" for every read would allocate.
func (d *decoder) location(field string) Location {
	return Location{Group: d.varint(field), Object: d.varint(field)}
}

// namespace reads a Track Namespace tuple (1..32 fields).
func (d *decoder) namespace(field string) Namespace {
	return d.tuple(field, 1)
}

// tuple reads a tuple of byte strings with at least min and at most
// MaxNamespaceFields fields. Their total length is bounded by MaxFullTrackName.
func (d *decoder) tuple(field string, min int) Namespace {
	n := d.varint(field)
	if d.err != nil {
		return nil
	}
	if n < uint64(min) || n > MaxNamespaceFields {
		d.fail(errInvalid(field, "tuple has %d fields, must be %d..%d", n, min, MaxNamespaceFields))
		return nil
	}
	ns := make(Namespace, 0, n)
	total := 0
	for i := uint64(0); i < n; i++ {
		p := d.bytes(field, MaxFullTrackName)
		if d.err != nil {
			return nil
		}
		total += len(p)
		if total > MaxFullTrackName {
			d.fail(errLimit(field, "namespace longer than %d bytes", MaxFullTrackName))
			return nil
		}
		ns = append(ns, string(p))
	}
	return ns
}

// trackName reads a Track Name and checks the Full Track Name limit given the
// already decoded namespace.
func (d *decoder) trackName(field string, ns Namespace) string {
	p := d.bytes(field, MaxFullTrackName)
	if d.err == nil && ns.byteLen()+len(p) > MaxFullTrackName {
		d.fail(errLimit(field, "full track name longer than %d bytes", MaxFullTrackName))
	}
	return string(p)
}

// done checks that the whole input was consumed.
func (d *decoder) done() error {
	if d.err == nil && d.off != len(d.b) {
		d.err = errInvalid("", "%d unexpected bytes after the last field", len(d.b)-d.off)
	}
	return d.err
}

package wire

// Fields and layouts that several draft-14 control messages share.
//
// Decoders validate what the spec calls a protocol error (an undefined enum
// value, a flag that is not 0 or 1, a tuple or name over its limit); encoders
// refuse the same values, so that they never produce bytes a peer must reject.
// Relations between fields (a range whose end is before its start) and
// between messages (an unknown Request ID) are left to the session layer:
// several of them are answered with an error message rather than by closing
// the session.

// validIn reports whether o may be carried in a message. GroupOrderPublisher
// (0x0) is allowed in requests only (SUBSCRIBE, FETCH, TRACK_STATUS);
// responses and PUBLISH must name the order (draft-14 §9.8, §9.13, §9.14,
// §9.17).
func (o GroupOrder) validIn(request bool) bool {
	return o <= GroupOrderDescending && (request || o != GroupOrderPublisher)
}

// hasStart and hasEndGroup tell which optional filter fields follow the
// Filter Type (draft-14 §9.7).
func (f FilterType) hasStart() bool    { return f == FilterAbsoluteStart || f == FilterAbsoluteRange }
func (f FilterType) hasEndGroup() bool { return f == FilterAbsoluteRange }

// encoder appends fields and keeps the first error, the counterpart of
// decoder: message encoders read like the spec's field lists. Fields after a
// failure are still appended, into bytes the caller drops with the error.
type encoder struct {
	b   []byte
	err error
}

func (e *encoder) fail(err error) {
	if e.err == nil {
		e.err = err
	}
}

// put keeps the result of one of the package's append functions.
func (e *encoder) put(b []byte, err error) {
	e.b = b
	e.fail(err)
}

// result returns the bytes and the first error.
func (e *encoder) result() ([]byte, error) { return e.b, e.err }

func (e *encoder) varint(v uint64)        { e.put(AppendVarint(e.b, v)) }
func (e *encoder) u8(v uint8)             { e.b = append(e.b, v) }
func (e *encoder) bool(v bool)            { e.b = appendBool(e.b, v) }
func (e *encoder) location(l Location)    { e.put(appendLocation(e.b, l)) }
func (e *encoder) reason(s string)        { e.put(appendReason(e.b, s)) }
func (e *encoder) params(p Params)        { e.put(appendKVs(e.b, p)) }
func (e *encoder) namespace(ns Namespace) { e.put(appendNamespace(e.b, ns, 1, 0)) }

// fullTrackName appends Track Namespace (tuple), Track Name Length (i),
// Track Name (..), checking the tuple size and the Full Track Name limit.
func (e *encoder) fullTrackName(ns Namespace, name string) {
	e.put(appendNamespace(e.b, ns, 1, len(name)))
	e.b = appendString(e.b, name)
}

// groupOrder appends a Group Order (8); request says whether 0x0 is allowed.
func (e *encoder) groupOrder(o GroupOrder, request bool) {
	if !o.validIn(request) {
		e.fail(errInvalid("group_order", "%d is not a group order this message may carry", o))
	}
	e.u8(uint8(o))
}

// filter appends Filter Type (i), [Start Location], [End Group (i)]: start
// and endGroup are written only where the filter type has them.
func (e *encoder) filter(f FilterType, start Location, endGroup uint64) {
	if !f.Valid() {
		e.fail(errInvalid("filter_type", "%d is not a defined filter type", f))
	}
	e.varint(uint64(f))
	if f.hasStart() {
		e.location(start)
	}
	if f.hasEndGroup() {
		e.varint(endGroup)
	}
}

// largest appends Content Exists (8), [Largest Location]: the location is
// written only if exists.
func (e *encoder) largest(exists bool, largest Location) {
	e.bool(exists)
	if exists {
		e.location(largest)
	}
}

// groupOrder reads a Group Order (8).
func (d *decoder) groupOrder(request bool) GroupOrder {
	o := GroupOrder(d.u8("group_order"))
	if d.err == nil && !o.validIn(request) {
		d.fail(errInvalid("group_order", "%d is not a group order this message may carry", o))
	}
	return o
}

// filter reads Filter Type (i), [Start Location], [End Group (i)]. Fields the
// filter type does not have are set to zero.
func (d *decoder) filter(f *FilterType, start *Location, endGroup *uint64) {
	*f = FilterType(d.varint("filter_type"))
	if d.err == nil && !f.Valid() {
		d.fail(errInvalid("filter_type", "%d is not a defined filter type", *f))
	}
	if d.err != nil {
		return
	}
	if f.hasStart() {
		*start = d.location("start_location")
	}
	if f.hasEndGroup() {
		*endGroup = d.varint("end_group")
	}
}

// largest reads Content Exists (8), [Largest Location].
func (d *decoder) largest(exists *bool, largest *Location) {
	*exists = d.bool("content_exists")
	if *exists {
		*largest = d.location("largest_location")
	}
}

// fullTrackName reads Track Namespace (tuple), Track Name Length (i), Track
// Name (..).
func (d *decoder) fullTrackName() (Namespace, string) {
	ns := d.namespace("track_namespace")
	return ns, d.trackName("track_name", ns)
}

// decodeRequestIDPayload decodes a payload that is a single varint: the
// Request ID of UNSUBSCRIBE, FETCH_CANCEL, the *_OK messages without other
// fields, MAX_REQUEST_ID and REQUESTS_BLOCKED.
func decodeRequestIDPayload(b []byte, id *uint64) error {
	d := decoder{b: b}
	*id = d.varint("request_id")
	return d.done()
}

// decodeNamespacePayload decodes a payload that is a single Track Namespace
// tuple: PUBLISH_NAMESPACE_DONE and UNSUBSCRIBE_NAMESPACE.
func decodeNamespacePayload(b []byte, field string, ns *Namespace) error {
	d := decoder{b: b}
	*ns = d.namespace(field)
	return d.done()
}

// RequestError holds the fields of the messages that reject a request:
// SUBSCRIBE_ERROR, PUBLISH_ERROR, FETCH_ERROR, TRACK_STATUS_ERROR,
// PUBLISH_NAMESPACE_ERROR and SUBSCRIBE_NAMESPACE_ERROR all have the payload
// Request ID (i), Error Code (i), Error Reason (Reason Phrase). Each of those
// messages is a Go type defined as RequestError, so a value converts to and
// from it: RequestError(*m), SubscribeError(e).
type RequestError struct {
	// RequestID is the Request ID of the request being rejected.
	RequestID uint64
	// ErrorCode is one of the message's error codes (see [ReqErrInternalError]
	// and the constants after it).
	ErrorCode uint64
	// ReasonPhrase is the Error Reason, at most [MaxReasonPhraseLen] bytes of
	// UTF-8.
	ReasonPhrase string
}

func (r *RequestError) appendPayload(b []byte) ([]byte, error) {
	e := encoder{b: b}
	e.varint(r.RequestID)
	e.varint(r.ErrorCode)
	e.reason(r.ReasonPhrase)
	return e.result()
}

func (r *RequestError) decodePayload(b []byte) error {
	d := decoder{b: b}
	*r = RequestError{
		RequestID:    d.varint("request_id"),
		ErrorCode:    d.varint("error_code"),
		ReasonPhrase: d.reason("reason_phrase"),
	}
	return d.done()
}

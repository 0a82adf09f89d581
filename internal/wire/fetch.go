package wire

// Valid reports whether t is a fetch type draft-14 defines.
func (t FetchType) Valid() bool { return t >= FetchStandalone && t <= FetchAbsoluteJoining }

// Fetch is FETCH (draft-14 §9.16). FetchType decides which fields are on the
// wire: a standalone fetch carries TrackNamespace, TrackName, Start and End; a
// joining fetch (relative or absolute) carries JoiningRequestID and
// JoiningStart. The fields of the other kind are not encoded and decode as
// zero.
type Fetch struct {
	RequestID          uint64
	SubscriberPriority uint8
	// GroupOrder may be GroupOrderPublisher: use the publisher's order.
	GroupOrder GroupOrder
	FetchType  FetchType

	// Standalone Fetch.
	TrackNamespace Namespace
	TrackName      string
	Start          Location
	// End is the end Location plus 1, as on the wire: End.Object 0 asks
	// for the whole of End.Group.
	End Location

	// Joining Fetch.
	// JoiningRequestID is the Request ID of the subscription joined.
	JoiningRequestID uint64
	// JoiningStart is how many groups before the subscription's largest
	// group to start (relative), or the group to start at (absolute).
	JoiningStart uint64

	Params Params
}

// Type implements Message.
func (*Fetch) Type() MessageType { return TypeFetch }

// AppendPayload implements Message.
func (m *Fetch) AppendPayload(b []byte, _ Version) ([]byte, error) {
	e := encoder{b: b}
	e.varint(m.RequestID)
	e.u8(m.SubscriberPriority)
	e.groupOrder(m.GroupOrder, true)
	if !m.FetchType.Valid() {
		e.fail(errInvalid("fetch_type", "%d is not a defined fetch type", m.FetchType))
	}
	e.varint(uint64(m.FetchType))
	if m.FetchType == FetchStandalone {
		e.fullTrackName(m.TrackNamespace, m.TrackName)
		e.location(m.Start)
		e.location(m.End)
	} else {
		e.varint(m.JoiningRequestID)
		e.varint(m.JoiningStart)
	}
	e.params(m.Params)
	return e.result()
}

// DecodePayload implements Message.
func (m *Fetch) DecodePayload(b []byte, _ Version) error {
	d := decoder{b: b}
	*m = Fetch{
		RequestID:          d.varint("request_id"),
		SubscriberPriority: d.u8("subscriber_priority"),
		GroupOrder:         d.groupOrder(true),
		FetchType:          FetchType(d.varint("fetch_type")),
	}
	switch {
	case d.err != nil:
	case m.FetchType == FetchStandalone:
		m.TrackNamespace, m.TrackName = d.fullTrackName()
		m.Start = d.location("start_location")
		m.End = d.location("end_location")
	case m.FetchType.Valid():
		m.JoiningRequestID = d.varint("joining_request_id")
		m.JoiningStart = d.varint("joining_start")
	default:
		d.fail(errInvalid("fetch_type", "%d is not a defined fetch type", m.FetchType))
	}
	m.Params = d.params("parameters")
	return d.done()
}

// FetchOK is FETCH_OK (draft-14 §9.17).
type FetchOK struct {
	RequestID uint64
	// GroupOrder is GroupOrderAscending or GroupOrderDescending: 0x0 is a
	// protocol error in a response.
	GroupOrder GroupOrder
	// EndOfTrack is the End Of Track byte. Draft-14 defines only 0 and 1
	// for it; like the other one-byte flags, any other value fails to decode.
	EndOfTrack bool
	// End is the End Location as on the wire (draft-14 §9.17 says how it
	// relates to the requested range).
	End    Location
	Params Params
}

// Type implements Message.
func (*FetchOK) Type() MessageType { return TypeFetchOK }

// AppendPayload implements Message.
func (m *FetchOK) AppendPayload(b []byte, _ Version) ([]byte, error) {
	e := encoder{b: b}
	e.varint(m.RequestID)
	e.groupOrder(m.GroupOrder, false)
	e.bool(m.EndOfTrack)
	e.location(m.End)
	e.params(m.Params)
	return e.result()
}

// DecodePayload implements Message.
func (m *FetchOK) DecodePayload(b []byte, _ Version) error {
	d := decoder{b: b}
	*m = FetchOK{
		RequestID:  d.varint("request_id"),
		GroupOrder: d.groupOrder(false),
		EndOfTrack: d.bool("end_of_track"),
		End:        d.location("end_location"),
		Params:     d.params("parameters"),
	}
	return d.done()
}

// FetchError is FETCH_ERROR (draft-14 §9.18). Its fields are those of
// [RequestError].
type FetchError RequestError

// Type implements Message.
func (*FetchError) Type() MessageType { return TypeFetchError }

// AppendPayload implements Message.
func (m *FetchError) AppendPayload(b []byte, _ Version) ([]byte, error) {
	return (*RequestError)(m).appendPayload(b)
}

// DecodePayload implements Message.
func (m *FetchError) DecodePayload(b []byte, _ Version) error {
	return (*RequestError)(m).decodePayload(b)
}

// FetchCancel is FETCH_CANCEL (draft-14 §9.19).
type FetchCancel struct {
	// RequestID is the Request ID of the FETCH being cancelled.
	RequestID uint64
}

// Type implements Message.
func (*FetchCancel) Type() MessageType { return TypeFetchCancel }

// AppendPayload implements Message.
func (m *FetchCancel) AppendPayload(b []byte, _ Version) ([]byte, error) {
	return AppendVarint(b, m.RequestID)
}

// DecodePayload implements Message.
func (m *FetchCancel) DecodePayload(b []byte, _ Version) error {
	return decodeRequestIDPayload(b, &m.RequestID)
}

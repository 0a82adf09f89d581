package wire

// The PUBLISH, PUBLISH_OK and PUBLISH_ERROR diagrams of draft-14 show
// "Length (i)", but §9 frames every control message with a 16-bit length, and
// so do AppendMessage and ParseMessage (the conformance vectors agree).

// Publish is PUBLISH (draft-14 §9.13).
type Publish struct {
	RequestID      uint64
	TrackNamespace Namespace
	TrackName      string
	TrackAlias     uint64
	// GroupOrder is GroupOrderAscending or GroupOrderDescending: 0x0 is a
	// protocol error in PUBLISH.
	GroupOrder    GroupOrder
	ContentExists bool
	// Largest is carried only if ContentExists.
	Largest Location
	// Forward true means objects are sent at once, before PUBLISH_OK.
	Forward bool
	Params  Params
}

// Type implements Message.
func (*Publish) Type() MessageType { return TypePublish }

// AppendPayload implements Message.
func (m *Publish) AppendPayload(b []byte, _ Version) ([]byte, error) {
	e := encoder{b: b}
	e.varint(m.RequestID)
	e.fullTrackName(m.TrackNamespace, m.TrackName)
	e.varint(m.TrackAlias)
	e.groupOrder(m.GroupOrder, false)
	e.largest(m.ContentExists, m.Largest)
	e.bool(m.Forward)
	e.params(m.Params)
	return e.result()
}

// DecodePayload implements Message.
func (m *Publish) DecodePayload(b []byte, _ Version) error {
	d := decoder{b: b}
	*m = Publish{RequestID: d.varint("request_id")}
	m.TrackNamespace, m.TrackName = d.fullTrackName()
	m.TrackAlias = d.varint("track_alias")
	m.GroupOrder = d.groupOrder(false)
	d.largest(&m.ContentExists, &m.Largest)
	m.Forward = d.bool("forward")
	m.Params = d.params("parameters")
	return d.done()
}

// PublishOK is PUBLISH_OK (draft-14 §9.14).
type PublishOK struct {
	RequestID          uint64
	Forward            bool
	SubscriberPriority uint8
	// GroupOrder is GroupOrderAscending or GroupOrderDescending: 0x0 is a
	// protocol error in PUBLISH_OK.
	GroupOrder GroupOrder
	FilterType FilterType
	// Start and EndGroup are carried as in [Subscribe].
	Start    Location
	EndGroup uint64
	Params   Params
}

// Type implements Message.
func (*PublishOK) Type() MessageType { return TypePublishOK }

// AppendPayload implements Message.
func (m *PublishOK) AppendPayload(b []byte, _ Version) ([]byte, error) {
	e := encoder{b: b}
	e.varint(m.RequestID)
	e.bool(m.Forward)
	e.u8(m.SubscriberPriority)
	e.groupOrder(m.GroupOrder, false)
	e.filter(m.FilterType, m.Start, m.EndGroup)
	e.params(m.Params)
	return e.result()
}

// DecodePayload implements Message.
func (m *PublishOK) DecodePayload(b []byte, _ Version) error {
	d := decoder{b: b}
	*m = PublishOK{
		RequestID:          d.varint("request_id"),
		Forward:            d.bool("forward"),
		SubscriberPriority: d.u8("subscriber_priority"),
		GroupOrder:         d.groupOrder(false),
	}
	d.filter(&m.FilterType, &m.Start, &m.EndGroup)
	m.Params = d.params("parameters")
	return d.done()
}

// PublishError is PUBLISH_ERROR (draft-14 §9.15). Its fields are those of
// [RequestError].
type PublishError RequestError

// Type implements Message.
func (*PublishError) Type() MessageType { return TypePublishError }

// AppendPayload implements Message.
func (m *PublishError) AppendPayload(b []byte, _ Version) ([]byte, error) {
	return (*RequestError)(m).appendPayload(b)
}

// DecodePayload implements Message.
func (m *PublishError) DecodePayload(b []byte, _ Version) error {
	return (*RequestError)(m).decodePayload(b)
}

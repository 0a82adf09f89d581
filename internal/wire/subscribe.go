package wire

// Subscribe is SUBSCRIBE (draft-14 §9.7).
type Subscribe struct {
	RequestID          uint64
	TrackNamespace     Namespace
	TrackName          string
	SubscriberPriority uint8
	// GroupOrder may be GroupOrderPublisher: use the publisher's order.
	GroupOrder GroupOrder
	// Forward false asks the publisher not to forward objects yet.
	Forward    bool
	FilterType FilterType
	// Start is carried only by FilterAbsoluteStart and FilterAbsoluteRange;
	// EndGroup only by FilterAbsoluteRange. Otherwise they are not encoded
	// and decode as zero.
	Start    Location
	EndGroup uint64
	Params   Params
}

// Type implements Message.
func (*Subscribe) Type() MessageType { return TypeSubscribe }

// AppendPayload implements Message.
func (m *Subscribe) AppendPayload(b []byte, _ Version) ([]byte, error) {
	e := encoder{b: b}
	e.varint(m.RequestID)
	e.fullTrackName(m.TrackNamespace, m.TrackName)
	e.u8(m.SubscriberPriority)
	e.groupOrder(m.GroupOrder, true)
	e.bool(m.Forward)
	e.filter(m.FilterType, m.Start, m.EndGroup)
	e.params(m.Params)
	return e.result()
}

// DecodePayload implements Message.
func (m *Subscribe) DecodePayload(b []byte, _ Version) error {
	d := decoder{b: b}
	*m = Subscribe{RequestID: d.varint("request_id")}
	m.TrackNamespace, m.TrackName = d.fullTrackName()
	m.SubscriberPriority = d.u8("subscriber_priority")
	m.GroupOrder = d.groupOrder(true)
	m.Forward = d.bool("forward")
	d.filter(&m.FilterType, &m.Start, &m.EndGroup)
	m.Params = d.params("parameters")
	return d.done()
}

// SubscribeOK is SUBSCRIBE_OK (draft-14 §9.8).
type SubscribeOK struct {
	RequestID  uint64
	TrackAlias uint64
	// Expires is in milliseconds, as on the wire (so that a relay passes it
	// on unchanged); 0 means the subscription does not expire or expires at
	// an unknown time.
	Expires uint64
	// GroupOrder is GroupOrderAscending or GroupOrderDescending: draft-14
	// §9.8 makes 0x0 a protocol error in SUBSCRIBE_OK. The conformance
	// vector subscribe-ok.json/no-content has group order 0; the spec wins,
	// so it fails to decode with KindInvalidValue (vectorDeviations).
	GroupOrder    GroupOrder
	ContentExists bool
	// Largest is carried only if ContentExists.
	Largest Location
	Params  Params
}

// Type implements Message.
func (*SubscribeOK) Type() MessageType { return TypeSubscribeOK }

// AppendPayload implements Message.
func (m *SubscribeOK) AppendPayload(b []byte, _ Version) ([]byte, error) {
	e := encoder{b: b}
	e.varint(m.RequestID)
	e.varint(m.TrackAlias)
	e.varint(m.Expires)
	e.groupOrder(m.GroupOrder, false)
	e.largest(m.ContentExists, m.Largest)
	e.params(m.Params)
	return e.result()
}

// DecodePayload implements Message.
func (m *SubscribeOK) DecodePayload(b []byte, _ Version) error {
	d := decoder{b: b}
	*m = SubscribeOK{
		RequestID:  d.varint("request_id"),
		TrackAlias: d.varint("track_alias"),
		Expires:    d.varint("expires"),
		GroupOrder: d.groupOrder(false),
	}
	d.largest(&m.ContentExists, &m.Largest)
	m.Params = d.params("parameters")
	return d.done()
}

// SubscribeError is SUBSCRIBE_ERROR (draft-14 §9.9). Its fields are those of
// [RequestError].
type SubscribeError RequestError

// Type implements Message.
func (*SubscribeError) Type() MessageType { return TypeSubscribeError }

// AppendPayload implements Message.
func (m *SubscribeError) AppendPayload(b []byte, _ Version) ([]byte, error) {
	return (*RequestError)(m).appendPayload(b)
}

// DecodePayload implements Message.
func (m *SubscribeError) DecodePayload(b []byte, _ Version) error {
	return (*RequestError)(m).decodePayload(b)
}

// SubscribeUpdate is SUBSCRIBE_UPDATE (draft-14 §9.10).
type SubscribeUpdate struct {
	RequestID uint64
	// SubscriptionRequestID is the Request ID of the SUBSCRIBE being updated.
	SubscriptionRequestID uint64
	Start                 Location
	// EndGroup is the end Group ID plus 1, as on the wire; 0 means the
	// subscription is open-ended.
	EndGroup           uint64
	SubscriberPriority uint8
	Forward            bool
	Params             Params
}

// Type implements Message.
func (*SubscribeUpdate) Type() MessageType { return TypeSubscribeUpdate }

// AppendPayload implements Message.
func (m *SubscribeUpdate) AppendPayload(b []byte, _ Version) ([]byte, error) {
	e := encoder{b: b}
	e.varint(m.RequestID)
	e.varint(m.SubscriptionRequestID)
	e.location(m.Start)
	e.varint(m.EndGroup)
	e.u8(m.SubscriberPriority)
	e.bool(m.Forward)
	e.params(m.Params)
	return e.result()
}

// DecodePayload implements Message.
func (m *SubscribeUpdate) DecodePayload(b []byte, _ Version) error {
	d := decoder{b: b}
	*m = SubscribeUpdate{
		RequestID:             d.varint("request_id"),
		SubscriptionRequestID: d.varint("subscription_request_id"),
		Start:                 d.location("start_location"),
		EndGroup:              d.varint("end_group"),
		SubscriberPriority:    d.u8("subscriber_priority"),
		Forward:               d.bool("forward"),
		Params:                d.params("parameters"),
	}
	return d.done()
}

// Unsubscribe is UNSUBSCRIBE (draft-14 §9.11).
type Unsubscribe struct {
	// RequestID is the Request ID of the subscription being ended.
	RequestID uint64
}

// Type implements Message.
func (*Unsubscribe) Type() MessageType { return TypeUnsubscribe }

// AppendPayload implements Message.
func (m *Unsubscribe) AppendPayload(b []byte, _ Version) ([]byte, error) {
	return AppendVarint(b, m.RequestID)
}

// DecodePayload implements Message.
func (m *Unsubscribe) DecodePayload(b []byte, _ Version) error {
	return decodeRequestIDPayload(b, &m.RequestID)
}

// PublishDone is PUBLISH_DONE (draft-14 §9.12).
type PublishDone struct {
	// RequestID is the Request ID of the subscription that ended.
	RequestID uint64
	// StatusCode says why (see [DoneInternalError] and the constants after
	// it).
	StatusCode uint64
	// StreamCount is the number of data streams opened for the
	// subscription, or [MaxVarint] if the publisher does not know it.
	StreamCount  uint64
	ReasonPhrase string
}

// Type implements Message.
func (*PublishDone) Type() MessageType { return TypePublishDone }

// AppendPayload implements Message.
func (m *PublishDone) AppendPayload(b []byte, _ Version) ([]byte, error) {
	e := encoder{b: b}
	e.varint(m.RequestID)
	e.varint(m.StatusCode)
	e.varint(m.StreamCount)
	e.reason(m.ReasonPhrase)
	return e.result()
}

// DecodePayload implements Message.
func (m *PublishDone) DecodePayload(b []byte, _ Version) error {
	d := decoder{b: b}
	*m = PublishDone{
		RequestID:    d.varint("request_id"),
		StatusCode:   d.varint("status_code"),
		StreamCount:  d.varint("stream_count"),
		ReasonPhrase: d.reason("reason_phrase"),
	}
	return d.done()
}

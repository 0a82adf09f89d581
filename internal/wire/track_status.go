package wire

// TrackStatus is TRACK_STATUS (draft-14 §9.20). Its format is identical to
// SUBSCRIBE's, so it has the fields of [Subscribe].
type TrackStatus Subscribe

// Type implements Message.
func (*TrackStatus) Type() MessageType { return TypeTrackStatus }

// AppendPayload implements Message.
func (m *TrackStatus) AppendPayload(b []byte, v Version) ([]byte, error) {
	return (*Subscribe)(m).AppendPayload(b, v)
}

// DecodePayload implements Message.
func (m *TrackStatus) DecodePayload(b []byte, v Version) error {
	return (*Subscribe)(m).DecodePayload(b, v)
}

// TrackStatusOK is TRACK_STATUS_OK (draft-14 §9.21). Its format is identical
// to SUBSCRIBE_OK's, so it has the fields of [SubscribeOK]; TrackAlias is 0.
type TrackStatusOK SubscribeOK

// Type implements Message.
func (*TrackStatusOK) Type() MessageType { return TypeTrackStatusOK }

// AppendPayload implements Message.
func (m *TrackStatusOK) AppendPayload(b []byte, v Version) ([]byte, error) {
	return (*SubscribeOK)(m).AppendPayload(b, v)
}

// DecodePayload implements Message.
func (m *TrackStatusOK) DecodePayload(b []byte, v Version) error {
	return (*SubscribeOK)(m).DecodePayload(b, v)
}

// TrackStatusError is TRACK_STATUS_ERROR (draft-14 §9.22). Its format is
// identical to SUBSCRIBE_ERROR's: the fields of [RequestError].
type TrackStatusError RequestError

// Type implements Message.
func (*TrackStatusError) Type() MessageType { return TypeTrackStatusError }

// AppendPayload implements Message.
func (m *TrackStatusError) AppendPayload(b []byte, _ Version) ([]byte, error) {
	return (*RequestError)(m).appendPayload(b)
}

// DecodePayload implements Message.
func (m *TrackStatusError) DecodePayload(b []byte, _ Version) error {
	return (*RequestError)(m).decodePayload(b)
}

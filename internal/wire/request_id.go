package wire

// MaxRequestID is MAX_REQUEST_ID (draft-14 §9.5).
type MaxRequestID struct {
	// RequestID is the new Maximum Request ID plus 1: the peer may use
	// Request IDs below it.
	RequestID uint64
}

// Type implements Message.
func (*MaxRequestID) Type() MessageType { return TypeMaxRequestID }

// AppendPayload implements Message.
func (m *MaxRequestID) AppendPayload(b []byte, _ Version) ([]byte, error) {
	return AppendVarint(b, m.RequestID)
}

// DecodePayload implements Message.
func (m *MaxRequestID) DecodePayload(b []byte, _ Version) error {
	return decodeRequestIDPayload(b, &m.RequestID)
}

// RequestsBlocked is REQUESTS_BLOCKED (draft-14 §9.6).
type RequestsBlocked struct {
	// MaxRequestID is the Maximum Request ID the sender is blocked on.
	MaxRequestID uint64
}

// Type implements Message.
func (*RequestsBlocked) Type() MessageType { return TypeRequestsBlocked }

// AppendPayload implements Message.
func (m *RequestsBlocked) AppendPayload(b []byte, _ Version) ([]byte, error) {
	return AppendVarint(b, m.MaxRequestID)
}

// DecodePayload implements Message.
func (m *RequestsBlocked) DecodePayload(b []byte, _ Version) error {
	return decodeRequestIDPayload(b, &m.MaxRequestID)
}

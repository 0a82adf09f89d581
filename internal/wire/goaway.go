package wire

// MaxNewSessionURILen is the maximum length of GOAWAY's New Session URI, in
// bytes (draft-14 §9.4).
const MaxNewSessionURILen = 8192

// Goaway is GOAWAY (draft-14 §9.4).
type Goaway struct {
	// NewSessionURI is where the client should reconnect; empty means the
	// current URI. At most [MaxNewSessionURILen] bytes. A server receiving a
	// non-empty one closes the session (a session rule, not checked here).
	NewSessionURI string
}

// Type implements Message.
func (*Goaway) Type() MessageType { return TypeGoaway }

// AppendPayload implements Message.
func (m *Goaway) AppendPayload(b []byte, _ Version) ([]byte, error) {
	if len(m.NewSessionURI) > MaxNewSessionURILen {
		return b, errLimit("new_session_uri", "%d bytes, the maximum is %d", len(m.NewSessionURI), MaxNewSessionURILen)
	}
	return appendString(b, m.NewSessionURI), nil
}

// DecodePayload implements Message.
func (m *Goaway) DecodePayload(b []byte, _ Version) error {
	d := decoder{b: b}
	m.NewSessionURI = string(d.bytes("new_session_uri", MaxNewSessionURILen))
	return d.done()
}

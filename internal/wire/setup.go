package wire

// ClientSetup is CLIENT_SETUP (draft-14 §9.3).
type ClientSetup struct {
	SupportedVersions []Version
	Params            SetupParams
}

// Type implements Message.
func (*ClientSetup) Type() MessageType { return TypeClientSetup }

// AppendPayload implements Message.
func (m *ClientSetup) AppendPayload(b []byte, _ Version) ([]byte, error) {
	if len(m.SupportedVersions) == 0 {
		return b, errInvalid("supported_versions", "CLIENT_SETUP must offer at least one version")
	}
	b = appendVarint(b, uint64(len(m.SupportedVersions)))
	for _, v := range m.SupportedVersions {
		b = appendVarint(b, uint64(v))
	}
	return appendKVs(b, m.Params)
}

// DecodePayload implements Message. Setup messages are decoded the same way
// whatever version is passed: their layout is shared by all versions.
func (m *ClientSetup) DecodePayload(b []byte, _ Version) error {
	d := decoder{b: b}
	n := d.varint("number_of_supported_versions")
	if d.err == nil && n == 0 {
		return errInvalid("supported_versions", "CLIENT_SETUP must offer at least one version")
	}
	if n > uint64(d.remaining()) { // each version takes at least one byte
		n = uint64(d.remaining()) + 1
	}
	m.SupportedVersions = m.SupportedVersions[:0]
	for i := uint64(0); i < n && d.err == nil; i++ {
		v := d.varint("supported_versions")
		if d.err == nil && v > 0xffffffff {
			d.fail(errInvalid("supported_versions", "version %#x is wider than 32 bits", v))
		}
		m.SupportedVersions = append(m.SupportedVersions, Version(v))
	}
	m.Params = d.setupParams("setup_parameters")
	return d.done()
}

// ServerSetup is SERVER_SETUP (draft-14 §9.3).
type ServerSetup struct {
	SelectedVersion Version
	Params          SetupParams
}

// Type implements Message.
func (*ServerSetup) Type() MessageType { return TypeServerSetup }

// AppendPayload implements Message.
func (m *ServerSetup) AppendPayload(b []byte, _ Version) ([]byte, error) {
	b = appendVarint(b, uint64(m.SelectedVersion))
	return appendKVs(b, m.Params)
}

// DecodePayload implements Message.
func (m *ServerSetup) DecodePayload(b []byte, _ Version) error {
	d := decoder{b: b}
	v := d.varint("selected_version")
	if d.err == nil && v > 0xffffffff {
		d.fail(errInvalid("selected_version", "version %#x is wider than 32 bits", v))
	}
	m.SelectedVersion = Version(v)
	m.Params = d.setupParams("setup_parameters")
	return d.done()
}

package wire

import "fmt"

// Version is a MoQ Transport version number as carried in CLIENT_SETUP and
// SERVER_SETUP (draft-14 §9.3.1).
type Version uint32

// Supported versions.
const (
	// Draft14 is draft-ietf-moq-transport-14.
	Draft14 Version = 0xff00000e
)

// ALPN is the TLS application protocol for MoQ over raw QUIC in draft-14
// (§3.1.2).
const ALPN = "moq-00"

// SupportedVersions lists the versions this package implements, most
// preferred first.
var SupportedVersions = []Version{Draft14}

// Supported reports whether the package implements v.
func (v Version) Supported() bool { return v.table() != nil }

// String returns "draft-14" for IETF drafts, or the hex number.
func (v Version) String() string {
	if v>>24 == 0xff && v&0xffff00 == 0 {
		return fmt.Sprintf("draft-%02d", uint32(v)&0xff)
	}
	return fmt.Sprintf("%#08x", uint32(v))
}

// versionTable is the data that describes one version: which message types it
// has and how to construct them. A new draft adds a table (and, where a
// message's layout changed, a branch on the version in that message's codec).
type versionTable struct {
	messages map[MessageType]func() Message
}

var tables = map[Version]*versionTable{
	Draft14: {messages: draft14Messages},
}

func (v Version) table() *versionTable { return tables[v] }

// MessageTypes returns the control message types defined for v.
func (v Version) MessageTypes() []MessageType {
	t := v.table()
	if t == nil {
		return nil
	}
	out := make([]MessageType, 0, len(t.messages))
	for mt := range t.messages {
		out = append(out, mt)
	}
	return out
}

// NewMessage returns a zero message of type t for version v, or nil if v does
// not define t.
func (v Version) NewMessage(t MessageType) Message {
	tb := v.table()
	if tb == nil {
		return nil
	}
	if f := tb.messages[t]; f != nil {
		return f()
	}
	return nil
}

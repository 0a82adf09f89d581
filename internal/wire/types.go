package wire

import "strings"

// Limits the draft-14 spec sets on fields (§2.4.1 Track Naming, §1.4.3 Reason
// Phrase, §1.4.2 Key-Value-Pair, §9 Control Messages).
const (
	MaxNamespaceFields = 32        // Track Namespace tuple has 1..32 fields
	MaxFullTrackName   = 4096      // namespace fields + track name, in bytes
	MaxReasonPhraseLen = 1024      // Reason Phrase Value, in bytes
	MaxKeyValueLen     = 1<<16 - 1 // Key-Value-Pair value, in bytes
	MaxMessageLen      = 1<<16 - 1 // control message payload, in bytes
)

// Namespace is a Track Namespace: an ordered tuple of byte strings. Go strings
// hold the fields so that namespaces can be compared and used as map keys;
// they may contain any bytes.
type Namespace []string

// String renders the namespace as a slash-separated path ("/a/b").
func (ns Namespace) String() string { return "/" + strings.Join(ns, "/") }

// HasPrefix reports whether prefix is a tuple prefix of ns (field-wise, not
// byte-wise: ["a","bc"] does not have prefix ["a","b"]).
func (ns Namespace) HasPrefix(prefix Namespace) bool {
	if len(prefix) > len(ns) {
		return false
	}
	for i := range prefix {
		if ns[i] != prefix[i] {
			return false
		}
	}
	return true
}

// Equal reports whether the two namespaces are the same tuple.
func (ns Namespace) Equal(o Namespace) bool {
	return len(ns) == len(o) && ns.HasPrefix(o)
}

func (ns Namespace) byteLen() int {
	n := 0
	for _, f := range ns {
		n += len(f)
	}
	return n
}

// Location identifies an Object in a Track: draft-14 §1.4.1.
type Location struct {
	Group  uint64
	Object uint64
}

// Less reports whether l sorts before o (group first, then object).
func (l Location) Less(o Location) bool {
	return l.Group < o.Group || (l.Group == o.Group && l.Object < o.Object)
}

// GroupOrder is the order in which groups are delivered: draft-14 §9.7.
type GroupOrder uint8

// Group orders. GroupOrderPublisher (0) is only valid in requests, where it
// means "use the publisher's order".
const (
	GroupOrderPublisher  GroupOrder = 0x0
	GroupOrderAscending  GroupOrder = 0x1
	GroupOrderDescending GroupOrder = 0x2
)

// FilterType is a SUBSCRIBE filter: draft-14 §5.1.2.
type FilterType uint64

// Subscription filter types.
const (
	FilterNextGroupStart FilterType = 0x1
	FilterLatestObject   FilterType = 0x2
	FilterAbsoluteStart  FilterType = 0x3
	FilterAbsoluteRange  FilterType = 0x4
)

// Valid reports whether f is a filter type draft-14 defines.
func (f FilterType) Valid() bool { return f >= FilterNextGroupStart && f <= FilterAbsoluteRange }

// FetchType is the kind of FETCH: draft-14 §9.16.
type FetchType uint64

// Fetch types.
const (
	FetchStandalone      FetchType = 0x1
	FetchRelativeJoining FetchType = 0x2
	FetchAbsoluteJoining FetchType = 0x3
)

// ObjectStatus is the status of an object: draft-14 §10.2.1.1.
type ObjectStatus uint64

// Object statuses.
const (
	StatusNormal       ObjectStatus = 0x0
	StatusDoesNotExist ObjectStatus = 0x1
	StatusEndOfGroup   ObjectStatus = 0x3
	StatusEndOfTrack   ObjectStatus = 0x4
)

// Valid reports whether s is a status draft-14 defines.
func (s ObjectStatus) Valid() bool {
	switch s {
	case StatusNormal, StatusDoesNotExist, StatusEndOfGroup, StatusEndOfTrack:
		return true
	}
	return false
}

// String returns the spec's name for the status.
func (s ObjectStatus) String() string {
	switch s {
	case StatusNormal:
		return "normal"
	case StatusDoesNotExist:
		return "does-not-exist"
	case StatusEndOfGroup:
		return "end-of-group"
	case StatusEndOfTrack:
		return "end-of-track"
	}
	return "unknown"
}

package moqt

import (
	"fmt"
	"strings"
	"time"

	"github.com/moqgo/moqgo/internal/wire"
)

// BroadcastPath names a broadcast: a slash-separated path such as
// "/live/room1". It maps to a draft-14 Track Namespace tuple, one field per
// path segment ("/a/b" is ["a", "b"]).
type BroadcastPath string

// namespace converts the path to a Track Namespace tuple.
func (p BroadcastPath) namespace() wire.Namespace {
	s := strings.Trim(string(p), "/")
	if s == "" {
		return wire.Namespace{}
	}
	return wire.Namespace(strings.Split(s, "/"))
}

func pathOf(ns wire.Namespace) BroadcastPath { return BroadcastPath(ns.String()) }

// TrackName names a track within a broadcast (draft-14 Track Name).
type TrackName string

// GroupSequence is a Group ID.
type GroupSequence uint64

// SubscribeID identifies a subscription within a session: the Request ID of
// its SUBSCRIBE.
type SubscribeID uint64

// GroupOrder is the order in which a publisher delivers groups.
type GroupOrder uint8

// Group orders.
const (
	GroupOrderDefault    = GroupOrder(wire.GroupOrderPublisher) // the publisher's choice
	GroupOrderAscending  = GroupOrder(wire.GroupOrderAscending)
	GroupOrderDescending = GroupOrder(wire.GroupOrderDescending)
)

// FilterType selects where a subscription starts (draft-14 §5.1.2).
type FilterType uint8

// Subscription filters. The zero value is FilterLatestObject.
const (
	// FilterLatestObject starts at the publisher's current object.
	FilterLatestObject FilterType = iota
	// FilterNextGroupStart starts at the beginning of the next group.
	FilterNextGroupStart
	// FilterAbsoluteStart starts at TrackConfig.StartGroup.
	FilterAbsoluteStart
	// FilterAbsoluteRange delivers groups StartGroup through EndGroup.
	FilterAbsoluteRange
)

func (f FilterType) wire() wire.FilterType {
	switch f {
	case FilterNextGroupStart:
		return wire.FilterNextGroupStart
	case FilterAbsoluteStart:
		return wire.FilterAbsoluteStart
	case FilterAbsoluteRange:
		return wire.FilterAbsoluteRange
	}
	return wire.FilterLatestObject
}

func filterFromWire(f wire.FilterType) FilterType {
	switch f {
	case wire.FilterNextGroupStart:
		return FilterNextGroupStart
	case wire.FilterAbsoluteStart:
		return FilterAbsoluteStart
	case wire.FilterAbsoluteRange:
		return FilterAbsoluteRange
	}
	return FilterLatestObject
}

// TrackConfig is what a subscriber asks of a track: the SUBSCRIBE fields
// (and, when changed, SUBSCRIBE_UPDATE).
type TrackConfig struct {
	// Priority is the subscriber priority; lower is more urgent.
	Priority uint8
	// GroupOrder is the requested group delivery order.
	GroupOrder GroupOrder
	// Filter selects where delivery starts.
	Filter FilterType
	// StartGroup and StartObject are the start location of
	// FilterAbsoluteStart and FilterAbsoluteRange.
	StartGroup  GroupSequence
	StartObject uint64
	// EndGroup is the last group of FilterAbsoluteRange (inclusive).
	EndGroup GroupSequence
	// Paused asks the publisher not to forward objects (Forward = 0) until a
	// later Update clears it.
	Paused bool
	// DeliveryTimeout, if set, is sent as the DELIVERY TIMEOUT parameter.
	DeliveryTimeout time.Duration
}

// inRange reports whether the config's filter admits group g.
func (c *TrackConfig) inRange(g GroupSequence) bool {
	switch c.Filter {
	case FilterAbsoluteStart:
		return g >= c.StartGroup
	case FilterAbsoluteRange:
		return g >= c.StartGroup && g <= c.EndGroup
	}
	return true
}

// Info is what a publisher tells a subscriber when it accepts a subscription
// (the fields of SUBSCRIBE_OK).
type Info struct {
	// GroupOrder is the order the publisher delivers groups in.
	GroupOrder GroupOrder
	// Expires is how long the subscription is valid; zero means no expiry.
	Expires time.Duration
	// ContentExists reports whether LatestGroup and LatestObject are set.
	ContentExists bool
	// LatestGroup and LatestObject are the largest location published so
	// far.
	LatestGroup  GroupSequence
	LatestObject uint64
}

// ObjectStatus is the status of an object (draft-14 §10.2.1.1).
type ObjectStatus uint64

// Object statuses.
const (
	StatusNormal       = ObjectStatus(wire.StatusNormal)
	StatusDoesNotExist = ObjectStatus(wire.StatusDoesNotExist)
	StatusEndOfGroup   = ObjectStatus(wire.StatusEndOfGroup)
	StatusEndOfTrack   = ObjectStatus(wire.StatusEndOfTrack)
)

// String returns the status's name: "normal", "does-not-exist",
// "end-of-group", "end-of-track", or "status-0x.." for a value draft-14
// does not define.
func (s ObjectStatus) String() string {
	if !wire.ObjectStatus(s).Valid() {
		return fmt.Sprintf("status-%#x", uint64(s))
	}
	return wire.ObjectStatus(s).String()
}

// Extension is one object extension header (draft-14 §10.2.1.2). An even
// Type carries Value; an odd Type carries Bytes.
type Extension struct {
	Type  uint64
	Value uint64
	Bytes []byte
}

// Object is one MoQT object with everything the wire carries for it. Most
// applications only need frames (GroupWriter.WriteFrame,
// GroupReader.ReadFrame); Object gives access to the object ID, status and
// extension headers.
type Object struct {
	// ID is the Object ID. When writing, zero means "the next ID" for all
	// but the first object; IDs must increase within a subgroup.
	ID uint64
	// Status is the object status; a non-normal status has no payload.
	Status ObjectStatus
	// Extensions are the object's extension headers.
	Extensions []Extension
	// Frame is the payload.
	Frame *Frame
}

// appendExtensions appends the extension headers block of exts to b.
func appendExtensions(b []byte, exts []Extension) ([]byte, error) {
	var err error
	for _, e := range exts {
		if b, err = wire.AppendExtension(b, wire.KeyValue{Type: e.Type, Value: e.Value, Bytes: e.Bytes}); err != nil {
			return b, err
		}
	}
	return b, nil
}

// parseExtensions returns the extension headers of a raw block, copied out
// of the reader's buffer.
func parseExtensions(raw []byte) ([]Extension, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	kvs, err := wire.ParseExtensions(raw)
	if err != nil {
		return nil, err
	}
	exts := make([]Extension, len(kvs))
	for i, kv := range kvs {
		exts[i] = Extension{Type: kv.Type, Value: kv.Value, Bytes: append([]byte(nil), kv.Bytes...)}
	}
	return exts, nil
}

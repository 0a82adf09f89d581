package moqt

import (
	"fmt"

	"github.com/moqgo/moqgo/internal/wire"
)

// FetchConfig is what a FETCH asks for: a range of past objects of a track
// (draft-14 §9.16).
type FetchConfig struct {
	// Priority is the subscriber priority; lower is more urgent.
	Priority uint8
	// GroupOrder is the order groups are delivered in; GroupOrderDefault
	// means the publisher's (ascending).
	GroupOrder GroupOrder
	// Start is the first location fetched.
	Start Location
	// End.Group is the last group fetched; End.Object, if not zero, is one
	// past the last object fetched in it, and zero means the whole group.
	// (This is the FETCH wire encoding: End Location plus 1.)
	End Location
}

// FetchInfo is what a publisher tells a fetcher when it accepts a FETCH (the
// fields of FETCH_OK).
type FetchInfo struct {
	// GroupOrder is the order the groups are delivered in.
	GroupOrder GroupOrder
	// EndOfTrack reports that the track ended and End is its last object.
	EndOfTrack bool
	// End is the end of what the response covers, encoded as FetchConfig.End
	// (one past the last object, or object zero for a whole group).
	End Location
}

// Request error codes specific to FETCH (draft-14 §9.18). FETCH_ERROR also
// uses the SubscribeError codes: SubscribeErrorTrackDoesNotExist,
// SubscribeErrorNotSupported, SubscribeErrorInternal and the others.
const (
	FetchErrorInvalidRange            = SubscribeErrorInvalidRange
	FetchErrorNoObjects               = SubscribeErrorCode(wire.ReqErrNoObjects)
	FetchErrorInvalidJoiningRequestID = SubscribeErrorCode(wire.ReqErrInvalidJoiningRequestID)
	FetchErrorUnknownStatusInRange    = SubscribeErrorCode(wire.ReqErrUnknownStatusInRange)
)

// FetchError reports a FETCH refused with FETCH_ERROR, or a fetch stream the
// publisher reset.
type FetchError struct {
	Code   SubscribeErrorCode
	Reason string
}

func (e *FetchError) Error() string {
	return fmt.Sprintf("moqt: fetch error %#x: %s", uint64(e.Code), e.Reason)
}

// FetchHandler serves FETCH requests: a TrackHandler that also implements
// FetchHandler gets, in its own goroutine, one ServeFetch call per FETCH for
// a track under its path (standalone or joining). ServeFetch answers with
// FetchWriter.WriteInfo and WriteObject, or refuses with CloseWithError; a
// FetchWriter left open is closed when ServeFetch returns. A handler that
// does not implement FetchHandler refuses every FETCH with NOT_SUPPORTED.
//
// TrackHistory, Track and Broadcast implement it from their history.
type FetchHandler interface {
	ServeFetch(*FetchWriter)
}

// TrackStatusHandler answers TRACK_STATUS: a TrackHandler that also
// implements it reports what it knows about a track without a
// subscription. A *SubscribeError return value refuses with its code; any
// other error with INTERNAL_ERROR. A handler that does not implement it
// refuses TRACK_STATUS with NOT_SUPPORTED.
//
// Track and Broadcast implement it from their history.
type TrackStatusHandler interface {
	TrackStatus(BroadcastPath, TrackName) (Info, error)
}

// resolveOrder maps GroupOrderDefault to the publisher's order, ascending.
func resolveOrder(o GroupOrder) GroupOrder {
	if o == GroupOrderDescending {
		return o
	}
	return GroupOrderAscending
}

// ServeFetch dispatches fw to the handler registered for its path, so that
// a TrackMux used as another mux's handler routes FETCH too.
func (m *TrackMux) ServeFetch(fw *FetchWriter) {
	switch h := m.handler(fw.BroadcastPath).(type) {
	case nil:
		fw.CloseWithError(SubscribeErrorTrackDoesNotExist)
	case FetchHandler:
		h.ServeFetch(fw)
	default:
		fw.CloseWithError(SubscribeErrorNotSupported)
	}
}

// TrackStatus asks the handler registered for path, as ServeFetch does.
func (m *TrackMux) TrackStatus(path BroadcastPath, name TrackName) (Info, error) {
	switch h := m.handler(path).(type) {
	case nil:
		return Info{}, &SubscribeError{Code: SubscribeErrorTrackDoesNotExist, Reason: "no such track"}
	case TrackStatusHandler:
		return h.TrackStatus(path, name)
	}
	return Info{}, &SubscribeError{Code: SubscribeErrorNotSupported, Reason: "TRACK_STATUS is not supported for this track"}
}

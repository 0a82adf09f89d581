package moqt

import (
	"errors"
	"fmt"

	"github.com/moqgo/moqgo/internal/wire"
)

// SessionErrorCode is a session termination code (draft-14 §13.1.1), sent
// when a session is closed.
type SessionErrorCode uint64

// Session termination codes.
const (
	ErrCodeNoError                  = SessionErrorCode(wire.ErrCodeNoError)
	ErrCodeInternalError            = SessionErrorCode(wire.ErrCodeInternalError)
	ErrCodeUnauthorized             = SessionErrorCode(wire.ErrCodeUnauthorized)
	ErrCodeProtocolViolation        = SessionErrorCode(wire.ErrCodeProtocolViolation)
	ErrCodeInvalidRequestID         = SessionErrorCode(wire.ErrCodeInvalidRequestID)
	ErrCodeDuplicateTrackAlias      = SessionErrorCode(wire.ErrCodeDuplicateTrackAlias)
	ErrCodeKeyValueFormattingError  = SessionErrorCode(wire.ErrCodeKeyValueFormattingError)
	ErrCodeTooManyRequests          = SessionErrorCode(wire.ErrCodeTooManyRequests)
	ErrCodeInvalidPath              = SessionErrorCode(wire.ErrCodeInvalidPath)
	ErrCodeMalformedPath            = SessionErrorCode(wire.ErrCodeMalformedPath)
	ErrCodeGoawayTimeout            = SessionErrorCode(wire.ErrCodeGoawayTimeout)
	ErrCodeControlMessageTimeout    = SessionErrorCode(wire.ErrCodeControlMessageTimeout)
	ErrCodeDataStreamTimeout        = SessionErrorCode(wire.ErrCodeDataStreamTimeout)
	ErrCodeVersionNegotiationFailed = SessionErrorCode(wire.ErrCodeVersionNegotiationFailed)
	ErrCodeMalformedAuthToken       = SessionErrorCode(wire.ErrCodeMalformedAuthToken)
	ErrCodeExpiredAuthToken         = SessionErrorCode(wire.ErrCodeExpiredAuthToken)
	ErrCodeInvalidAuthority         = SessionErrorCode(wire.ErrCodeInvalidAuthority)
	ErrCodeMalformedAuthority       = SessionErrorCode(wire.ErrCodeMalformedAuthority)
)

// SubscribeErrorCode is the code of a refused or ended subscription. Before
// SUBSCRIBE_OK it is sent in SUBSCRIBE_ERROR (draft-14 §13.1.2); after it,
// as the status code of PUBLISH_DONE (§13.1.3).
type SubscribeErrorCode uint64

// Subscribe error codes (SUBSCRIBE_ERROR).
const (
	SubscribeErrorInternal          = SubscribeErrorCode(wire.ReqErrInternalError)
	SubscribeErrorUnauthorized      = SubscribeErrorCode(wire.ReqErrUnauthorized)
	SubscribeErrorTimeout           = SubscribeErrorCode(wire.ReqErrTimeout)
	SubscribeErrorNotSupported      = SubscribeErrorCode(wire.ReqErrNotSupported)
	SubscribeErrorTrackDoesNotExist = SubscribeErrorCode(wire.ReqErrTrackDoesNotExist)
	SubscribeErrorInvalidRange      = SubscribeErrorCode(wire.ReqErrInvalidRange)
)

// PUBLISH_DONE status codes (draft-14 §13.1.3), as reported in
// *SubscribeError values once a subscription was established.
const (
	DoneInternalError     = SubscribeErrorCode(wire.DoneInternalError)
	DoneUnauthorized      = SubscribeErrorCode(wire.DoneUnauthorized)
	DoneTrackEnded        = SubscribeErrorCode(wire.DoneTrackEnded)
	DoneSubscriptionEnded = SubscribeErrorCode(wire.DoneSubscriptionEnded)
	DoneGoingAway         = SubscribeErrorCode(wire.DoneGoingAway)
	DoneExpired           = SubscribeErrorCode(wire.DoneExpired)
	DoneTooFarBehind      = SubscribeErrorCode(wire.DoneTooFarBehind)
)

// GroupErrorCode is the application error code a group's stream is reset
// (or stopped) with: draft-14 §13.1.8.
type GroupErrorCode uint64

// Group (data stream) error codes.
const (
	GroupErrorInternal        = GroupErrorCode(wire.ResetInternalError)
	GroupErrorCancelled       = GroupErrorCode(wire.ResetCancelled)
	GroupErrorDeliveryTimeout = GroupErrorCode(wire.ResetDeliveryTimeout)
	GroupErrorSessionClosed   = GroupErrorCode(wire.ResetSessionClosed)
)

// SessionError reports why a session ended. A session closed by either
// side carries the close's Code and Reason. A session whose connection
// failed under it (a QUIC transport error such as FLOW_CONTROL_ERROR, an
// idle timeout, a stateless reset) carries that failure in Err, with Code
// zero: no MoQT close was sent or received, so a zero Code alone does not
// mean the session ended cleanly.
type SessionError struct {
	Code   SessionErrorCode
	Reason string
	Remote bool  // the peer closed the session (or, with Err, the peer's transport reported the failure)
	Err    error // the transport failure that ended the session, if no close did
}

func (e *SessionError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("moqt: session lost: %v", e.Err)
	}
	who := "local"
	if e.Remote {
		who = "peer"
	}
	return fmt.Sprintf("moqt: session closed by %s: code %#x: %s", who, uint64(e.Code), e.Reason)
}

// Unwrap returns the transport failure that ended the session, if any.
func (e *SessionError) Unwrap() error { return e.Err }

// SubscribeError reports a subscription refused with SUBSCRIBE_ERROR or ended
// with PUBLISH_DONE.
type SubscribeError struct {
	Code   SubscribeErrorCode
	Reason string
	Done   bool // the error came from PUBLISH_DONE
}

func (e *SubscribeError) Error() string {
	if e.Done {
		return fmt.Sprintf("moqt: subscription done: status %#x: %s", uint64(e.Code), e.Reason)
	}
	return fmt.Sprintf("moqt: subscribe error %#x: %s", uint64(e.Code), e.Reason)
}

// GroupError reports a group whose stream was reset or stopped.
type GroupError struct {
	Code   GroupErrorCode
	Remote bool
}

func (e *GroupError) Error() string {
	return fmt.Sprintf("moqt: group canceled with code %#x", uint64(e.Code))
}

var (
	// ErrClosed is returned by operations on a closed track, group or
	// announcement reader.
	ErrClosed = errors.New("moqt: closed")
	// ErrOutOfRange is returned by OpenGroup for a group the subscriber's
	// filter excludes.
	ErrOutOfRange = errors.New("moqt: group outside the subscription's range")
	// ErrServerClosed is returned by Server.Serve after Shutdown or Close.
	ErrServerClosed = errors.New("moqt: server closed")
	// ErrFrameTooLarge is returned when a peer sends an object larger than
	// Config.MaxFrameSize.
	ErrFrameTooLarge = errors.New("moqt: frame too large")
	// ErrWouldBlock is returned by GroupWriter.TryWriteObjects when an
	// object cannot be queued without waiting: the subscription's send
	// buffer (Config.SendBuffer) is full, or the group is not sent
	// through the send scheduler.
	ErrWouldBlock = errors.New("moqt: write would block")
)

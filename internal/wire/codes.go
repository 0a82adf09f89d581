package wire

// SessionErrorCode is a session termination code: draft-14 §13.1.1.
type SessionErrorCode uint64

// Session termination codes.
const (
	ErrCodeNoError                  SessionErrorCode = 0x0
	ErrCodeInternalError            SessionErrorCode = 0x1
	ErrCodeUnauthorized             SessionErrorCode = 0x2
	ErrCodeProtocolViolation        SessionErrorCode = 0x3
	ErrCodeInvalidRequestID         SessionErrorCode = 0x4
	ErrCodeDuplicateTrackAlias      SessionErrorCode = 0x5
	ErrCodeKeyValueFormattingError  SessionErrorCode = 0x6
	ErrCodeTooManyRequests          SessionErrorCode = 0x7
	ErrCodeInvalidPath              SessionErrorCode = 0x8
	ErrCodeMalformedPath            SessionErrorCode = 0x9
	ErrCodeGoawayTimeout            SessionErrorCode = 0x10
	ErrCodeControlMessageTimeout    SessionErrorCode = 0x11
	ErrCodeDataStreamTimeout        SessionErrorCode = 0x12
	ErrCodeAuthTokenCacheOverflow   SessionErrorCode = 0x13
	ErrCodeDuplicateAuthTokenAlias  SessionErrorCode = 0x14
	ErrCodeVersionNegotiationFailed SessionErrorCode = 0x15
	ErrCodeMalformedAuthToken       SessionErrorCode = 0x16
	ErrCodeUnknownAuthTokenAlias    SessionErrorCode = 0x17
	ErrCodeExpiredAuthToken         SessionErrorCode = 0x18
	ErrCodeInvalidAuthority         SessionErrorCode = 0x19
	ErrCodeMalformedAuthority       SessionErrorCode = 0x1A
)

// Request error codes shared (with the same values) by SUBSCRIBE_ERROR,
// FETCH_ERROR, PUBLISH_ERROR, PUBLISH_NAMESPACE_ERROR and
// SUBSCRIBE_NAMESPACE_ERROR: draft-14 §13.1.2–§13.1.7.
const (
	ReqErrInternalError           uint64 = 0x0
	ReqErrUnauthorized            uint64 = 0x1
	ReqErrTimeout                 uint64 = 0x2
	ReqErrNotSupported            uint64 = 0x3
	ReqErrTrackDoesNotExist       uint64 = 0x4 // SUBSCRIBE_ERROR, FETCH_ERROR
	ReqErrUninterested            uint64 = 0x4 // PUBLISH_ERROR, PUBLISH_NAMESPACE_ERROR
	ReqErrNamespacePrefixUnknown  uint64 = 0x4 // SUBSCRIBE_NAMESPACE_ERROR
	ReqErrInvalidRange            uint64 = 0x5 // SUBSCRIBE_ERROR, FETCH_ERROR
	ReqErrNamespacePrefixOverlap  uint64 = 0x5 // SUBSCRIBE_NAMESPACE_ERROR
	ReqErrNoObjects               uint64 = 0x6 // FETCH_ERROR
	ReqErrInvalidJoiningRequestID uint64 = 0x7 // FETCH_ERROR
	ReqErrUnknownStatusInRange    uint64 = 0x8 // FETCH_ERROR
	ReqErrMalformedTrack          uint64 = 0x9 // FETCH_ERROR
	ReqErrMalformedAuthToken      uint64 = 0x10
	ReqErrExpiredAuthToken        uint64 = 0x12
)

// PUBLISH_DONE status codes: draft-14 §13.1.3.
const (
	DoneInternalError     uint64 = 0x0
	DoneUnauthorized      uint64 = 0x1
	DoneTrackEnded        uint64 = 0x2
	DoneSubscriptionEnded uint64 = 0x3
	DoneGoingAway         uint64 = 0x4
	DoneExpired           uint64 = 0x5
	DoneTooFarBehind      uint64 = 0x6
	DoneMalformedTrack    uint64 = 0x7
)

// Data stream reset codes: draft-14 §13.1.8.
const (
	ResetInternalError   uint64 = 0x0
	ResetCancelled       uint64 = 0x1
	ResetDeliveryTimeout uint64 = 0x2
	ResetSessionClosed   uint64 = 0x3
)

package wire

import (
	"errors"
	"fmt"
)

// ErrorKind classifies a decode or encode failure.
type ErrorKind uint8

// The kinds of codec errors. Their names match the error categories of the
// MoQT conformance vectors.
const (
	// KindIncomplete: the input ended before the field could be read.
	KindIncomplete ErrorKind = iota + 1
	// KindInvalidValue: a field holds a value the spec does not allow.
	KindInvalidValue
	// KindInvalidParameter: a known parameter has the wrong form.
	KindInvalidParameter
	// KindMissingParameter: a required parameter is absent.
	KindMissingParameter
	// KindDuplicateParameter: a parameter that may appear once appeared twice.
	KindDuplicateParameter
	// KindUnknownMessage: the message or stream type is not defined for the version.
	KindUnknownMessage
	// KindLimit: a field exceeds a limit the spec or the caller sets.
	KindLimit
)

var kindNames = [...]string{
	KindIncomplete:         "incomplete",
	KindInvalidValue:       "invalid_value",
	KindInvalidParameter:   "invalid_parameter",
	KindMissingParameter:   "missing_parameter",
	KindDuplicateParameter: "duplicate_parameter",
	KindUnknownMessage:     "unknown_message",
	KindLimit:              "limit_exceeded",
}

// String returns the conformance-vector name of the kind, e.g. "incomplete".
func (k ErrorKind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Error is the error type returned by every decoder in this package.
type Error struct {
	Kind  ErrorKind
	Field string // the spec's field name being read, in snake_case, if known
	// Type is the message or stream type being decoded (or the unknown type
	// for KindUnknownMessage).
	Type uint64
	// Detail is a human-readable explanation.
	Detail string
	// needMore is set when the input buffer ended (as opposed to a length
	// delimited unit ending early).
	needMore bool
}

// Error implements the error interface.
func (e *Error) Error() string {
	msg := "moq wire: " + e.Kind.String()
	if e.Field != "" {
		msg += " reading " + e.Field
	}
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}

// NeedMore reports whether the error only means that the input buffer was too
// short: the same bytes followed by more input may decode. It is false for an
// internally truncated, length-delimited unit, which is malformed.
func (e *Error) NeedMore() bool { return e.needMore }

// SessionCode is the draft-14 session termination code a receiver closes the
// session with when it receives input that fails with this error.
func (e *Error) SessionCode() SessionErrorCode {
	switch e.Kind {
	case KindInvalidParameter, KindDuplicateParameter:
		return ErrCodeKeyValueFormattingError
	default:
		return ErrCodeProtocolViolation
	}
}

// IsNeedMore reports whether err is a codec error that only means more input
// is needed.
func IsNeedMore(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.needMore
}

// KindOf returns the kind of a codec error, or 0 if err is not one.
func KindOf(err error) ErrorKind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return 0
}

func errIncomplete(field string) *Error {
	return &Error{Kind: KindIncomplete, Field: field, Detail: "unexpected end of input", needMore: true}
}

func errInvalid(field, format string, args ...any) *Error {
	return &Error{Kind: KindInvalidValue, Field: field, Detail: fmt.Sprintf(format, args...)}
}

func errLimit(field, format string, args ...any) *Error {
	return &Error{Kind: KindLimit, Field: field, Detail: fmt.Sprintf(format, args...)}
}

// truncated turns a need-more error into a malformed-input error: used when a
// length-delimited unit (a control message payload, a parameter value) ended
// inside a field although the outer input was complete.
func truncated(err error) error {
	var e *Error
	if errors.As(err, &e) && e.needMore {
		c := *e
		c.needMore = false
		c.Detail = "unit ended inside a field"
		return &c
	}
	return err
}

package wire

import (
	"encoding/binary"
	"fmt"
	"io"
)

// MessageType is a control message type (draft-14 §9).
type MessageType uint64

// Draft-14 control message types.
const (
	TypeClientSetup             MessageType = 0x20
	TypeServerSetup             MessageType = 0x21
	TypeGoaway                  MessageType = 0x10
	TypeMaxRequestID            MessageType = 0x15
	TypeRequestsBlocked         MessageType = 0x1A
	TypeSubscribe               MessageType = 0x03
	TypeSubscribeOK             MessageType = 0x04
	TypeSubscribeError          MessageType = 0x05
	TypeSubscribeUpdate         MessageType = 0x02
	TypeUnsubscribe             MessageType = 0x0A
	TypePublishDone             MessageType = 0x0B
	TypePublish                 MessageType = 0x1D
	TypePublishOK               MessageType = 0x1E
	TypePublishError            MessageType = 0x1F
	TypeFetch                   MessageType = 0x16
	TypeFetchOK                 MessageType = 0x18
	TypeFetchError              MessageType = 0x19
	TypeFetchCancel             MessageType = 0x17
	TypeTrackStatus             MessageType = 0x0D
	TypeTrackStatusOK           MessageType = 0x0E
	TypeTrackStatusError        MessageType = 0x0F
	TypePublishNamespace        MessageType = 0x06
	TypePublishNamespaceOK      MessageType = 0x07
	TypePublishNamespaceError   MessageType = 0x08
	TypePublishNamespaceDone    MessageType = 0x09
	TypePublishNamespaceCancel  MessageType = 0x0C
	TypeSubscribeNamespace      MessageType = 0x11
	TypeSubscribeNamespaceOK    MessageType = 0x12
	TypeSubscribeNamespaceError MessageType = 0x13
	TypeUnsubscribeNamespace    MessageType = 0x14
)

// Message is a control message. Implementations are the exported structs of
// this package (*Subscribe, *ClientSetup, ...). Decoded byte and string
// fields may alias the input buffer only where documented; strings are always
// copies.
type Message interface {
	// Type returns the message type.
	Type() MessageType
	// AppendPayload appends the message payload (without type and length).
	AppendPayload(b []byte, v Version) ([]byte, error)
	// DecodePayload decodes the whole of b as the payload. It fails if b has
	// bytes left over.
	DecodePayload(b []byte, v Version) error
}

// AppendMessage appends m framed as Type (i), Length (16), Payload. If m
// cannot be encoded it returns b as it was and the error.
func AppendMessage(b []byte, m Message, v Version) ([]byte, error) {
	start := len(b)
	b, err := AppendVarint(b, uint64(m.Type()))
	if err != nil {
		return b, err
	}
	lenAt := len(b)
	b = append(b, 0, 0)
	b, err = m.AppendPayload(b, v)
	if err != nil {
		return b[:start], err
	}
	n := len(b) - lenAt - 2
	if n > MaxMessageLen {
		return b[:start], errLimit("message_length", "%s payload is %d bytes, the maximum is %d", typeName(m.Type()), n, MaxMessageLen)
	}
	binary.BigEndian.PutUint16(b[lenAt:], uint16(n))
	return b, nil
}

// ParseMessage decodes one framed control message from the start of b and
// returns it with the number of bytes consumed. If b holds only part of the
// frame the error reports NeedMore. An unknown type yields a
// [KindUnknownMessage] error whose Type is the type read; the returned count
// then covers the whole frame, so a caller may skip it.
func ParseMessage(b []byte, v Version) (Message, int, error) {
	t, n, err := ParseVarint(b)
	if err != nil {
		return nil, 0, errIncomplete("message_type")
	}
	if len(b) < n+2 {
		return nil, 0, errIncomplete("message_length")
	}
	size := int(binary.BigEndian.Uint16(b[n:]))
	total := n + 2 + size
	if len(b) < total {
		return nil, 0, errIncomplete("message_payload")
	}
	m, err := decodeFramed(MessageType(t), b[n+2:total], v)
	if err != nil {
		if KindOf(err) == KindUnknownMessage {
			return nil, total, err
		}
		return nil, 0, err
	}
	return m, total, nil
}

// ReadMessage reads one framed control message from r, which should be
// buffered. buf is scratch space the payload is read into; it is returned
// (possibly grown) for reuse. Decoded messages never alias buf. io.EOF is
// returned only if r ends before the first byte.
func ReadMessage(r io.Reader, v Version, buf []byte) (Message, []byte, error) {
	br, ok := r.(io.ByteReader)
	if !ok {
		br = byteReader{r}
	}
	t, err := ReadVarint(br)
	if err != nil {
		return nil, buf, err
	}
	var lb [2]byte
	if _, err := io.ReadFull(r, lb[:]); err != nil {
		return nil, buf, eofToIncomplete(err, "message_length")
	}
	size := int(binary.BigEndian.Uint16(lb[:]))
	if cap(buf) < size {
		buf = make([]byte, size)
	}
	buf = buf[:size]
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, buf, eofToIncomplete(err, "message_payload")
	}
	m, err := decodeFramed(MessageType(t), buf, v)
	return m, buf, err
}

func decodeFramed(t MessageType, payload []byte, v Version) (Message, error) {
	if !v.Supported() {
		return nil, fmt.Errorf("moq wire: unsupported version %v", v)
	}
	m := v.NewMessage(t)
	if m == nil {
		return nil, &Error{Kind: KindUnknownMessage, Type: uint64(t), Detail: fmt.Sprintf("unknown message type %#x", uint64(t))}
	}
	if err := m.DecodePayload(payload, v); err != nil {
		if e, ok := err.(*Error); ok && e.Type == 0 {
			e.Type = uint64(t)
		}
		// The frame was complete: a short payload is malformed, not a
		// reason to wait for more bytes.
		return nil, truncated(err)
	}
	return m, nil
}

func eofToIncomplete(err error, field string) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return errIncomplete(field)
	}
	return err
}

type byteReader struct{ io.Reader }

func (r byteReader) ReadByte() (byte, error) {
	var b [1]byte
	_, err := io.ReadFull(r.Reader, b[:])
	return b[0], err
}

var typeNames = map[MessageType]string{
	TypeClientSetup: "CLIENT_SETUP", TypeServerSetup: "SERVER_SETUP", TypeGoaway: "GOAWAY",
	TypeMaxRequestID: "MAX_REQUEST_ID", TypeRequestsBlocked: "REQUESTS_BLOCKED",
	TypeSubscribe: "SUBSCRIBE", TypeSubscribeOK: "SUBSCRIBE_OK", TypeSubscribeError: "SUBSCRIBE_ERROR",
	TypeSubscribeUpdate: "SUBSCRIBE_UPDATE", TypeUnsubscribe: "UNSUBSCRIBE", TypePublishDone: "PUBLISH_DONE",
	TypePublish: "PUBLISH", TypePublishOK: "PUBLISH_OK", TypePublishError: "PUBLISH_ERROR",
	TypeFetch: "FETCH", TypeFetchOK: "FETCH_OK", TypeFetchError: "FETCH_ERROR", TypeFetchCancel: "FETCH_CANCEL",
	TypeTrackStatus: "TRACK_STATUS", TypeTrackStatusOK: "TRACK_STATUS_OK", TypeTrackStatusError: "TRACK_STATUS_ERROR",
	TypePublishNamespace: "PUBLISH_NAMESPACE", TypePublishNamespaceOK: "PUBLISH_NAMESPACE_OK",
	TypePublishNamespaceError: "PUBLISH_NAMESPACE_ERROR", TypePublishNamespaceDone: "PUBLISH_NAMESPACE_DONE",
	TypePublishNamespaceCancel: "PUBLISH_NAMESPACE_CANCEL", TypeSubscribeNamespace: "SUBSCRIBE_NAMESPACE",
	TypeSubscribeNamespaceOK: "SUBSCRIBE_NAMESPACE_OK", TypeSubscribeNamespaceError: "SUBSCRIBE_NAMESPACE_ERROR",
	TypeUnsubscribeNamespace: "UNSUBSCRIBE_NAMESPACE",
}

func typeName(t MessageType) string {
	if n, ok := typeNames[t]; ok {
		return n
	}
	return fmt.Sprintf("message %#x", uint64(t))
}

// String returns the spec's name of the message type, e.g. "SUBSCRIBE".
func (t MessageType) String() string { return typeName(t) }

// encoder helpers shared by message codecs.

func appendString(b []byte, s string) []byte {
	b = appendVarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendReason(b []byte, s string) ([]byte, error) {
	if len(s) > MaxReasonPhraseLen {
		return b, errLimit("reason_phrase", "%d bytes, the maximum is %d", len(s), MaxReasonPhraseLen)
	}
	return appendString(b, s), nil
}

func appendLocation(b []byte, l Location) ([]byte, error) {
	b, err := AppendVarint(b, l.Group)
	if err != nil {
		return b, err
	}
	return AppendVarint(b, l.Object)
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

// appendNamespace appends a tuple, checking the field count (min..32) and the
// Full Track Name limit together with extra (the track name length, or 0).
func appendNamespace(b []byte, ns Namespace, min int, extra int) ([]byte, error) {
	if len(ns) < min || len(ns) > MaxNamespaceFields {
		return b, errInvalid("track_namespace", "tuple has %d fields, must be %d..%d", len(ns), min, MaxNamespaceFields)
	}
	if ns.byteLen()+extra > MaxFullTrackName {
		return b, errLimit("track_namespace", "full track name longer than %d bytes", MaxFullTrackName)
	}
	b = appendVarint(b, uint64(len(ns)))
	for _, f := range ns {
		b = appendString(b, f)
	}
	return b, nil
}

// appendVarints appends each value, failing on the first that is out of range.
func appendVarints(b []byte, vs ...uint64) ([]byte, error) {
	for _, v := range vs {
		var err error
		if b, err = AppendVarint(b, v); err != nil {
			return b, err
		}
	}
	return b, nil
}

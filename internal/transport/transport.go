// Package transport hides the difference between raw QUIC and WebTransport
// from the MoQT session.
//
// MoQT (draft-14 §3.1) runs either directly on a QUIC connection negotiated
// with the ALPN "moq-00" or inside a WebTransport session over HTTP/3. Both
// offer the same primitives: bidirectional and unidirectional streams,
// datagrams, and closing with an application error code. The session layer
// uses only the small Conn interface defined here, so that it is written once
// and tested over both transports.
package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// Conn is a MoQT transport connection: a raw QUIC connection or a
// WebTransport session.
type Conn interface {
	// OpenStream opens a bidirectional stream, waiting for stream credit.
	OpenStream(ctx context.Context) (Stream, error)
	// CloseError returns, once the connection has ended, the close the
	// transport recorded, the peer's if the peer closed it; nil while the
	// connection is open or if it ended without an application close. A
	// pending read can fail with a local close that the transport issued
	// itself after the peer's (webtransport-go does so): this is how the
	// peer's code is recovered.
	CloseError() *ApplicationError
	// AcceptStream waits for the peer to open a bidirectional stream.
	AcceptStream(ctx context.Context) (Stream, error)
	// OpenUniStream opens a unidirectional stream, waiting for stream credit.
	OpenUniStream(ctx context.Context) (SendStream, error)
	// AcceptUniStream waits for the peer to open a unidirectional stream.
	AcceptUniStream(ctx context.Context) (ReceiveStream, error)
	// SendDatagram sends an unreliable datagram.
	SendDatagram(b []byte) error
	// ReceiveDatagram waits for a datagram.
	ReceiveDatagram(ctx context.Context) ([]byte, error)
	// CloseWithError closes the connection with an application error code
	// and a reason.
	CloseWithError(code uint64, reason string) error
	// Context is canceled when the connection closes.
	Context() context.Context
	// Protocol names the transport: "quic" or "webtransport".
	Protocol() string
}

// MaxReliableWrite bounds a TryWriteReliable write, and callers keep all
// they write with it on one stream within it too: it fits the
// packet-sized buffer quic-go copies such writes into, so the copy
// allocates nothing.
const MaxReliableWrite = 1200

// SendStream is the sending half of a stream.
type SendStream interface {
	io.Writer
	// Close ends the stream cleanly (FIN).
	Close() error
	// CancelWrite resets the stream with an application error code.
	CancelWrite(code uint64)
	// TryWriteReliable writes all of b at once, without waiting, so that
	// a later CancelWrite still delivers everything written up to b's end
	// (raw QUIC with a peer that supports RESET_STREAM_AT), and reports
	// whether it did. It writes nothing and reports false where it cannot:
	// over WebTransport, or when flow control has no room for b now. The
	// caller then writes b with Write, which may wait, and no reliable
	// part is promised: a reset may not declare bytes the sender has not
	// taken flow-control credit for (the peer would count them against
	// its window and close the connection). b must be small (at most
	// MaxReliableWrite bytes).
	TryWriteReliable(b []byte) bool
	// CancelWriteAfter writes prefix to a stream written nothing yet and
	// resets it with code, such that the peer still gets prefix where the
	// transport can promise it (see TryWriteReliable); elsewhere it is
	// CancelWrite. prefix must be small (a stream header).
	CancelWriteAfter(prefix []byte, code uint64)
	// SetWriteDeadline sets the deadline for current and future writes.
	SetWriteDeadline(t time.Time) error
	// SetPriority sets the urgency of the stream: 0 (most urgent) to 7.
	SetPriority(urgency int)
}

// ReceiveStream is the receiving half of a stream.
type ReceiveStream interface {
	io.Reader
	// CancelRead asks the peer to stop sending (STOP_SENDING) with an
	// application error code.
	CancelRead(code uint64)
	// SetReadDeadline sets the deadline for current and future reads.
	SetReadDeadline(t time.Time) error
	// StreamID returns the ID of the underlying QUIC stream. Streams are
	// opened in the order of their IDs, whatever order they are accepted
	// in.
	StreamID() uint64
}

// Stream is a bidirectional stream.
type Stream interface {
	SendStream
	ReceiveStream
}

// ApplicationError is how a connection closed with an application error code
// (by either side) is reported, whatever the transport.
type ApplicationError struct {
	Code   uint64
	Reason string
	Remote bool // the peer closed the connection
}

func (e *ApplicationError) Error() string {
	who := "local"
	if e.Remote {
		who = "remote"
	}
	return fmt.Sprintf("%s close: code %#x: %s", who, e.Code, e.Reason)
}

// StreamError reports a stream reset (or STOP_SENDING) with an application
// error code, whatever the transport.
type StreamError struct {
	Code   uint64
	Remote bool
}

func (e *StreamError) Error() string {
	return fmt.Sprintf("stream canceled with code %#x", e.Code)
}

// DatagramTooLargeError reports a datagram larger than the path and the
// peer allow; Max is the largest payload that SendDatagram would have
// accepted (for WebTransport it includes a few bytes of framing).
type DatagramTooLargeError struct {
	Max int
}

func (e *DatagramTooLargeError) Error() string {
	return fmt.Sprintf("datagram too large (at most %d bytes)", e.Max)
}

// ErrClosed is returned for operations on a connection closed without an
// application error (for example an idle timeout); the underlying error is
// wrapped.
var ErrClosed = errors.New("transport: connection closed")

package transport

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/quic-go/quic-go"
)

// NewQUIC adapts a raw QUIC connection (ALPN "moq-00").
func NewQUIC(c *quic.Conn) Conn { return &quicConn{c: c} }

type quicConn struct{ c *quic.Conn }

func (q *quicConn) Protocol() string         { return "quic" }
func (q *quicConn) Context() context.Context { return q.c.Context() }

// CloseError implements Conn: quic-go cancels the connection's context
// with the error it closed with.
func (q *quicConn) CloseError() *ApplicationError {
	ctx := q.c.Context()
	if ctx.Err() == nil {
		return nil
	}
	var ae *ApplicationError
	if errors.As(quicErr(context.Cause(ctx)), &ae) {
		return ae
	}
	return nil
}

func (q *quicConn) OpenStream(ctx context.Context) (Stream, error) {
	s, err := q.c.OpenStreamSync(ctx)
	if err != nil {
		return nil, quicErr(err)
	}
	return quicStream{quicSend[*quic.Stream]{s}, quicRecv[*quic.Stream]{s}}, nil
}

func (q *quicConn) AcceptStream(ctx context.Context) (Stream, error) {
	s, err := q.c.AcceptStream(ctx)
	if err != nil {
		return nil, quicErr(err)
	}
	return quicStream{quicSend[*quic.Stream]{s}, quicRecv[*quic.Stream]{s}}, nil
}

func (q *quicConn) OpenUniStream(ctx context.Context) (SendStream, error) {
	s, err := q.c.OpenUniStreamSync(ctx)
	if err != nil {
		return nil, quicErr(err)
	}
	return quicSend[*quic.SendStream]{s}, nil
}

func (q *quicConn) AcceptUniStream(ctx context.Context) (ReceiveStream, error) {
	s, err := q.c.AcceptUniStream(ctx)
	if err != nil {
		return nil, quicErr(err)
	}
	return quicRecv[*quic.ReceiveStream]{s}, nil
}

func (q *quicConn) SendDatagram(b []byte) error { return quicErr(q.c.SendDatagram(b)) }

func (q *quicConn) ReceiveDatagram(ctx context.Context) ([]byte, error) {
	b, err := q.c.ReceiveDatagram(ctx)
	return b, quicErr(err)
}

func (q *quicConn) CloseWithError(code uint64, reason string) error {
	return q.c.CloseWithError(quic.ApplicationErrorCode(code), reason)
}

// quicSender is what *quic.SendStream and *quic.Stream have in common.
type quicSender interface {
	Write([]byte) (int, error)
	Close() error
	CancelWrite(quic.StreamErrorCode)
	SetWriteDeadline(time.Time) error
	SetPriority(int8, bool)
	TryWriteAll([]byte) error
	SetReliableBoundary()
}

// quicReceiver is what *quic.ReceiveStream and *quic.Stream have in common.
type quicReceiver interface {
	Read([]byte) (int, error)
	CancelRead(quic.StreamErrorCode)
	SetReadDeadline(time.Time) error
	StreamID() quic.StreamID
}

// quicSend and quicRecv are generic over the quic-go stream type, not
// interfaces around it: with S a pointer they are pointer-shaped, so storing
// one in a SendStream or ReceiveStream allocates nothing (one allocation
// saved per data stream on each side).
type quicSend[S quicSender] struct{ s S }

func (s quicSend[S]) Write(b []byte) (int, error) {
	n, err := s.s.Write(b)
	return n, quicErr(err)
}
func (s quicSend[S]) Close() error                       { return s.s.Close() }
func (s quicSend[S]) CancelWrite(code uint64)            { s.s.CancelWrite(quic.StreamErrorCode(code)) }
func (s quicSend[S]) SetWriteDeadline(t time.Time) error { return s.s.SetWriteDeadline(t) }
func (s quicSend[S]) SetPriority(u int)                  { s.s.SetPriority(int8(u), false) }

// TryWriteReliable implements SendStream with quic-go's TryWriteAll, which
// takes the flow-control credit for b at once, then SetReliableBoundary.
// quic-go's RESET_STREAM_AT declares a final size of at least the reliable
// size but takes credit only for bytes it has sent or reserved: a boundary
// over bytes a plain Write left unsent would let the reset overrun the
// peer's connection window (FLOW_CONTROL_ERROR). If the peer did not
// enable RESET_STREAM_AT, the boundary is a no-op and the bytes are
// simply written.
func (s quicSend[S]) TryWriteReliable(b []byte) bool {
	if len(b) > MaxReliableWrite || s.s.TryWriteAll(b) != nil {
		return false
	}
	s.s.SetReliableBoundary()
	return true
}

// CancelWriteAfter implements SendStream: see TryWriteReliable.
func (s quicSend[S]) CancelWriteAfter(prefix []byte, code uint64) {
	s.TryWriteReliable(prefix)
	s.s.CancelWrite(quic.StreamErrorCode(code))
}

type quicRecv[S quicReceiver] struct{ s S }

func (r quicRecv[S]) Read(b []byte) (int, error) {
	n, err := r.s.Read(b)
	return n, quicErr(err)
}
func (r quicRecv[S]) CancelRead(code uint64)            { r.s.CancelRead(quic.StreamErrorCode(code)) }
func (r quicRecv[S]) SetReadDeadline(t time.Time) error { return r.s.SetReadDeadline(t) }
func (r quicRecv[S]) StreamID() uint64                  { return uint64(r.s.StreamID()) }

type quicStream struct {
	quicSend[*quic.Stream]
	quicRecv[*quic.Stream]
}

// quicErr converts quic-go's connection and stream errors into the
// transport-independent ones; other errors are returned as they are. The
// common results of a read (nil, io.EOF) return before any errors.As, whose
// target would otherwise be allocated on every call.
func quicErr(err error) error {
	if err == nil || err == io.EOF {
		return err
	}
	return convertQUICErr(err)
}

func convertQUICErr(err error) error {
	var ae *quic.ApplicationError
	if errors.As(err, &ae) {
		return &ApplicationError{Code: uint64(ae.ErrorCode), Reason: ae.ErrorMessage, Remote: ae.Remote}
	}
	var se *quic.StreamError
	if errors.As(err, &se) {
		return &StreamError{Code: uint64(se.ErrorCode), Remote: se.Remote}
	}
	var de *quic.DatagramTooLargeError
	if errors.As(err, &de) {
		return &DatagramTooLargeError{Max: int(de.MaxDatagramPayloadSize)}
	}
	return err
}

// ConnLost reports whether err, from a stream or a connection, says that
// the QUIC connection itself failed (a transport error, an idle or
// handshake timeout, a stateless reset), rather than that a stream or an
// application close ended. Over WebTransport a stream read can report it
// before the session does.
func ConnLost(err error) bool {
	var (
		te *quic.TransportError
		it *quic.IdleTimeoutError
		ht *quic.HandshakeTimeoutError
		sr *quic.StatelessResetError
	)
	return errors.As(err, &te) || errors.As(err, &it) || errors.As(err, &ht) || errors.As(err, &sr)
}

// RemoteFailure reports whether err, the failure that ended a connection,
// was the peer's (a CONNECTION_CLOSE with a QUIC transport error code)
// rather than detected here (a local transport error, an idle timeout).
func RemoteFailure(err error) bool {
	var te *quic.TransportError
	return errors.As(err, &te) && te.Remote
}

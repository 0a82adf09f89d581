package transport

import (
	"context"
	"errors"
	"time"

	"github.com/quic-go/quic-go"
)

// NewQUIC adapts a raw QUIC connection (ALPN "moq-00").
func NewQUIC(c *quic.Conn) Conn { return &quicConn{c: c} }

type quicConn struct{ c *quic.Conn }

func (q *quicConn) Protocol() string         { return "quic" }
func (q *quicConn) Context() context.Context { return q.c.Context() }

func (q *quicConn) OpenStream(ctx context.Context) (Stream, error) {
	s, err := q.c.OpenStreamSync(ctx)
	if err != nil {
		return nil, quicErr(err)
	}
	return &quicStream{quicSend{s}, quicRecv{s}}, nil
}

func (q *quicConn) AcceptStream(ctx context.Context) (Stream, error) {
	s, err := q.c.AcceptStream(ctx)
	if err != nil {
		return nil, quicErr(err)
	}
	return &quicStream{quicSend{s}, quicRecv{s}}, nil
}

func (q *quicConn) OpenUniStream(ctx context.Context) (SendStream, error) {
	s, err := q.c.OpenUniStreamSync(ctx)
	if err != nil {
		return nil, quicErr(err)
	}
	return quicSend{s}, nil
}

func (q *quicConn) AcceptUniStream(ctx context.Context) (ReceiveStream, error) {
	s, err := q.c.AcceptUniStream(ctx)
	if err != nil {
		return nil, quicErr(err)
	}
	return quicRecv{s}, nil
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
}

// quicReceiver is what *quic.ReceiveStream and *quic.Stream have in common.
type quicReceiver interface {
	Read([]byte) (int, error)
	CancelRead(quic.StreamErrorCode)
	SetReadDeadline(time.Time) error
}

type quicSend struct{ s quicSender }

func (s quicSend) Write(b []byte) (int, error) {
	n, err := s.s.Write(b)
	return n, quicErr(err)
}
func (s quicSend) Close() error                       { return s.s.Close() }
func (s quicSend) CancelWrite(code uint64)            { s.s.CancelWrite(quic.StreamErrorCode(code)) }
func (s quicSend) SetWriteDeadline(t time.Time) error { return s.s.SetWriteDeadline(t) }
func (s quicSend) SetPriority(u int)                  { s.s.SetPriority(int8(u), false) }

type quicRecv struct{ s quicReceiver }

func (r quicRecv) Read(b []byte) (int, error) {
	n, err := r.s.Read(b)
	return n, quicErr(err)
}
func (r quicRecv) CancelRead(code uint64)            { r.s.CancelRead(quic.StreamErrorCode(code)) }
func (r quicRecv) SetReadDeadline(t time.Time) error { return r.s.SetReadDeadline(t) }

type quicStream struct {
	quicSend
	quicRecv
}

// quicErr converts quic-go's connection and stream errors into the
// transport-independent ones; other errors are returned as they are.
func quicErr(err error) error {
	if err == nil {
		return nil
	}
	var ae *quic.ApplicationError
	if errors.As(err, &ae) {
		return &ApplicationError{Code: uint64(ae.ErrorCode), Reason: ae.ErrorMessage, Remote: ae.Remote}
	}
	var se *quic.StreamError
	if errors.As(err, &se) {
		return &StreamError{Code: uint64(se.ErrorCode), Remote: se.Remote}
	}
	return err
}

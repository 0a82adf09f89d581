package transport

import (
	"context"
	"errors"
	"time"

	"github.com/quic-go/webtransport-go"
)

// NewWebTransport adapts a WebTransport session. WebTransport error codes
// are 32 bits wide; larger MoQT codes are truncated when sent.
func NewWebTransport(s *webtransport.Session) Conn { return &wtConn{s: s} }

type wtConn struct{ s *webtransport.Session }

func (w *wtConn) Protocol() string         { return "webtransport" }
func (w *wtConn) Context() context.Context { return w.s.Context() }

func (w *wtConn) OpenStream(ctx context.Context) (Stream, error) {
	s, err := w.s.OpenStreamSync(ctx)
	if err != nil {
		return nil, wtErr(err)
	}
	return &wtStream{wtSend{s}, wtRecv{s}}, nil
}

func (w *wtConn) AcceptStream(ctx context.Context) (Stream, error) {
	s, err := w.s.AcceptStream(ctx)
	if err != nil {
		return nil, wtErr(err)
	}
	return &wtStream{wtSend{s}, wtRecv{s}}, nil
}

func (w *wtConn) OpenUniStream(ctx context.Context) (SendStream, error) {
	s, err := w.s.OpenUniStreamSync(ctx)
	if err != nil {
		return nil, wtErr(err)
	}
	return wtSend{s}, nil
}

func (w *wtConn) AcceptUniStream(ctx context.Context) (ReceiveStream, error) {
	s, err := w.s.AcceptUniStream(ctx)
	if err != nil {
		return nil, wtErr(err)
	}
	return wtRecv{s}, nil
}

func (w *wtConn) SendDatagram(b []byte) error { return wtErr(w.s.SendDatagram(b)) }

func (w *wtConn) ReceiveDatagram(ctx context.Context) ([]byte, error) {
	b, err := w.s.ReceiveDatagram(ctx)
	return b, wtErr(err)
}

func (w *wtConn) CloseWithError(code uint64, reason string) error {
	return w.s.CloseWithError(webtransport.SessionErrorCode(code), reason)
}

type wtSender interface {
	Write([]byte) (int, error)
	Close() error
	CancelWrite(webtransport.StreamErrorCode)
	SetWriteDeadline(time.Time) error
}

type wtReceiver interface {
	Read([]byte) (int, error)
	CancelRead(webtransport.StreamErrorCode)
	SetReadDeadline(time.Time) error
}

type wtSend struct{ s wtSender }

func (s wtSend) Write(b []byte) (int, error) {
	n, err := s.s.Write(b)
	return n, wtErr(err)
}
func (s wtSend) Close() error                       { return s.s.Close() }
func (s wtSend) CancelWrite(code uint64)            { s.s.CancelWrite(webtransport.StreamErrorCode(code)) }
func (s wtSend) SetWriteDeadline(t time.Time) error { return s.s.SetWriteDeadline(t) }

// SetPriority is a no-op: webtransport-go does not expose stream priorities.
func (s wtSend) SetPriority(int) {}

type wtRecv struct{ s wtReceiver }

func (r wtRecv) Read(b []byte) (int, error) {
	n, err := r.s.Read(b)
	return n, wtErr(err)
}
func (r wtRecv) CancelRead(code uint64)            { r.s.CancelRead(webtransport.StreamErrorCode(code)) }
func (r wtRecv) SetReadDeadline(t time.Time) error { return r.s.SetReadDeadline(t) }

type wtStream struct {
	wtSend
	wtRecv
}

func wtErr(err error) error {
	if err == nil {
		return nil
	}
	var se *webtransport.SessionError
	if errors.As(err, &se) {
		return &ApplicationError{Code: uint64(se.ErrorCode), Reason: se.Message, Remote: se.Remote}
	}
	var ste *webtransport.StreamError
	if errors.As(err, &ste) {
		return &StreamError{Code: uint64(ste.ErrorCode), Remote: ste.Remote}
	}
	return quicErr(err)
}

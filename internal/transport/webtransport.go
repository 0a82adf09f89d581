package transport

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/webtransport-go"
)

// NewWebTransport adapts a WebTransport session. WebTransport error codes
// are 32 bits wide; larger MoQT codes are truncated when sent.
func NewWebTransport(s *webtransport.Session) Conn { return &wtConn{s: s} }

type wtConn struct{ s *webtransport.Session }

func (w *wtConn) Protocol() string         { return "webtransport" }
func (w *wtConn) Context() context.Context { return w.s.Context() }

// CloseError implements Conn. Once the peer's CLOSE_WEBTRANSPORT_SESSION
// ended the session, webtransport-go closes the QUIC connection locally
// (H3_NO_ERROR), and a read still pending can return that local close; the
// session keeps the peer's close and returns it from every later call, so
// opening a stream with a canceled context (nothing is opened on an ended
// session) recovers it.
func (w *wtConn) CloseError() *ApplicationError {
	if w.s.Context().Err() == nil {
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	st, err := w.s.OpenStreamSync(ctx)
	if st != nil {
		st.CancelRead(0)
		st.CancelWrite(0)
	}
	var ae *ApplicationError
	if errors.As(wtErr(err), &ae) {
		return ae
	}
	return nil
}

func (w *wtConn) OpenStream(ctx context.Context) (Stream, error) {
	s, err := w.s.OpenStreamSync(ctx)
	if err != nil {
		return nil, wtErr(err)
	}
	return wtStream{wtSend[*webtransport.Stream]{s}, wtRecv[*webtransport.Stream]{s}}, nil
}

func (w *wtConn) AcceptStream(ctx context.Context) (Stream, error) {
	s, err := w.s.AcceptStream(ctx)
	if err != nil {
		return nil, wtErr(err)
	}
	return wtStream{wtSend[*webtransport.Stream]{s}, wtRecv[*webtransport.Stream]{s}}, nil
}

func (w *wtConn) OpenUniStream(ctx context.Context) (SendStream, error) {
	s, err := w.s.OpenUniStreamSync(ctx)
	if err != nil {
		return nil, wtErr(err)
	}
	return wtSend[*webtransport.SendStream]{s}, nil
}

func (w *wtConn) AcceptUniStream(ctx context.Context) (ReceiveStream, error) {
	s, err := w.s.AcceptUniStream(ctx)
	if err != nil {
		return nil, wtErr(err)
	}
	return wtRecv[*webtransport.ReceiveStream]{s}, nil
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
	StreamID() quic.StreamID
}

// wtSend and wtRecv are pointer-shaped like quicSend and quicRecv, so that
// wrapping a stream allocates nothing.
type wtSend[S wtSender] struct{ s S }

func (s wtSend[S]) Write(b []byte) (int, error) {
	n, err := s.s.Write(b)
	return n, wtErr(err)
}
func (s wtSend[S]) Close() error            { return s.s.Close() }
func (s wtSend[S]) CancelWrite(code uint64) { s.s.CancelWrite(webtransport.StreamErrorCode(code)) }

// TryWriteReliable implements SendStream: webtransport-go keeps
// RESET_STREAM_AT to its own stream header, so it writes nothing.
func (s wtSend[S]) TryWriteReliable([]byte) bool { return false }

// CancelWriteAfter implements SendStream: webtransport-go keeps
// RESET_STREAM_AT to its own stream header, so prefix is dropped.
func (s wtSend[S]) CancelWriteAfter(_ []byte, code uint64) { s.CancelWrite(code) }
func (s wtSend[S]) SetWriteDeadline(t time.Time) error     { return s.s.SetWriteDeadline(t) }

// SetPriority is a no-op: webtransport-go does not expose stream priorities.
func (s wtSend[S]) SetPriority(int) {}

type wtRecv[S wtReceiver] struct{ s S }

func (r wtRecv[S]) Read(b []byte) (int, error) {
	n, err := r.s.Read(b)
	return n, wtErr(err)
}
func (r wtRecv[S]) CancelRead(code uint64)            { r.s.CancelRead(webtransport.StreamErrorCode(code)) }
func (r wtRecv[S]) SetReadDeadline(t time.Time) error { return r.s.SetReadDeadline(t) }
func (r wtRecv[S]) StreamID() uint64                  { return uint64(r.s.StreamID()) }

type wtStream struct {
	wtSend[*webtransport.Stream]
	wtRecv[*webtransport.Stream]
}

// wtErr converts webtransport-go's errors like quicErr, with the same fast
// path for nil and io.EOF.
func wtErr(err error) error {
	if err == nil || err == io.EOF {
		return err
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

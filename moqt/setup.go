package moqt

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"

	"github.com/moqgo/moqgo/internal/transport"
	"github.com/moqgo/moqgo/internal/wire"
)

// implementation is sent in the MOQT IMPLEMENTATION setup parameter.
const implementation = "moqgo"

// SetupRequest is a client's CLIENT_SETUP as the server's SetupHandler sees
// it.
type SetupRequest struct {
	// Path is the PATH parameter (raw QUIC) or the URL path (WebTransport),
	// with the query if there is one ("/moq?jwt=...").
	Path string
	// Authority is the AUTHORITY parameter (raw QUIC) or the URL host
	// (WebTransport).
	Authority string
	// AuthorizationToken is the value of the first AUTHORIZATION TOKEN
	// parameter, if any.
	AuthorizationToken []byte
	// Versions are the versions the client offered.
	Versions []Version
	// Version is the version selected.
	Version Version
	// Protocol is "quic" or "webtransport".
	Protocol string
	// RemoteAddr is the client's address, if known.
	RemoteAddr net.Addr

	ctx context.Context
}

// Context returns the context of the setup, canceled if the connection
// closes.
func (r *SetupRequest) Context() context.Context { return r.ctx }

// SetupResponseWriter answers a SetupRequest: Accept sends SERVER_SETUP
// and starts the session, Reject closes the connection.
type SetupResponseWriter interface {
	// Accept accepts the session; mux serves the client's subscriptions.
	Accept(mux *TrackMux) (*Session, error)
	// Reject refuses the session, closing it with code and reason.
	Reject(code SessionErrorCode, reason string)
}

// SetupHandler decides whether a client may start a session, like an
// http.Handler. If ServeSetup returns without calling Accept or Reject the
// session is accepted with the Server's TrackMux.
type SetupHandler interface {
	ServeSetup(w SetupResponseWriter, r *SetupRequest)
}

// SetupHandlerFunc adapts a function to a SetupHandler.
type SetupHandlerFunc func(w SetupResponseWriter, r *SetupRequest)

// ServeSetup calls f(w, r).
func (f SetupHandlerFunc) ServeSetup(w SetupResponseWriter, r *SetupRequest) { f(w, r) }

type setupResponse struct {
	s        *Session
	register func(*Session) bool // tracks the session before SERVER_SETUP
	answered bool
}

func (w *setupResponse) Accept(mux *TrackMux) (*Session, error) {
	if w.answered {
		return nil, errors.New("moqt: setup already answered")
	}
	w.answered = true
	s := w.s
	s.mux = mux
	if w.register != nil && !w.register(s) {
		s.closeLocal(&SessionError{Code: ErrCodeNoError, Reason: "server closed"}, true)
		return nil, ErrServerClosed
	}
	var p wire.SetupParams
	p.SetMaxRequestID(s.ourMaxReqID)
	p.SetImplementation(implementation)
	if err := s.writeControl(&wire.ServerSetup{SelectedVersion: s.version, Params: p}); err != nil {
		return nil, err
	}
	s.start()
	return s, nil
}

func (w *setupResponse) Reject(code SessionErrorCode, reason string) {
	if w.answered {
		return
	}
	w.answered = true
	w.s.closeLocal(&SessionError{Code: code, Reason: reason}, true)
}

// serverSetup runs the server side of the setup exchange on conn and calls
// h. wtPath and wtAuthority are the WebTransport URL's path and host.
func serverSetup(ctx context.Context, conn transport.Conn, cfg *Config, log *slog.Logger, h SetupHandler, mux *TrackMux, register func(*Session) bool, wtPath, wtAuthority string, remote net.Addr) (*Session, error) {
	s := newSession(conn, cfg, log, nil, false)
	ctx, cancel := context.WithTimeout(ctx, cfg.SetupTimeout)
	defer cancel()
	stop := context.AfterFunc(ctx, func() {
		_ = conn.CloseWithError(uint64(ErrCodeControlMessageTimeout), "setup timeout")
	})
	defer stop()
	ctrl, err := conn.AcceptStream(ctx)
	if err != nil {
		return nil, err
	}
	s.ctrl, s.ctrlR.r = ctrl, ctrl
	m, _, err := wire.ReadMessage(&s.ctrlR, s.version, nil)
	if err != nil {
		s.failErr(err)
		return nil, s.sessionErr()
	}
	cs, ok := m.(*wire.ClientSetup)
	if !ok {
		s.fail(ErrCodeProtocolViolation, "first message is %v, not CLIENT_SETUP", m.Type())
		return nil, s.sessionErr()
	}
	req := &SetupRequest{Protocol: conn.Protocol(), RemoteAddr: remote, ctx: ctx}
	for _, v := range cs.SupportedVersions {
		req.Versions = append(req.Versions, Version(v))
	}
	req.Version = selectVersion(cfg.Versions, req.Versions)
	if req.Version == 0 {
		s.fail(ErrCodeVersionNegotiationFailed, "no common version: client offers %v, server supports %v", req.Versions, cfg.Versions)
		return nil, s.sessionErr()
	}
	s.version = wire.Version(req.Version)
	if err := s.readPeerParams(cs.Params); err != nil {
		return nil, err
	}
	path, hasPath := cs.Params.Path()
	if conn.Protocol() == "webtransport" {
		if hasPath {
			s.fail(ErrCodeInvalidPath, "PATH parameter over WebTransport")
			return nil, s.sessionErr()
		}
		req.Path, req.Authority = wtPath, wtAuthority
	} else {
		req.Path = path
		req.Authority, _ = cs.Params.Authority()
	}
	toks, err := cs.Params.AuthorizationTokens()
	if err != nil {
		s.fail(ErrCodeMalformedAuthToken, "%v", err)
		return nil, s.sessionErr()
	}
	for _, t := range toks {
		if t.AliasType == wire.AliasUseValue || t.AliasType == wire.AliasRegister {
			req.AuthorizationToken = t.Value
			break
		}
	}
	w := &setupResponse{s: s, register: register}
	if h != nil {
		h.ServeSetup(w, req)
	}
	if !w.answered {
		if _, err := w.Accept(mux); err != nil {
			return nil, err
		}
	}
	if s.ctx.Err() != nil {
		return nil, s.sessionErr()
	}
	return s, nil
}

// readPeerParams applies the peer's setup parameters.
func (s *Session) readPeerParams(p wire.SetupParams) error {
	max, _ := p.MaxRequestID()
	s.peerMaxReqID = max
	return nil
}

// selectVersion returns the first of ours the peer offers, or 0.
func selectVersion(ours, theirs []Version) Version {
	for _, v := range ours {
		for _, t := range theirs {
			if v == t {
				return v
			}
		}
	}
	return 0
}

// clientSetup runs the client side of the setup exchange.
func clientSetup(ctx context.Context, conn transport.Conn, cfg *Config, log *slog.Logger, mux *TrackMux, path, authority string, token []byte) (*Session, error) {
	s := newSession(conn, cfg, log, mux, true)
	ctx, cancel := context.WithTimeout(ctx, cfg.SetupTimeout)
	defer cancel()
	stop := context.AfterFunc(ctx, func() {
		_ = conn.CloseWithError(uint64(ErrCodeControlMessageTimeout), "setup timeout")
	})
	defer stop()
	ctrl, err := conn.OpenStream(ctx)
	if err != nil {
		return nil, err
	}
	s.ctrl, s.ctrlR.r = ctrl, ctrl
	cs := &wire.ClientSetup{}
	for _, v := range cfg.Versions {
		cs.SupportedVersions = append(cs.SupportedVersions, wire.Version(v))
	}
	cs.Params.SetMaxRequestID(s.ourMaxReqID)
	cs.Params.SetImplementation(implementation)
	if conn.Protocol() == "quic" {
		cs.Params.SetPath(path)
		cs.Params.SetAuthority(authority)
	}
	if token != nil {
		if err := cs.Params.AddAuthorizationToken(wire.AuthToken{AliasType: wire.AliasUseValue, Value: token}); err != nil {
			return nil, err
		}
	}
	if err := s.writeControl(cs); err != nil {
		return nil, err
	}
	m, _, err := wire.ReadMessage(&s.ctrlR, s.version, nil)
	if err != nil {
		s.failErr(err)
		return nil, s.sessionErr()
	}
	ss, ok := m.(*wire.ServerSetup)
	if !ok {
		s.fail(ErrCodeProtocolViolation, "first message is %v, not SERVER_SETUP", m.Type())
		return nil, s.sessionErr()
	}
	if selectVersion(cfg.Versions, []Version{Version(ss.SelectedVersion)}) == 0 {
		s.fail(ErrCodeVersionNegotiationFailed, "server selected %v, which was not offered", ss.SelectedVersion)
		return nil, s.sessionErr()
	}
	s.version = ss.SelectedVersion
	if err := s.readPeerParams(ss.Params); err != nil {
		return nil, err
	}
	s.start()
	return s, nil
}

func (v Version) String() string { return fmt.Sprint(wire.Version(v)) }

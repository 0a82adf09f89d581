package moqt

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"

	"github.com/moqgo/moqgo/internal/transport"
	"github.com/moqgo/moqgo/internal/wire"
	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"
	"github.com/quic-go/webtransport-go"
)

// Server accepts MoQT sessions over raw QUIC (ALPN "moq-00") and
// WebTransport (ALPN "h3") on one UDP port.
type Server struct {
	// Addr is the UDP address ListenAndServe listens on.
	Addr string
	// TLSConfig holds the server certificate. Its NextProtos are replaced.
	TLSConfig *tls.Config
	// QUICConfig configures QUIC; datagrams and stream reset partial
	// delivery are always enabled.
	QUICConfig *quic.Config
	// Config holds session limits; nil means the defaults.
	Config *Config
	// Logger receives server and session logs; nil discards them.
	Logger *slog.Logger
	// SetupHandler accepts or rejects sessions; nil accepts all with
	// TrackMux.
	SetupHandler SetupHandler
	// TrackMux serves the sessions accepted without an explicit mux.
	TrackMux *TrackMux

	mu       sync.Mutex
	ln       *quic.Listener
	tr       *quic.Transport
	wt       *webtransport.Server
	sessions map[*Session]struct{}
	cfg      *Config // Config with its defaults, shared by every session
	closed   bool
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup
}

func (srv *Server) logger() *slog.Logger {
	if srv.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return srv.Logger
}

// ListenAndServe listens on srv.Addr and serves sessions.
func (srv *Server) ListenAndServe() error {
	addr, err := net.ResolveUDPAddr("udp", srv.Addr)
	if err != nil {
		return err
	}
	pc, err := net.ListenUDP("udp", addr)
	if err != nil {
		return err
	}
	defer pc.Close()
	return srv.Serve(pc)
}

// Serve accepts connections on pc until Shutdown or Close, and returns
// ErrServerClosed then.
func (srv *Server) Serve(pc net.PacketConn) error {
	srv.mu.Lock()
	if srv.closed {
		srv.mu.Unlock()
		return ErrServerClosed
	}
	if srv.ln != nil {
		srv.mu.Unlock()
		return errors.New("moqt: Serve called twice")
	}
	srv.ctx, srv.cancel = context.WithCancel(context.Background())
	srv.cfg = srv.Config.withDefaults()
	srv.cfg.withStreamLimit(srv.Config, srv.QUICConfig)
	srv.sessions = make(map[*Session]struct{})
	tlsConf := &tls.Config{}
	if srv.TLSConfig != nil {
		tlsConf = srv.TLSConfig.Clone()
	}
	tlsConf.NextProtos = []string{wire.ALPN, http3.NextProtoH3}
	qconf := &quic.Config{}
	if srv.QUICConfig != nil {
		qconf = srv.QUICConfig.Clone()
	}
	qconf.EnableDatagrams = true
	qconf.EnableStreamResetPartialDelivery = true
	srv.cfg.withKeepAlive(qconf)
	srv.tr = &quic.Transport{Conn: pc}
	ln, err := srv.tr.Listen(tlsConf, qconf)
	if err != nil {
		srv.mu.Unlock()
		return err
	}
	srv.ln = ln
	h3 := &http3.Server{Handler: http.HandlerFunc(srv.serveWebTransport)}
	srv.wt = &webtransport.Server{H3: h3, CheckOrigin: func(*http.Request) bool { return true }}
	srv.mu.Unlock()

	for {
		conn, err := ln.Accept(srv.ctx)
		if err != nil {
			srv.mu.Lock()
			closed := srv.closed
			srv.mu.Unlock()
			if closed {
				return ErrServerClosed
			}
			return err
		}
		srv.wg.Add(1)
		go func() {
			defer srv.wg.Done()
			switch conn.ConnectionState().TLS.NegotiatedProtocol {
			case wire.ALPN:
				srv.serveConn(srv.ctx, transport.NewQUIC(conn), "", "", conn.RemoteAddr())
			case http3.NextProtoH3:
				if err := srv.wt.ServeQUICConn(conn); err != nil {
					srv.logger().Debug("webtransport connection ended", "err", err)
				}
			default:
				_ = conn.CloseWithError(0, "unsupported protocol")
			}
		}()
	}
}

func (srv *Server) serveWebTransport(w http.ResponseWriter, r *http.Request) {
	ws, err := srv.wt.Upgrade(w, r)
	if err != nil {
		srv.logger().Debug("webtransport upgrade failed", "err", err)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	// The query stays in the path, as in the PATH parameter of raw QUIC.
	srv.serveConn(r.Context(), transport.NewWebTransport(ws), r.URL.RequestURI(), r.Host, ws.RemoteAddr())
}

func (srv *Server) serveConn(ctx context.Context, conn transport.Conn, path, authority string, remote net.Addr) {
	// Sessions only read their Config: one copy serves them all.
	cfg := srv.cfg
	_, err := serverSetup(ctx, conn, cfg, srv.Logger, srv.SetupHandler, srv.TrackMux, srv.register, path, authority, remote)
	if err != nil {
		srv.logger().Debug("session setup failed", "err", err)
	}
}

// register tracks an accepted session until it ends; it reports false once
// the server is closed.
func (srv *Server) register(s *Session) bool {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.closed {
		return false
	}
	srv.sessions[s] = struct{}{}
	context.AfterFunc(s.ctx, func() {
		srv.mu.Lock()
		delete(srv.sessions, s)
		srv.mu.Unlock()
	})
	return true
}

// Shutdown stops accepting sessions, sends GOAWAY on every session and
// waits for the clients to close them. When ctx is done first the remaining
// sessions are closed with GOAWAY_TIMEOUT.
func (srv *Server) Shutdown(ctx context.Context) error {
	sessions := srv.stop()
	for _, s := range sessions {
		s.send(&wire.Goaway{})
	}
	for _, s := range sessions {
		select {
		case <-s.ctx.Done():
		case <-ctx.Done():
			for _, s := range sessions {
				s.CloseWithError(ErrCodeGoawayTimeout, "goaway timeout")
			}
			srv.finish()
			return ctx.Err()
		}
	}
	srv.finish()
	return nil
}

// Close closes every session and the listener at once.
func (srv *Server) Close() error {
	for _, s := range srv.stop() {
		s.CloseWithError(ErrCodeNoError, "server closed")
	}
	srv.finish()
	return nil
}

// stop marks the server closed and returns its sessions.
func (srv *Server) stop() []*Session {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	srv.closed = true
	if srv.ln != nil {
		_ = srv.ln.Close()
	}
	out := make([]*Session, 0, len(srv.sessions))
	for s := range srv.sessions {
		out = append(out, s)
	}
	return out
}

func (srv *Server) finish() {
	srv.mu.Lock()
	wt, tr, cancel := srv.wt, srv.tr, srv.cancel
	srv.mu.Unlock()
	if wt != nil {
		_ = wt.Close()
	}
	if cancel != nil {
		cancel()
	}
	srv.wg.Wait()
	if tr != nil {
		_ = tr.Close()
	}
}

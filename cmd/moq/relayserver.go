package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/moqgo/moqgo/internal/devcert"
	"github.com/moqgo/moqgo/moqt"
	"github.com/moqgo/moqgo/relay"
)

type relayServerOptions struct {
	addr              string
	certFile, keyFile string
	cfg               relay.Config
	pprof             bool
	log               *slog.Logger
}

// relayServer is a running relay: MoQ on a UDP port and HTTP(S) on the
// same port number over TCP.
type relayServer struct {
	relay *relay.Relay
	moq   *moqt.Server
	web   *http.Server
	cert  *devcert.Cert // the development certificate, if no files were given
	tls   *tls.Config
	addr  string
	udp   net.PacketConn
	tcp   net.Listener
	errc  chan error // the first serving error
	wg    sync.WaitGroup
}

func startRelayServer(o relayServerOptions) (*relayServer, error) {
	s := &relayServer{errc: make(chan error, 3)}
	if o.certFile != "" || o.keyFile != "" {
		c, err := tls.LoadX509KeyPair(o.certFile, o.keyFile)
		if err != nil {
			return nil, fmt.Errorf("TLS certificate: %w", err)
		}
		s.tls = &tls.Config{Certificates: []tls.Certificate{c}}
	} else {
		c, err := devcert.New()
		if err != nil {
			return nil, err
		}
		s.cert, s.tls = c, c.TLSConfig()
	}
	udp, tcp, err := listenPair(o.addr)
	if err != nil {
		return nil, err
	}
	s.udp, s.tcp, s.addr = udp, tcp, udp.LocalAddr().String()
	s.relay = relay.New(o.cfg)
	s.moq = &moqt.Server{TLSConfig: s.tls, SetupHandler: s.relay, Config: moqtServerConfig(), Logger: o.log}
	s.web = &http.Server{Handler: s.handler(o.pprof), ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(o.log.Handler(), slog.LevelDebug)}
	plain, secure := splitTLS(tcp)
	s.wg.Add(3)
	go s.serve(func() error { return s.moq.Serve(udp) }, moqt.ErrServerClosed)
	go s.serve(func() error { return s.web.Serve(plain) }, http.ErrServerClosed)
	go s.serve(func() error { return s.web.Serve(tls.NewListener(secure, s.tls.Clone())) }, http.ErrServerClosed)
	return s, nil
}

func (s *relayServer) serve(f func() error, closed error) {
	defer s.wg.Done()
	if err := f(); err != nil && !errors.Is(err, closed) {
		s.errc <- err
	}
}

// handler serves the relay's HTTP endpoints.
func (s *relayServer) handler(withPprof bool) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(s.relay.Collector(), collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	if s.cert != nil {
		mux.Handle(devcert.FingerprintPath, s.cert.Handler())
	}
	if withPprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	return mux
}

// shutdown sends GOAWAY to every session and waits for them to leave until
// ctx is done, then stops everything.
func (s *relayServer) shutdown(ctx context.Context) error {
	err := s.moq.Shutdown(ctx)
	_ = s.web.Shutdown(ctx)
	s.close()
	return err
}

// close stops everything at once.
func (s *relayServer) close() {
	_ = s.moq.Close()
	_ = s.web.Close()
	_ = s.tcp.Close()
	s.relay.Close()
	s.wg.Wait()
	_ = s.udp.Close()
}

// listenPair listens on addr over UDP and on the same port over TCP. Port
// 0 picks a port free on both.
func listenPair(addr string) (net.PacketConn, net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, err
	}
	for try := 0; ; try++ {
		udp, err := net.ListenPacket("udp", addr)
		if err != nil {
			return nil, nil, err
		}
		p := strconv.Itoa(udp.LocalAddr().(*net.UDPAddr).Port)
		tcp, err := net.Listen("tcp", net.JoinHostPort(host, p))
		if err == nil {
			return udp, tcp, nil
		}
		udp.Close()
		if port != "0" || try == 20 {
			return nil, nil, err
		}
	}
}

// splitTLS splits a TCP listener into plain HTTP and TLS connections by
// their first byte (a TLS handshake record starts with 0x16), so that the
// relay's port number serves both: browsers fetch /certificate.sha256 over
// plain HTTP before they can trust the development certificate.
func splitTLS(l net.Listener) (plain, secure net.Listener) {
	p := &subListener{l: l, conns: make(chan net.Conn)}
	t := &subListener{l: l, conns: make(chan net.Conn)}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				p.Close()
				t.Close()
				return
			}
			go func() {
				_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
				br := bufio.NewReader(c)
				b, err := br.Peek(1)
				_ = c.SetReadDeadline(time.Time{})
				if err != nil {
					c.Close()
					return
				}
				dst := p
				if b[0] == 0x16 {
					dst = t
				}
				if !dst.deliver(&peekedConn{Conn: c, r: br}) {
					c.Close()
				}
			}()
		}
	}()
	return p, t
}

// subListener yields the connections splitTLS routes to it.
type subListener struct {
	l     net.Listener
	conns chan net.Conn
	once  sync.Once
	done  chan struct{}
	mu    sync.Mutex
}

func (s *subListener) closed() chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done == nil {
		s.done = make(chan struct{})
	}
	return s.done
}

func (s *subListener) deliver(c net.Conn) bool {
	select {
	case s.conns <- c:
		return true
	case <-s.closed():
		return false
	}
}

func (s *subListener) Accept() (net.Conn, error) {
	select {
	case c := <-s.conns:
		return c, nil
	case <-s.closed():
		return nil, net.ErrClosed
	}
}

func (s *subListener) Close() error {
	s.once.Do(func() { close(s.closed()) })
	return nil
}

func (s *subListener) Addr() net.Addr { return s.l.Addr() }

// peekedConn is a connection whose first bytes were read into r.
type peekedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *peekedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

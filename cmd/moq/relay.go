package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/moqgo/moqgo/moqt"
	"github.com/moqgo/moqgo/relay"
)

// relayOptions are the settings of `moq relay`.
type relayOptions struct {
	listen          string
	tlsCert, tlsKey string
	cfg             relay.Config
	jwtHMACKey      string
	jwtECDSAKey     string
	anonymous       bool
	pprof           bool
	logLevel        string
	logFormat       string
	shutdownTimeout time.Duration
}

func newRelayCmd() *cobra.Command {
	o := &relayOptions{}
	cmd := &cobra.Command{
		Use:   "relay",
		Short: "Run a MoQ relay (raw QUIC and WebTransport on one UDP port)",
		Long: `Run a MoQ relay: publishers announce broadcasts, subscribers discover and
subscribe to them; every track is fetched once from its publisher and fanned
out to all its subscribers from a bounded cache.

The UDP port serves raw QUIC (moqt://host:port/..., ALPN moq-00) and
WebTransport (https://host:port/...). The same port number over TCP serves
HTTP and HTTPS: /healthz, /metrics (Prometheus), /certificate.sha256 (the
development certificate's fingerprint, for browsers' serverCertificateHashes)
and, with --pprof, /debug/pprof/.

Without --tls-cert/--tls-key the relay makes a development certificate
(ECDSA P-256, valid under 14 days) and prints its SHA-256 fingerprint.

Every flag can also be set with an environment variable (MOQ_ and the flag
name in capitals, - as _: MOQ_CACHE_AGE) or in a TOML file named by --config
(keys are flag names); flags win over the environment, which wins over the
file.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := applySettings(cmd); err != nil {
				return err
			}
			if !cmd.Flags().Changed("anonymous") && os.Getenv(envName("anonymous")) == "" {
				o.anonymous = o.jwtHMACKey == "" && o.jwtECDSAKey == ""
			}
			return runRelay(cmd, o)
		},
	}
	f := cmd.Flags()
	f.String("config", "", "TOML file with settings (keys are flag names)")
	f.StringVarP(&o.listen, "listen", "l", ":4443", "address to listen on (UDP for MoQ, TCP for HTTP)")
	f.StringVar(&o.tlsCert, "tls-cert", "", "TLS certificate chain (PEM); default: a generated development certificate")
	f.StringVar(&o.tlsKey, "tls-key", "", "TLS private key (PEM)")
	f.DurationVar(&o.cfg.Linger, "linger", relay.DefaultLinger, "keep an upstream subscription this long after its last subscriber left")
	f.DurationVar(&o.cfg.WaitForPublisher, "wait-for-publisher", 0, "hold a subscription this long for its publisher to arrive (0: refuse at once)")
	f.IntVar(&o.cfg.CacheGroups, "cache-groups", relay.DefaultCacheGroups, "groups cached per track for late joiners")
	f.Int64Var(&o.cfg.CacheBytes, "cache-bytes", relay.DefaultCacheBytes, "payload bytes cached per track")
	f.DurationVar(&o.cfg.CacheAge, "cache-age", relay.DefaultCacheAge, "drop cached groups older than this")
	f.Int64Var(&o.cfg.MaxCacheBytes, "max-cache-bytes", relay.DefaultMaxCacheBytes, "payload bytes cached across all tracks")
	f.IntVar(&o.cfg.MaxBacklogGroups, "max-backlog-groups", relay.DefaultMaxBacklogGroups, "groups in flight to one subscriber before its oldest is skipped")
	f.DurationVar(&o.cfg.StallTimeout, "stall-timeout", relay.DefaultStallTimeout, "skip a subscriber's group when one write blocks this long")
	f.StringVar(&o.jwtHMACKey, "jwt-hmac-key", "", "verify HS256 tokens with this secret")
	f.StringVar(&o.jwtECDSAKey, "jwt-ecdsa-key", "", "verify ES256 tokens with this public key (PEM file)")
	f.BoolVar(&o.anonymous, "anonymous", false, "let sessions without a token publish and subscribe anywhere (default: on unless a JWT key is set)")
	f.BoolVar(&o.pprof, "pprof", false, "serve /debug/pprof/ on the HTTP port")
	f.StringVar(&o.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	f.StringVar(&o.logFormat, "log-format", "text", "log format: text or json")
	f.DurationVar(&o.shutdownTimeout, "shutdown-timeout", 10*time.Second, "on SIGINT/SIGTERM, wait this long for sessions to leave after GOAWAY")
	return cmd
}

// newLogger builds the slog logger the options ask for.
func newLogger(w *os.File, level, format string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: l}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}

// authorizer builds the relay's Authorizer from the JWT options.
func (o *relayOptions) authorizer() (relay.Authorizer, error) {
	if o.jwtHMACKey == "" && o.jwtECDSAKey == "" {
		if !o.anonymous {
			return nil, errors.New("--anonymous=false needs --jwt-hmac-key or --jwt-ecdsa-key")
		}
		return nil, nil
	}
	a := &relay.JWTAuth{}
	if o.jwtHMACKey != "" {
		a.HMACKey = []byte(o.jwtHMACKey)
	}
	if o.jwtECDSAKey != "" {
		b, err := os.ReadFile(o.jwtECDSAKey)
		if err != nil {
			return nil, err
		}
		blk, _ := pem.Decode(b)
		if blk == nil {
			return nil, fmt.Errorf("%s: no PEM block", o.jwtECDSAKey)
		}
		k, err := x509.ParsePKIXPublicKey(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", o.jwtECDSAKey, err)
		}
		ek, ok := k.(*ecdsa.PublicKey)
		if !ok {
			return nil, fmt.Errorf("%s: not an ECDSA public key", o.jwtECDSAKey)
		}
		a.ECDSAKey = ek
	}
	if o.anonymous {
		a.Anonymous = relay.AllowAll
	}
	return a, nil
}

func runRelay(cmd *cobra.Command, o *relayOptions) error {
	log, err := newLogger(os.Stderr, o.logLevel, o.logFormat)
	if err != nil {
		return err
	}
	auth, err := o.authorizer()
	if err != nil {
		return err
	}
	cfg := o.cfg
	cfg.Auth = auth
	cfg.Logger = log
	s, err := startRelayServer(relayServerOptions{
		addr: o.listen, certFile: o.tlsCert, keyFile: o.tlsKey, cfg: cfg, pprof: o.pprof, log: log,
	})
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	fmt.Fprintf(out, "moq relay listening on %s (UDP: moqt:// and https:// WebTransport; TCP: http(s)://%s/metrics)\n", s.addr, s.addr)
	if s.cert != nil {
		fmt.Fprintf(out, "development certificate SHA-256 fingerprint: %s (served at /certificate.sha256)\n", s.cert.Fingerprint())
	}
	if auth == nil {
		fmt.Fprintln(out, "anonymous access: anyone may publish and subscribe")
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	select {
	case <-ctx.Done():
	case err := <-s.errc:
		s.close()
		return err
	}
	log.Info("shutting down: GOAWAY to every session", "deadline", o.shutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), o.shutdownTimeout)
	defer cancel()
	if err := s.shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

// moqtServerConfig is the session configuration of the relay's server.
func moqtServerConfig() *moqt.Config { return &moqt.Config{MaxRequests: 1000} }

package main

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/moqgo/moqgo/moqt"
)

// connectOptions are the flags every client command shares: where the
// track is and how to trust the relay's certificate.
type connectOptions struct {
	path           string
	track          string
	insecure       bool
	fingerprint    string
	fingerprintURL string
	token          string
}

func (o *connectOptions) addFlags(f *pflag.FlagSet) {
	f.String("config", "", "TOML file with settings (keys are flag names)")
	f.StringVar(&o.path, "path", "", "broadcast path, such as /live/x (required)")
	f.StringVar(&o.track, "track", "", "track name (required)")
	f.BoolVar(&o.insecure, "insecure", false, "do not verify the server's certificate (development only)")
	f.StringVar(&o.fingerprint, "fingerprint", "", "trust only the certificate with this SHA-256 (hex), like browsers' serverCertificateHashes")
	f.StringVar(&o.fingerprintURL, "fingerprint-url", "", "fetch the certificate's SHA-256 from this URL (such as http://host:port/certificate.sha256)")
	f.StringVar(&o.token, "token", "", "authorization token (such as a JWT) sent in CLIENT_SETUP")
}

// connectHelp is appended to the Long help of every client command.
const connectHelp = `
URL is moqt://host:port/ (raw QUIC) or https://host:port/ (WebTransport).
A relay started with a development certificate is trusted with
--fingerprint HEX (the SHA-256 it prints), --fingerprint-url
http://host:port/certificate.sha256, or --insecure.

Every flag can also be set with MOQ_ and the flag name in capitals, - as _
(MOQ_FINGERPRINT), or in a TOML file named by --config.`

// validURL checks the scheme of a MoQ URL.
func validURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("URL: %w", err)
	}
	if u.Scheme != "moqt" && u.Scheme != "https" {
		return fmt.Errorf("URL %q: scheme must be moqt (raw QUIC) or https (WebTransport)", s)
	}
	return nil
}

// prepare applies settings and checks the common flags.
func (o *connectOptions) prepare(cmd *cobra.Command, rawURL string) error {
	if err := applySettings(cmd); err != nil {
		return err
	}
	if o.path == "" || o.track == "" {
		return errors.New("--path and --track are required")
	}
	return validURL(rawURL)
}

// tlsConfig returns the client TLS configuration the flags ask for.
func (o *connectOptions) tlsConfig(ctx context.Context, warn io.Writer) (*tls.Config, error) {
	fp := o.fingerprint
	if o.fingerprintURL != "" {
		if fp != "" {
			return nil, errors.New("--fingerprint and --fingerprint-url are exclusive")
		}
		var err error
		if fp, err = fetchFingerprint(ctx, o.fingerprintURL); err != nil {
			return nil, err
		}
	}
	switch {
	case fp != "":
		want, err := hex.DecodeString(strings.ReplaceAll(strings.TrimSpace(fp), ":", ""))
		if err != nil || len(want) != sha256.Size {
			return nil, fmt.Errorf("fingerprint %q: want 64 hex digits (SHA-256)", fp)
		}
		return pinnedTLS(want), nil
	case o.insecure:
		fmt.Fprintln(warn, "moq: warning: --insecure: the server's certificate is not verified")
		return &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS13}, nil
	}
	return &tls.Config{MinVersion: tls.VersionTLS13}, nil
}

// pinnedTLS trusts exactly the certificate whose DER SHA-256 is want.
func pinnedTLS(want []byte) *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS13,
		// Verification is replaced by the pin below, as a browser's
		// serverCertificateHashes does.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("server sent no certificate")
			}
			got := sha256.Sum256(cs.PeerCertificates[0].Raw)
			if subtle.ConstantTimeCompare(got[:], want) != 1 {
				return fmt.Errorf("server certificate SHA-256 %x does not match --fingerprint", got)
			}
			return nil
		},
	}
}

// fetchFingerprint reads a hex SHA-256 from url (a relay's
// /certificate.sha256).
func fetchFingerprint(ctx context.Context, u string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", fmt.Errorf("--fingerprint-url: %w", err)
	}
	c := &http.Client{Transport: &http.Transport{}}
	defer c.CloseIdleConnections()
	rsp, err := c.Do(req)
	if err != nil {
		return "", fmt.Errorf("--fingerprint-url: %w", err)
	}
	defer rsp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(rsp.Body, 1024))
	if err != nil {
		return "", fmt.Errorf("--fingerprint-url: %w", err)
	}
	if rsp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("--fingerprint-url: %s", rsp.Status)
	}
	return strings.TrimSpace(string(b)), nil
}

// dial connects to the relay at rawURL; mux serves the relay's
// subscriptions (nil for a subscriber).
func (o *connectOptions) dial(ctx context.Context, cmd *cobra.Command, rawURL string, mux *moqt.TrackMux) (*moqt.Session, error) {
	tc, err := o.tlsConfig(ctx, cmd.ErrOrStderr())
	if err != nil {
		return nil, err
	}
	c := &moqt.Client{TLSConfig: tc}
	if o.token != "" {
		c.AuthorizationToken = []byte(o.token)
	}
	dctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	s, err := c.Dial(dctx, rawURL, mux)
	if err != nil {
		return nil, fmt.Errorf("connect %s: %w", rawURL, err)
	}
	return s, nil
}

// runContext returns the command's context, ended by Ctrl-C and after d
// if d > 0.
func runContext(cmd *cobra.Command, d time.Duration) (context.Context, context.CancelFunc) {
	ctx, stop := signalContext(cmd.Context())
	if d <= 0 {
		return ctx, stop
	}
	tctx, cancel := context.WithTimeout(ctx, d)
	return tctx, func() { cancel(); stop() }
}

// signalContext is parent, ended by Ctrl-C or SIGTERM.
func signalContext(parent context.Context) (context.Context, context.CancelFunc) {
	return signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
}

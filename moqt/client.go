package moqt

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net/url"

	"github.com/moqgo/moqgo/internal/transport"
	"github.com/moqgo/moqgo/internal/wire"
	"github.com/quic-go/quic-go"
	"github.com/quic-go/webtransport-go"
)

// Client dials MoQT sessions. The zero value is usable.
type Client struct {
	// TLSConfig configures TLS; nil means the defaults (system roots).
	TLSConfig *tls.Config
	// QUICConfig configures QUIC; datagrams (and, for WebTransport, stream
	// reset partial delivery) are always enabled.
	QUICConfig *quic.Config
	// Config holds session limits; nil means the defaults.
	Config *Config
	// Logger receives session logs; nil discards them.
	Logger *slog.Logger
	// AuthorizationToken, if set, is sent in CLIENT_SETUP as an
	// AUTHORIZATION TOKEN parameter (USE_VALUE).
	AuthorizationToken []byte
}

// Dial establishes a session with the server at urlStr:
// "moqt://host:port/path" dials raw QUIC (ALPN "moq-00", with PATH and
// AUTHORITY setup parameters), "https://host:port/path" dials WebTransport.
// mux serves the server's subscriptions to this client's tracks; it may be
// nil.
func (c *Client) Dial(ctx context.Context, urlStr string, mux *TrackMux) (*Session, error) {
	u, err := url.Parse(urlStr)
	if err != nil {
		return nil, err
	}
	cfg := c.Config.withDefaults()
	qconf := &quic.Config{}
	if c.QUICConfig != nil {
		qconf = c.QUICConfig.Clone()
	}
	qconf.EnableDatagrams = true
	// RESET_STREAM_AT: a reset data stream still delivers its header, so
	// that PUBLISH_DONE's stream count can be met (draft-14 §Closing
	// Subgroup Streams).
	qconf.EnableStreamResetPartialDelivery = true
	cfg.withStreamLimit(c.Config, qconf)
	cfg.withKeepAlive(qconf)
	var tlsConf *tls.Config
	if c.TLSConfig != nil {
		tlsConf = c.TLSConfig.Clone()
	} else {
		tlsConf = &tls.Config{}
	}
	switch u.Scheme {
	case "moqt":
		tlsConf.NextProtos = []string{wire.ALPN}
		qc, err := quic.DialAddr(ctx, u.Host, tlsConf, qconf)
		if err != nil {
			return nil, err
		}
		path := u.EscapedPath()
		if u.RawQuery != "" {
			path += "?" + u.RawQuery
		}
		s, err := clientSetup(ctx, transport.NewQUIC(qc), cfg, c.Logger, mux, path, u.Host, c.AuthorizationToken)
		if err != nil {
			_ = qc.CloseWithError(quic.ApplicationErrorCode(ErrCodeInternalError), "setup failed")
			return nil, err
		}
		return s, nil
	case "https":
		d := &webtransport.Transport{TLSClientConfig: tlsConf, QUICConfig: qconf}
		rsp, ws, err := d.Dial(ctx, urlStr, nil)
		if err != nil {
			if rsp != nil {
				return nil, fmt.Errorf("moqt: webtransport dial: status %d: %w", rsp.StatusCode, err)
			}
			return nil, err
		}
		s, err := clientSetup(ctx, transport.NewWebTransport(ws), cfg, c.Logger, mux, "", "", c.AuthorizationToken)
		if err != nil {
			_ = ws.CloseWithError(webtransport.SessionErrorCode(ErrCodeInternalError), "setup failed")
			return nil, err
		}
		return s, nil
	}
	return nil, fmt.Errorf("moqt: unsupported URL scheme %q (want moqt or https)", u.Scheme)
}

package moqt

import (
	"bufio"
	"testing"

	"github.com/moqgo/moqgo/internal/wire"
	"github.com/quic-go/quic-go"
	"github.com/quic-go/webtransport-go"
)

// These tests pin, at the Go level, what the @moq/net web client (e2e/)
// relies on when it talks to a moqgo Server over WebTransport.

// webClientProtocols are the WebTransport subprotocols @moq/net 0.3.4
// offers. It speaks IETF draft-14 only when the server selects none of them.
var webClientProtocols = []string{
	"moq-lite-05", "moq-lite-04", "moq-lite-03", "moql",
	"moqt-20", "moqt-19", "moqt-18", "moqt-17", "moqt-16", "moqt-15",
}

// TestInteropWebClientSetup replays the web client's session setup: it
// offers later-draft subprotocols (which the server must not select), then
// sends a draft-14 CLIENT_SETUP offering two moq-lite versions before
// draft-14, with a private setup parameter (MoQ Solicit, 0x40b5a). The
// server must answer with SERVER_SETUP selecting draft-14.
func TestInteropWebClientSetup(t *testing.T) {
	env := startServer(t, &Server{TrackMux: NewTrackMux()})
	ctx := testContext(t)
	d := &webtransport.Transport{
		TLSClientConfig:      env.client.TLSConfig,
		QUICConfig:           &quic.Config{EnableDatagrams: true, EnableStreamResetPartialDelivery: true},
		ApplicationProtocols: webClientProtocols,
	}
	defer d.Close()
	_, ws, err := d.Dial(ctx, env.url("https", "/moq"), nil)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer ws.CloseWithError(0, "")
	if p := ws.SessionState().ApplicationProtocol; p != "" {
		t.Fatalf("server selected WebTransport subprotocol %q; the web client would then leave draft-14", p)
	}

	str, err := ws.OpenStreamSync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cs := &wire.ClientSetup{SupportedVersions: []wire.Version{0xff0dad02, 0xff0dad01, wire.Draft14}}
	cs.Params.SetMaxRequestID(42069)
	cs.Params.SetImplementation("moq-lite-js")
	cs.Params.Set(wire.KeyValue{Type: 0x40b5a, Value: 1})
	b, err := wire.AppendMessage(nil, cs, wire.Draft14)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := str.Write(b); err != nil {
		t.Fatal(err)
	}
	m, _, err := wire.ReadMessage(bufio.NewReader(str), wire.Draft14, nil)
	if err != nil {
		t.Fatalf("reading the server's answer to CLIENT_SETUP: %v", err)
	}
	ss, ok := m.(*wire.ServerSetup)
	if !ok {
		t.Fatalf("server answered %v, want SERVER_SETUP", m.Type())
	}
	if ss.SelectedVersion != wire.Draft14 {
		t.Errorf("server selected %v, want draft-14", ss.SelectedVersion)
	}
	if _, ok := ss.Params.MaxRequestID(); !ok {
		t.Error("SERVER_SETUP lacks MAX_REQUEST_ID; the web client would then send no requests")
	}
}

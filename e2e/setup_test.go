package e2e

import (
	"testing"

	"github.com/moqgo/moqgo/moqt"
)

// wantVersion is what @moq/net reports for an IETF draft-14 session.
const wantVersion = "moq-transport-14"

// TestSetupAndClose: the browser sets up a session and closes it cleanly.
func TestSetupAndClose(t *testing.T) {
	p, srv, ctx := launch(t, "setup", moqt.NewTrackMux())

	var c struct{ Version string }
	p.next(ctx, "connected", &c)
	t.Logf("browser negotiated %q", c.Version)
	if c.Version != wantVersion {
		t.Errorf("browser negotiated %q, want %q", c.Version, wantVersion)
	}
	var a accepted
	select {
	case a = <-srv.Sessions:
	case <-ctx.Done():
		t.Fatal("server accepted no session")
	}
	if a.Request.Version != moqt.Draft14 || a.Request.Protocol != "webtransport" {
		t.Errorf("server side: version %v over %q, want draft-14 over webtransport", a.Request.Version, a.Request.Protocol)
	}
	t.Logf("client offered versions %v; server selected %v", a.Request.Versions, a.Request.Version)
	p.finish(ctx)
	select {
	case <-a.Session.Context().Done():
	case <-ctx.Done():
		t.Fatal("browser closed its session but the server's session did not end")
	}
}

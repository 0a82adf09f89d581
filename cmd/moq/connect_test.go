package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/moqgo/moqgo/moqt"
	"github.com/moqgo/moqgo/relay"
)

// startToolRelay runs an in-process relay (which holds subscriptions up to
// 10s for their publisher) until the test ends.
func startToolRelay(t *testing.T) (addr, fingerprint string) {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	srv, err := startRelayServer(relayServerOptions{addr: "127.0.0.1:0", cfg: relay.Config{WaitForPublisher: 10 * time.Second, Logger: log}, log: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.close)
	return srv.addr, srv.cert.Fingerprint()
}

// toolRun is a moq command running in the background.
type toolRun struct {
	out, err *syncBuffer
	done     chan error
}

// startTool runs `moq args...` with stdin in, until it exits; the test
// waits for it at the end.
func startTool(t *testing.T, in io.Reader, args ...string) *toolRun {
	t.Helper()
	r := &toolRun{out: newSyncBuffer(), err: newSyncBuffer(), done: make(chan error, 1)}
	cmd := newRootCmd()
	cmd.SetArgs(args)
	cmd.SetOut(r.out)
	cmd.SetErr(r.err)
	if in != nil {
		cmd.SetIn(in)
	}
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		r.done <- cmd.ExecuteContext(context.Background())
	}()
	t.Cleanup(func() { <-exited })
	return r
}

// waitStderr waits until the command printed want on stderr.
func (r *toolRun) waitStderr(t *testing.T, want string) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for !strings.Contains(r.err.String(), want) {
		select {
		case <-r.err.wrote:
		case err := <-r.done:
			t.Fatalf("command exited (%v) before printing %q:\n%s", err, want, r.err.String())
		case <-deadline:
			t.Fatalf("command did not print %q:\n%s", want, r.err.String())
		}
	}
}

// wait waits for the command to exit and fails the test on an error.
func (r *toolRun) wait(t *testing.T) {
	t.Helper()
	select {
	case err := <-r.done:
		if err != nil {
			t.Fatalf("command failed: %v\nstderr:\n%s", err, r.err.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("command did not exit\nstderr:\n%s", r.err.String())
	}
}

// dialPublisher connects a moqt publisher of track name under path to the
// relay and announces it.
func dialPublisher(t *testing.T, ctx context.Context, addr, fp string, path moqt.BroadcastPath, name moqt.TrackName) (*moqt.Track, *moqt.Session) {
	t.Helper()
	b := moqt.NewBroadcast()
	track := b.AddTrack(name, nil)
	mux := moqt.NewTrackMux()
	mux.Publish(ctx, path, b)
	want, _ := hex.DecodeString(fp)
	sess, err := (&moqt.Client{TLSConfig: pinnedTLS(want)}).Dial(ctx, "moqt://"+addr+"/", mux)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sess.Close() })
	sess.PublishNamespaces()
	return track, sess
}

// TestConnectTrust: --fingerprint and --fingerprint-url pin the relay's
// certificate, a wrong one is refused, --insecure warns, and without an
// option the system roots (which do not trust a development certificate)
// refuse it.
func TestConnectTrust(t *testing.T) {
	addr, fp := startToolRelay(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	url := "moqt://" + addr + "/"
	for i, tc := range []struct {
		args    []string
		wantErr string
		stderr  string
	}{
		{args: []string{"--fingerprint", strings.Repeat("00", 32)}, wantErr: "does not match --fingerprint"},
		{args: nil, wantErr: "certificate"},
		{args: []string{"--fingerprint", "xyz"}, wantErr: "want 64 hex digits"},
		{args: []string{"--insecure"}, stderr: "not verified"},
		{args: []string{"--fingerprint", fp}},
		{args: []string{"--fingerprint-url", "http://" + addr + "/certificate.sha256"}},
	} {
		path := moqt.BroadcastPath(fmt.Sprintf("/trust/%d", i))
		var track *moqt.Track
		if tc.wantErr == "" {
			track, _ = dialPublisher(t, ctx, addr, fp, path, "t")
		}
		r := startTool(t, nil, append([]string{"sub", url, "--path", string(path), "--track", "t"}, tc.args...)...)
		if tc.wantErr != "" {
			if err := <-r.done; err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%v: error %v, want %q", tc.args, err, tc.wantErr)
			}
			continue
		}
		r.waitStderr(t, "subscribed")
		track.Close()
		r.wait(t)
		if tc.stderr != "" && !strings.Contains(r.err.String(), tc.stderr) {
			t.Errorf("%v: stderr %q lacks %q", tc.args, r.err.String(), tc.stderr)
		}
	}
	r := startTool(t, nil, "sub", "ftp://x/", "--path", "/a", "--track", "b")
	if err := <-r.done; err == nil || !strings.Contains(err.Error(), "scheme must be moqt") {
		t.Errorf("ftp URL: %v", err)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func stringsReader(s string) io.Reader { return strings.NewReader(s) }

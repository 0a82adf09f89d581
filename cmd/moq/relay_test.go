package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/moqgo/moqgo/internal/devcert"
	"github.com/moqgo/moqgo/moqt"
)

var (
	listenLine = regexp.MustCompile(`listening on (\S+) `)
	printLine  = regexp.MustCompile(`fingerprint: ([0-9a-f]{64})`)
)

// startRelayCmd runs `moq relay args...` until the test ends and returns
// its address and certificate fingerprint.
func startRelayCmd(t *testing.T, args ...string) (addr, fingerprint string) {
	t.Helper()
	addr, fingerprint, _ = startRelayCmdCtx(t, context.Background(), args...)
	return addr, fingerprint
}

// startRelayCmdCtx is startRelayCmd under ctx (canceling it shuts the relay
// down); done receives the command's result.
func startRelayCmdCtx(t *testing.T, parent context.Context, args ...string) (addr, fingerprint string, done <-chan error) {
	t.Helper()
	ctx, cancel := context.WithCancel(parent)
	out := newSyncBuffer()
	cmd := newRootCmd()
	cmd.SetOut(out)
	cmd.SetErr(io.Discard)
	cmd.SetArgs(append([]string{"relay", "--listen", "127.0.0.1:0", "--shutdown-timeout", "5s"}, args...))
	result := make(chan error, 1)
	exited := make(chan error, 1)
	go func() {
		err := cmd.ExecuteContext(ctx)
		result <- err
		exited <- err
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-exited; err != nil {
			t.Errorf("moq relay: %v", err)
		}
	})
	deadline := time.After(20 * time.Second)
	for {
		s := out.String()
		if m, f := listenLine.FindStringSubmatch(s), printLine.FindStringSubmatch(s); m != nil && f != nil {
			return m[1], f[1], result
		}
		select {
		case <-out.wrote:
		case err := <-result:
			t.Fatalf("moq relay exited: %v\n%s", err, s)
		case <-deadline:
			t.Fatalf("moq relay printed no address and fingerprint:\n%s", s)
		}
	}
}

func get(t *testing.T, c *http.Client, url string) (*http.Response, string) {
	t.Helper()
	rsp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer rsp.Body.Close()
	b, err := io.ReadAll(rsp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return rsp, string(b)
}

// TestRelayCommand runs `moq relay` with a development certificate and
// checks its HTTP endpoints and a publish/subscribe through it over both
// transports.
func TestRelayCommand(t *testing.T) {
	addr, fp := startRelayCmd(t)
	plain := &http.Client{Transport: &http.Transport{}}
	secure := &http.Client{Transport: &http.Transport{TLSClientConfig: pinned(fp)}}
	defer plain.CloseIdleConnections()
	defer secure.CloseIdleConnections()

	rsp, body := get(t, plain, "http://"+addr+"/certificate.sha256")
	if rsp.StatusCode != 200 || strings.TrimSpace(body) != fp || rsp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("/certificate.sha256 = %d %q (CORS %q), want %s", rsp.StatusCode, body, rsp.Header.Get("Access-Control-Allow-Origin"), fp)
	}
	if rsp, body := get(t, secure, "https://"+addr+"/healthz"); rsp.StatusCode != 200 || strings.TrimSpace(body) != "ok" {
		t.Errorf("https /healthz = %d %q", rsp.StatusCode, body)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	client := &moqt.Client{TLSConfig: pinned(fp)}
	mux := moqt.NewTrackMux()
	mux.PublishFunc(ctx, "/demo", func(tw *moqt.TrackWriter) {
		gw, err := tw.OpenGroup(0)
		if err != nil {
			return
		}
		gw.WriteFrame(moqt.NewFrame([]byte("hello")))
		gw.Close()
		<-tw.Context().Done()
	})
	pub, err := client.Dial(ctx, "moqt://"+addr+"/", mux)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	pub.PublishNamespaces()
	sub, err := client.Dial(ctx, "https://"+addr+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	var tr *moqt.TrackReader
	ar, err := sub.AcceptAnnounce("/demo")
	if err != nil {
		t.Fatal(err)
	}
	if a, err := ar.ReceiveAnnouncement(ctx); err != nil || a.BroadcastPath != "/demo" {
		t.Fatalf("announcement %v, %v", a, err)
	}
	if tr, err = sub.Subscribe("/demo", "t", nil); err != nil {
		t.Fatal(err)
	}
	gr, err := tr.AcceptGroup(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if f, err := gr.ReadFrame(); err != nil || string(f.Bytes()) != "hello" {
		t.Fatalf("ReadFrame = %v, %v", f, err)
	}
	_, metrics := get(t, plain, "http://"+addr+"/metrics")
	for _, want := range []string{"moq_relay_sessions 2", "moq_relay_subscriptions 1", "moq_relay_objects_in_total 1", `moq_relay_viewers{namespace="/demo"} 1`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if rsp, _ := get(t, plain, "http://"+addr+"/debug/pprof/"); rsp.StatusCode != 404 {
		t.Errorf("pprof served without --pprof: %d", rsp.StatusCode)
	}
}

// TestRelaySettings: flags beat MOQ_* variables, which beat the config
// file, which beats the defaults; unknown file settings are errors.
func TestRelaySettings(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "relay.toml")
	if err := os.WriteFile(file, []byte("cache-groups = 5\nlinger = \"7s\"\nmax-backlog-groups = 9\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("MOQ_LINGER", "3s")
	t.Setenv("MOQ_CONFIG", file)
	var got *cobra.Command
	cmd := newRelayCmd()
	cmd.RunE = func(c *cobra.Command, _ []string) error {
		got = c
		return applySettings(c)
	}
	cmd.SetArgs([]string{"--max-backlog-groups", "11"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	f := got.Flags()
	for name, want := range map[string]string{"cache-groups": "5", "linger": "3s", "max-backlog-groups": "11", "cache-age": "30s"} {
		if v := f.Lookup(name).Value.String(); v != want {
			t.Errorf("--%s = %s, want %s", name, v, want)
		}
	}
	if err := os.WriteFile(file, []byte("cache-grups = 5\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd = newRelayCmd()
	cmd.RunE = func(c *cobra.Command, _ []string) error { return applySettings(c) }
	cmd.SetArgs(nil)
	if err := cmd.Execute(); err == nil || !strings.Contains(err.Error(), "cache-grups") {
		t.Errorf("unknown setting: %v", err)
	}
}

// TestRelayShutdown: on shutdown the relay sends GOAWAY to every session
// and exits once they left.
func TestRelayShutdown(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, fp, done := startRelayCmdCtx(t, ctx)
	wctx, wcancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer wcancel()
	client := &moqt.Client{TLSConfig: pinned(fp)}
	var sessions []*moqt.Session
	for _, scheme := range []string{"moqt", "https"} {
		s, err := client.Dial(wctx, scheme+"://"+addr+"/", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		sessions = append(sessions, s)
	}
	cancel() // as SIGINT does
	for _, s := range sessions {
		select {
		case <-s.GoAway():
		case <-wctx.Done():
			t.Fatalf("%s session got no GOAWAY", s.Protocol())
		}
		s.Close()
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("moq relay: %v", err)
		}
	case <-wctx.Done():
		t.Fatal("moq relay did not exit after its sessions left")
	}
}

// TestRelayCommandTLSFiles: with --tls-cert and --tls-key the relay serves
// that certificate and no development fingerprint.
func TestRelayCommandTLSFiles(t *testing.T) {
	c, err := devcert.New()
	if err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM, err := c.PEM()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	out := newSyncBuffer()
	cmd := newRootCmd()
	cmd.SetOut(out)
	cmd.SetErr(io.Discard)
	cmd.SetArgs([]string{"relay", "--listen", "127.0.0.1:0", "--tls-cert", certFile, "--tls-key", keyFile})
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("moq relay: %v", err)
		}
	}()
	var addr string
	for addr == "" {
		if m := listenLine.FindStringSubmatch(out.String()); m != nil {
			addr = m[1]
			break
		}
		select {
		case <-out.wrote:
		case err := <-done:
			t.Fatalf("moq relay exited: %v", err)
		}
	}
	if printLine.MatchString(out.String()) {
		t.Errorf("fingerprint printed with a configured certificate:\n%s", out.String())
	}
	dctx, dcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer dcancel()
	s, err := (&moqt.Client{TLSConfig: c.ClientTLSConfig()}).Dial(dctx, "moqt://"+addr+"/", nil)
	if err != nil {
		t.Fatalf("Dial with the configured certificate trusted: %v", err)
	}
	s.Close()
	plain := &http.Client{Transport: &http.Transport{}}
	defer plain.CloseIdleConnections()
	if rsp, _ := get(t, plain, "http://"+addr+"/certificate.sha256"); rsp.StatusCode != http.StatusNotFound {
		t.Errorf("/certificate.sha256 with a configured certificate: %d, want 404", rsp.StatusCode)
	}
}

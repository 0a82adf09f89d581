package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// webDir is the page's npm project, relative to this package.
const webDir = "web"

// bundlePath is the esbuild output the page loads.
var bundlePath = filepath.Join(webDir, "dist", "page.js")

var (
	prepareOnce sync.Once
	chromiumBin string
	prepareErr  string // non-empty: why the suite must skip
)

// prepare finds Chromium and makes sure the page bundle exists, building it
// with npm when it is missing. Tests skip with the reason when either fails.
func prepare(t *testing.T) string {
	t.Helper()
	prepareOnce.Do(func() {
		chromiumBin = findChromium()
		if chromiumBin == "" {
			prepareErr = "Chromium not found (install Debian's chromium package, or set CHROMIUM to its path)"
			return
		}
		if _, err := os.Stat(bundlePath); err == nil && os.Getenv("E2E_REBUNDLE") == "" {
			return
		}
		if _, err := exec.LookPath("npm"); err != nil {
			prepareErr = "page bundle " + bundlePath + " missing and npm not found (run `make e2e`)"
			return
		}
		for _, args := range [][]string{{"ci", "--no-audit", "--no-fund"}, {"run", "bundle"}} {
			cmd := exec.Command("npm", args...)
			cmd.Dir = webDir
			if out, err := cmd.CombinedOutput(); err != nil {
				prepareErr = fmt.Sprintf("npm %s failed: %v\n%s", strings.Join(args, " "), err, out)
				return
			}
		}
	})
	if prepareErr != "" {
		t.Skip(prepareErr)
	}
	return chromiumBin
}

func findChromium() string {
	names := []string{"chromium", "chromium-browser", "google-chrome"}
	if p := os.Getenv("CHROMIUM"); p != "" {
		names = []string{p}
	}
	for _, name := range names {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// event is one report from the page.
type event struct {
	Event string          `json:"event"`
	raw   json.RawMessage // the whole report
}

// page serves the test page and collects what it reports.
type page struct {
	t      *testing.T
	srv    *httptest.Server
	events chan event
	logs   logBuffer

	mu      sync.Mutex
	signals map[string]chan struct{}
	closed  chan struct{}
}

type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) add(line string) {
	l.mu.Lock()
	l.b.WriteString(line)
	l.b.WriteByte('\n')
	l.mu.Unlock()
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// newPage starts the HTTP server for the page on 127.0.0.1.
func newPage(t *testing.T) *page {
	t.Helper()
	bundle, err := os.ReadFile(bundlePath)
	if err != nil {
		t.Skipf("page bundle: %v (run `make e2e`)", err)
	}
	p := &page{t: t, events: make(chan event, 1024), signals: map[string]chan struct{}{}, closed: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, `<!doctype html><meta charset="utf-8"><title>moqgo e2e</title><script type="module" src="/page.js"></script>`)
	})
	mux.HandleFunc("GET /page.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Write(bundle)
	})
	mux.HandleFunc("GET /favicon.ico", http.NotFound)
	mux.HandleFunc("POST /report", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var ev event
		if err := json.Unmarshal(body, &ev); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		ev.raw = body
		if ev.Event == "log" {
			var l struct{ Level, Text string }
			_ = json.Unmarshal(body, &l)
			p.logs.add("page " + l.Level + ": " + l.Text)
		} else {
			p.logs.add("page event: " + string(body))
			select {
			case p.events <- ev:
			default:
				p.logs.add("(event queue full, dropped)")
			}
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /wait", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-p.signal(r.URL.Query().Get("name")):
			w.WriteHeader(http.StatusNoContent)
		case <-p.closed:
			http.Error(w, "test over", http.StatusServiceUnavailable)
		case <-r.Context().Done():
		}
	})
	p.srv = httptest.NewServer(mux)
	t.Cleanup(func() {
		close(p.closed)
		p.srv.Close()
		if t.Failed() {
			t.Logf("page log:\n%s", p.logs.String())
		}
	})
	return p
}

func (p *page) signal(name string) chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	ch, ok := p.signals[name]
	if !ok {
		ch = make(chan struct{})
		p.signals[name] = ch
	}
	return ch
}

// release answers the page's /wait?name=name.
func (p *page) release(name string) { close(p.signal(name)) }

// open launches a Chromium on the page with the query q and stops it at the
// end of the test.
func (p *page) open(q url.Values) {
	t := p.t
	t.Helper()
	bin := prepare(t)
	args := []string{
		"--headless=new",
		"--disable-gpu",
		"--no-first-run",
		"--no-default-browser-check",
		"--disable-background-networking",
		"--disable-component-update",
		"--disable-sync",
		"--disable-dev-shm-usage",
		"--user-data-dir=" + t.TempDir(),
		// Only loopback resolves: the page reaches nothing else.
		"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
		"--enable-logging=stderr",
		"--v=0",
	}
	if os.Geteuid() == 0 {
		args = append(args, "--no-sandbox")
	}
	args = append(args, p.srv.URL+"/?"+q.Encode())
	cmd := exec.Command(bin, args...)
	var stderr logBuffer
	cmd.Stdout = io.Discard
	cmd.Stderr = writerFunc(func(b []byte) (int, error) {
		// Keep what helps debugging; a container has no D-Bus, so skip its noise.
		for _, line := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
			if !strings.Contains(line, "dbus") {
				stderr.add(line)
			}
		}
		return len(b), nil
	})
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	t.Cleanup(func() {
		// Chromium runs a process tree in its own group: end the group we started.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		if t.Failed() && testing.Verbose() {
			t.Logf("chromium stderr:\n%s", stderr.String())
		}
	})
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

// next waits for the page's next report named name and decodes it into v
// (if non-nil). A "done" report that fails, or a timeout, fails the test.
func (p *page) next(ctx context.Context, name string, v any) {
	t := p.t
	t.Helper()
	for {
		select {
		case ev := <-p.events:
			if ev.Event == "done" && name != "done" {
				var d struct {
					OK    bool
					Error string
				}
				_ = json.Unmarshal(ev.raw, &d)
				t.Fatalf("page finished (ok=%v) while the test waited for %q: %s", d.OK, name, d.Error)
			}
			if ev.Event != name {
				continue
			}
			if v != nil {
				if err := json.Unmarshal(ev.raw, v); err != nil {
					t.Fatalf("page report %q: %v", name, err)
				}
			}
			return
		case <-ctx.Done():
			t.Fatalf("page did not report %q: %v", name, ctx.Err())
		}
	}
}

// finish waits for the page's final report and fails the test unless the
// page's scenario succeeded.
func (p *page) finish(ctx context.Context) {
	p.t.Helper()
	var d struct {
		OK    bool
		Error string
	}
	p.next(ctx, "done", &d)
	if !d.OK {
		p.t.Fatalf("page scenario failed: %s", d.Error)
	}
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	t.Cleanup(cancel)
	return ctx
}

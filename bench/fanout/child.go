package main

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/moqgo/moqgo/internal/devcert"
	"github.com/moqgo/moqgo/moqt"
	"github.com/moqgo/moqgo/relay"
)

// rawALPN is the protocol of the raw quic-go baseline.
const rawALPN = "moqgo-bench-raw"

// serveChild runs the measured server in this (child) process until its
// standard input closes: "relay" is a moqgo relay, "raw" is quic-go
// writing the benchmark's groups to n connections directly. It prints the
// address and the certificate fingerprint first.
func serveChild(mode string, n int, paced pacing) error {
	if os.Getenv("MOQ_BENCH_HEAPPROFILE") != "" {
		runtime.MemProfileRate = 512 // per-session structures are small
	}
	cert, err := devcert.New()
	if err != nil {
		return err
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer pc.Close()
	fmt.Printf("%s %s\n", pc.LocalAddr(), cert.Fingerprint())
	stopProfile, err := cpuProfile("MOQ_BENCH_CPUPROFILE", mode, paced)
	if err != nil {
		return err
	}
	defer stopProfile()
	stdinClosed := make(chan struct{})
	start := make(chan struct{}) // the parent's "start": the raw server may write
	go func() {
		defer close(stdinClosed)
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			switch sc.Text() {
			case "settle":
				settle(profilePath(os.Getenv("MOQ_BENCH_HEAPPROFILE"), mode, paced))
			case "start":
				close(start)
			}
		}
	}()
	switch mode {
	case "relay":
		r := relay.New(relay.Config{WaitForPublisher: 10 * time.Second})
		srv := &moqt.Server{TLSConfig: cert.TLSConfig(), SetupHandler: r, Config: &moqt.Config{MaxRequests: 1000}}
		go func() { _ = srv.Serve(pc) }()
		<-stdinClosed
		if os.Getenv("MOQ_BENCH_MEMSTATS") != "" {
			st := r.Stats()
			fmt.Fprintf(os.Stderr, "fanout child: relay objects in %d, out %d, bytes out %d MiB, groups skipped %d, subgroups dropped %d, cache evictions %d\n",
				st.ObjectsIn, st.ObjectsOut, st.BytesOut>>20, st.Skips, st.Drops, st.Evictions)
		}
		srv.Close()
		r.Close()
		return nil
	case "raw":
		return serveRaw(pc, cert, n, paced, start, stdinClosed) // raw.go
	}
	return fmt.Errorf("unknown mode %q", mode)
}

// settle answers the parent's "settle": it collects garbage and returns
// the freed memory to the OS, as an idle process does by itself within a
// few minutes (forced GC and the background scavenger), so that the RSS
// the parent reads next is what the live state costs, not handshake
// garbage awaiting collection. With MOQ_BENCH_HEAPPROFILE it also writes
// the heap profile to heapPath. It answers "settled".
func settle(heapPath string) {
	runtime.GC()
	debug.FreeOSMemory()
	if os.Getenv("MOQ_BENCH_HEAPPROFILE") != "" {
		if f, err := os.Create(heapPath); err == nil {
			_ = pprof.Lookup("heap").WriteTo(f, 0)
			f.Close()
		}
	}
	if os.Getenv("MOQ_BENCH_MEMSTATS") != "" {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		fmt.Fprintf(os.Stderr, "fanout child: heap in use %d KiB (live %d KiB), stacks %d KiB, goroutines %d, sys %d KiB\n",
			ms.HeapInuse>>10, ms.HeapAlloc>>10, ms.StackInuse>>10, runtime.NumGoroutine(), ms.Sys>>10)
	}
	fmt.Println("settled")
}

// cpuProfile starts a CPU profile of this process into the file named by
// the environment variable env (profilePath), if it is set; stop ends it.
// The server process uses MOQ_BENCH_CPUPROFILE, the publisher and
// subscribers' process MOQ_BENCH_CLIENTPROFILE, over each measured window.
func cpuProfile(env, mode string, p pacing) (stop func(), err error) {
	path := os.Getenv(env)
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(profilePath(path, mode, p))
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// profilePath names a profile of one kind of run: path.mode[-pacing].
func profilePath(path, mode string, p pacing) string {
	if p != unpaced {
		return path + "." + mode + "-" + p.String()
	}
	return path + "." + mode
}

// child is a running server process.
type child struct {
	cmd   *os.Process
	stdin io.WriteCloser
	addr  string
	fp    string
	lines chan string // the child's later output lines
	done  chan error
	mode  string // "relay" or "raw"
	paced pacing
}

func startChild(mode string, n int, paced pacing) (*child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	ir, iw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	args := []string{exe, "-serve", mode, "-n", fmt.Sprint(n), "-pacing=" + paced.String()}
	p, err := os.StartProcess(exe, args, &os.ProcAttr{Files: []*os.File{ir, pw, os.Stderr}})
	pw.Close()
	ir.Close()
	if err != nil {
		return nil, err
	}
	c := &child{cmd: p, stdin: iw, lines: make(chan string, 16), done: make(chan error, 1), mode: mode, paced: paced}
	br := bufio.NewReader(pr)
	line, err := br.ReadString('\n')
	if err != nil {
		p.Kill()
		return nil, fmt.Errorf("child: %w", err)
	}
	if _, err := fmt.Sscan(line, &c.addr, &c.fp); err != nil {
		p.Kill()
		return nil, fmt.Errorf("child said %q: %w", line, err)
	}
	go func() {
		for {
			l, err := br.ReadString('\n')
			if err != nil {
				break
			}
			select {
			case c.lines <- strings.TrimSpace(l):
			default:
			}
		}
		_, err := p.Wait()
		c.done <- err
	}()
	return c, nil
}

// settle has the child collect its garbage and return it to the OS (see
// settle), so that its RSS is what its live state costs.
func (c *child) settle() error {
	if _, err := io.WriteString(c.stdin, "settle\n"); err != nil {
		return err
	}
	return c.await("settled")
}

// await waits for the child to print the line want.
func (c *child) await(want string) error {
	for {
		select {
		case l := <-c.lines:
			if l == want {
				return nil
			}
		case <-time.After(30 * time.Second):
			return fmt.Errorf("child did not say %q", want)
		}
	}
}

// stop ends the child (closing its standard input) and waits for it.
func (c *child) stop() {
	c.stdin.Close()
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		c.cmd.Kill()
		<-c.done
	}
}

// pinned trusts the certificate with SHA-256 fingerprint fp only.
func pinned(fp string, alpn ...string) *tls.Config {
	return &tls.Config{
		InsecureSkipVerify: true,
		NextProtos:         alpn,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 || fingerprint(cs.PeerCertificates[0].Raw) != fp {
				return fmt.Errorf("certificate does not match %s", fp)
			}
			return nil
		},
	}
}

package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"sync"
	"time"

	"github.com/quic-go/quic-go"

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
func serveChild(mode string, n int, paced bool) error {
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
	if path := os.Getenv("MOQ_BENCH_CPUPROFILE"); path != "" {
		f, err := os.Create(profilePath(path, mode, paced))
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	stdinClosed := make(chan struct{})
	go func() {
		defer close(stdinClosed)
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			if sc.Text() == "settle" {
				settle(profilePath(os.Getenv("MOQ_BENCH_HEAPPROFILE"), mode, paced))
			}
		}
	}()
	switch mode {
	case "relay":
		r := relay.New(relay.Config{WaitForPublisher: 10 * time.Second})
		srv := &moqt.Server{TLSConfig: cert.TLSConfig(), SetupHandler: r, Config: &moqt.Config{MaxRequests: 1000}}
		go func() { _ = srv.Serve(pc) }()
		<-stdinClosed
		srv.Close()
		r.Close()
		return nil
	case "raw":
		return serveRaw(pc, cert, n, paced, stdinClosed)
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
		fmt.Fprintf(os.Stderr, "fanout child: heap in use %d KiB, stacks %d KiB, goroutines %d, sys %d KiB\n",
			ms.HeapInuse>>10, ms.StackInuse>>10, runtime.NumGoroutine(), ms.Sys>>10)
	}
	fmt.Println("settled")
}

// profilePath names a profile of one kind of run: path.mode[-paced].
func profilePath(path, mode string, paced bool) string {
	if paced {
		return path + "." + mode + "-paced"
	}
	return path + "." + mode
}

// serveRaw accepts n connections, then writes the benchmark's groups to
// each: one unidirectional stream per group, as a relay does.
func serveRaw(pc net.PacketConn, cert *devcert.Cert, n int, paced bool, stop <-chan struct{}) error {
	tlsConf := cert.TLSConfig()
	tlsConf.NextProtos = []string{rawALPN}
	tr := &quic.Transport{Conn: pc}
	defer tr.Close()
	ln, err := tr.Listen(tlsConf, &quic.Config{MaxIdleTimeout: time.Minute})
	if err != nil {
		return err
	}
	defer ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-stop
		cancel()
	}()
	conns := make([]*quic.Conn, 0, n)
	for len(conns) < n {
		c, err := ln.Accept(ctx)
		if err != nil {
			return nil
		}
		conns = append(conns, c)
	}
	// Every connection gets its own writer: a slow one does not hold up
	// the others (as in the relay). The groups are produced once and
	// shared.
	groups := make([]chan []byte, n)
	var wg sync.WaitGroup
	for i, c := range conns {
		groups[i] = make(chan []byte, 64)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for g := range groups[i] {
				st, err := c.OpenUniStreamSync(ctx)
				if err != nil {
					return
				}
				if _, err := st.Write(g); err != nil {
					st.CancelWrite(0)
					continue
				}
				st.Close()
			}
		}()
	}
	var tick <-chan time.Time
	if paced {
		t := time.NewTicker(time.Second / groupsPerSecond)
		defer t.Stop()
		tick = t.C
	}
	for ctx.Err() == nil {
		if tick != nil {
			select {
			case <-tick:
			case <-ctx.Done():
			}
		}
		g := make([]byte, framesPerGroup*frameSize)
		now := time.Now().UnixNano()
		for f := 0; f < framesPerGroup; f++ {
			binary.BigEndian.PutUint64(g[f*frameSize:], uint64(now))
		}
		for _, ch := range groups {
			if !paced {
				select { // unpaced: as fast as the connections take groups
				case ch <- g:
				case <-ctx.Done():
				}
				continue
			}
			select {
			case ch <- g:
			default: // this connection is behind: skip the group for it
			}
		}
	}
	for _, ch := range groups {
		close(ch)
	}
	for _, c := range conns {
		c.CloseWithError(0, "")
	}
	wg.Wait()
	return nil
}

// child is a running server process.
type child struct {
	cmd   *os.Process
	stdin io.WriteCloser
	addr  string
	fp    string
	lines chan string // the child's later output lines
	done  chan error
}

func startChild(mode string, n int, paced bool) (*child, error) {
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
	args := []string{exe, "-serve", mode, "-n", fmt.Sprint(n), fmt.Sprintf("-paced=%v", paced)}
	p, err := os.StartProcess(exe, args, &os.ProcAttr{Files: []*os.File{ir, pw, os.Stderr}})
	pw.Close()
	ir.Close()
	if err != nil {
		return nil, err
	}
	c := &child{cmd: p, stdin: iw, lines: make(chan string, 16), done: make(chan error, 1)}
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
	for {
		select {
		case l := <-c.lines:
			if l == "settled" {
				return nil
			}
		case <-time.After(30 * time.Second):
			return errors.New("child did not settle")
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

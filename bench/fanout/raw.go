package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/moqgo/moqgo/internal/devcert"
)

// pacing is how the source of a run produces its groups.
type pacing int

const (
	// unpaced: groups as fast as the server takes them (throughput).
	unpaced pacing = iota
	// framesPaced: 30 groups/s, each group's 30 frames spread evenly over
	// its 1/30 s, one every 1.1 ms, as a live source produces them.
	framesPaced
	// burstPaced: 30 groups/s, each group's 30 frames written at once at
	// the start of its 1/30 s.
	burstPaced
)

func (p pacing) String() string {
	switch p {
	case framesPaced:
		return "frames"
	case burstPaced:
		return "burst"
	}
	return "none"
}

// Set implements flag.Value.
func (p *pacing) Set(s string) error {
	for _, v := range []pacing{unpaced, framesPaced, burstPaced} {
		if v.String() == s {
			*p = v
			return nil
		}
	}
	return fmt.Errorf("unknown pacing %q", s)
}

// ticks returns the tickers of a source paced by p: one per group
// (bursts) or one per frame (frame-paced), nil if it is not paced.
func (p pacing) ticks() (group, frame <-chan time.Time, stop func()) {
	var t *time.Ticker
	switch p {
	case framesPaced:
		t = time.NewTicker(frameInterval)
		frame = t.C
	case burstPaced:
		t = time.NewTicker(time.Second / groupsPerSecond)
		group = t.C
	default:
		return nil, nil, func() {}
	}
	return group, frame, t.Stop
}

// rawQUICConfig is the QUIC configuration of both ends of the raw
// baseline.
var rawQUICConfig = &quic.Config{MaxIdleTimeout: time.Minute, EnableDatagrams: true}

// frameInterval is the time between two frames of a frame-paced source.
const frameInterval = time.Second / (groupsPerSecond * framesPerGroup)

// piece is what the raw server hands each connection's writer: a run of
// frames of one group, its first and/or its last.
type piece struct {
	b           []byte
	first, last bool
}

// serveRaw accepts n connections, says "accepted", and once start is
// closed writes the benchmark's groups to each: one unidirectional stream
// per group, as a relay does. Datagrams are enabled as a MoQT session has
// them, so that the idle connections the parent measures before start
// cost what a relay's QUIC connections cost.
func serveRaw(pc net.PacketConn, cert *devcert.Cert, n int, p pacing, start, stop <-chan struct{}) error {
	tlsConf := cert.TLSConfig()
	tlsConf.NextProtos = []string{rawALPN}
	tr := &quic.Transport{Conn: pc}
	defer tr.Close()
	ln, err := tr.Listen(tlsConf, rawQUICConfig)
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
	fmt.Println("accepted")
	select {
	case <-start:
	case <-ctx.Done():
		return nil
	}
	// Every connection gets its own writer: a slow one does not hold up
	// the others (as in the relay). The frames are produced once and
	// shared.
	pieces := make([]chan piece, n)
	var wg sync.WaitGroup
	for i, c := range conns {
		pieces[i] = make(chan piece, 64*framesPerGroup)
		wg.Add(1)
		go func() {
			defer wg.Done()
			writeRaw(ctx, c, pieces[i])
		}()
	}
	groupTick, frameTick, stopTicks := p.ticks()
	defer stopTicks()
	tick := groupTick // at most one of them is set
	if frameTick != nil {
		tick = frameTick
	}
	for ctx.Err() == nil {
		// One group, whole or (frame-paced) a frame at a time.
		per := framesPerGroup
		if p == framesPaced {
			per = 1
		}
		for f := 0; f < framesPerGroup && ctx.Err() == nil; f += per {
			if tick != nil {
				select {
				case <-tick:
				case <-ctx.Done():
				}
			}
			b := make([]byte, per*frameSize)
			now := time.Now().UnixNano()
			for k := 0; k < per; k++ {
				binary.BigEndian.PutUint64(b[k*frameSize:], uint64(now))
			}
			pc := piece{b: b, first: f == 0, last: f+per == framesPerGroup}
			for _, ch := range pieces {
				if p == unpaced {
					select { // as fast as the connections take groups
					case ch <- pc:
					case <-ctx.Done():
					}
					continue
				}
				select {
				case ch <- pc:
				default: // this connection is behind: it misses these frames
				}
			}
		}
	}
	for _, ch := range pieces {
		close(ch)
	}
	for _, c := range conns {
		c.CloseWithError(0, "")
	}
	wg.Wait()
	return nil
}

// writeRaw writes the pieces to one connection, a stream per group.
func writeRaw(ctx context.Context, c *quic.Conn, pieces <-chan piece) {
	var st *quic.SendStream
	for pc := range pieces {
		if pc.first && st != nil { // the last piece of the previous group was missed
			st.Close()
			st = nil
		}
		if st == nil {
			var err error
			if st, err = c.OpenUniStreamSync(ctx); err != nil {
				return
			}
		}
		if _, err := st.Write(pc.b); err != nil {
			st.CancelWrite(0)
			st = nil
			continue
		}
		if pc.last {
			st.Close()
			st = nil
		}
	}
}

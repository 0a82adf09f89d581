package netsim

import (
	"errors"
	"net"
	"sync"
)

// Config configures a Proxy.
type Config struct {
	// Up is the path from the clients (who send to Proxy.Addr) to the
	// target; Down is the path back.
	Up, Down Link
	// Seed seeds the random decisions (loss, reordering) of both
	// directions.
	Seed uint64
}

// Stats counts the datagrams of both directions.
type Stats struct {
	Up, Down LinkStats
}

// maxDatagram is the largest datagram forwarded; larger ones are truncated
// by the socket read, as on a real path with that MTU.
const maxDatagram = 2048

// socketBuffer is the socket buffer size requested, so that the kernel
// does not drop bursts before the simulated queue sees them.
const socketBuffer = 4 << 20

// Proxy forwards UDP datagrams between clients and one target through two
// simulated Links. Each client address gets its own socket towards the
// target, so the target sees one peer per client, as through a NAT.
type Proxy struct {
	ln     *net.UDPConn
	target *net.UDPAddr
	up     *link
	down   *link
	pool   sync.Pool
	done   chan struct{}
	wg     sync.WaitGroup

	mu      sync.Mutex
	clients map[string]*net.UDPConn
	closed  bool
}

// New starts a proxy listening on an ephemeral loopback port and forwarding
// to target (a "host:port" UDP address). Close stops it.
func New(target string, cfg Config) (*Proxy, error) {
	taddr, err := net.ResolveUDPAddr("udp", target)
	if err != nil {
		return nil, err
	}
	ln, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, err
	}
	_ = ln.SetReadBuffer(socketBuffer)
	_ = ln.SetWriteBuffer(socketBuffer)
	p := &Proxy{
		ln:      ln,
		target:  taddr,
		done:    make(chan struct{}),
		clients: make(map[string]*net.UDPConn),
	}
	p.pool.New = func() any { b := make([]byte, maxDatagram); return &b }
	p.up = newLink(cfg.Up, cfg.Seed, &p.pool)
	p.down = newLink(cfg.Down, cfg.Seed+1, &p.pool)
	p.wg.Add(3)
	go func() { defer p.wg.Done(); p.up.run(p.done) }()
	go func() { defer p.wg.Done(); p.down.run(p.done) }()
	go func() { defer p.wg.Done(); p.readClients() }()
	return p, nil
}

// Addr is the address clients send to instead of the target.
func (p *Proxy) Addr() *net.UDPAddr { return p.ln.LocalAddr().(*net.UDPAddr) }

// SetLinks changes both directions from now on; datagrams already in
// flight keep their fate.
func (p *Proxy) SetLinks(up, down Link) {
	p.up.set(up)
	p.down.set(down)
}

// Stats returns the counters of both directions.
func (p *Proxy) Stats() Stats { return Stats{Up: p.up.snapshot(), Down: p.down.snapshot()} }

// Close stops the proxy, drops the datagrams in flight and waits for its
// goroutines.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	close(p.done)
	err := p.ln.Close()
	for _, c := range p.clients {
		_ = c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
	return err
}

// readClients reads the clients' datagrams and sends them up.
func (p *Proxy) readClients() {
	for {
		buf := p.pool.Get().(*[]byte)
		n, from, err := p.ln.ReadFromUDP(*buf)
		if err != nil {
			p.pool.Put(buf)
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		c := p.upstream(from)
		if c == nil {
			p.pool.Put(buf)
			continue
		}
		p.up.admit(buf, n, c, nil)
	}
}

// upstream returns the socket towards the target for client from, opening
// it (and its reader) on first use; nil once closed.
func (p *Proxy) upstream(from *net.UDPAddr) *net.UDPConn {
	key := from.String()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	if c := p.clients[key]; c != nil {
		return c
	}
	c, err := net.DialUDP("udp", nil, p.target)
	if err != nil {
		return nil
	}
	_ = c.SetReadBuffer(socketBuffer)
	_ = c.SetWriteBuffer(socketBuffer)
	p.clients[key] = c
	client := *from
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		p.readTarget(c, &client)
	}()
	return c
}

// readTarget reads the target's datagrams for one client and sends them
// down.
func (p *Proxy) readTarget(c *net.UDPConn, client *net.UDPAddr) {
	for {
		buf := p.pool.Get().(*[]byte)
		n, err := c.Read(*buf)
		if err != nil {
			p.pool.Put(buf)
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		p.down.admit(buf, n, p.ln, client)
	}
}

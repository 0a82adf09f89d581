package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/moqgo/moqgo/moqt"
	"github.com/moqgo/moqgo/relay"
)

type demoOptions struct {
	duration    time.Duration
	subscribers int
	interval    time.Duration
}

func newDemoCmd() *cobra.Command {
	o := &demoOptions{}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run a relay, a publisher and subscribers in-process and show live stats",
		Long: `Run a complete MoQ setup on loopback: a relay, a synthetic publisher (a clock
track and a ~2 Mbit/s video-like track with a base and an enhancement layer)
and subscribers joining at different times over raw QUIC and WebTransport,
with a live view of what each subscriber receives: bitrate, groups, objects,
end-to-end latency (p50/p99) and dropped groups. A late joiner starts at the
beginning of the current group: the objects of it sent before the
subscription began are counted as catch-up, not in the latency, whose
percentiles would otherwise show how far into a group a subscriber joined
rather than how long objects take. Stop it with Ctrl-C.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runDemo(cmd, o) },
	}
	f := cmd.Flags()
	f.DurationVar(&o.duration, "duration", 0, "stop after this long (0: run until Ctrl-C)")
	f.IntVar(&o.subscribers, "subscribers", 4, "number of subscribers")
	f.DurationVar(&o.interval, "interval", time.Second, "refresh interval of the stats view")
	return cmd
}

// demoSub is one demo subscriber.
type demoSub struct {
	name   string
	tracks map[moqt.TrackName]*trackStats
}

var demoTracks = []moqt.TrackName{"clock", "video"}

func runDemo(cmd *cobra.Command, o *demoOptions) error {
	if o.subscribers < 1 {
		return errors.New("--subscribers must be at least 1")
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if o.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.duration)
		defer cancel()
	}
	log := slog.New(slog.DiscardHandler)
	srv, err := startRelayServer(relayServerOptions{
		addr: "127.0.0.1:0", cfg: relay.Config{WaitForPublisher: 10 * time.Second, Logger: log}, log: log,
	})
	if err != nil {
		return err
	}
	defer srv.close()
	client := &moqt.Client{TLSConfig: srv.cert.ClientTLSConfig()}
	pub, err := runPublisher(ctx, client, "moqt://"+srv.addr+"/demo")
	if err != nil {
		return fmt.Errorf("publisher: %w", err)
	}
	defer pub.Close()

	subs := make([]*demoSub, o.subscribers)
	var wg sync.WaitGroup
	errc := make(chan error, o.subscribers)
	for i := range subs {
		scheme := []string{"moqt", "https"}[i%2]
		s := &demoSub{name: fmt.Sprintf("sub%d %s", i+1, map[string]string{"moqt": "quic", "https": "webtransport"}[scheme]), tracks: map[moqt.TrackName]*trackStats{}}
		for _, n := range demoTracks {
			s.tracks[n] = newTrackStats()
		}
		subs[i] = s
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Subscribers join at different times: every 500ms.
			select {
			case <-time.After(time.Duration(i) * 500 * time.Millisecond):
			case <-ctx.Done():
				return
			}
			if err := runDemoSub(ctx, client, scheme+"://"+srv.addr+"/demo", s); err != nil && ctx.Err() == nil {
				errc <- fmt.Errorf("%s: %w", s.name, err)
			}
		}()
	}

	out := cmd.OutOrStdout()
	fmt.Fprintf(out, "moq demo: relay on %s (metrics: http://%s/metrics), %d subscribers; Ctrl-C to stop\n", srv.addr, srv.addr, o.subscribers)
	live := isTerminal(out)
	tick := time.NewTicker(o.interval)
	defer tick.Stop()
	for done := false; !done; {
		select {
		case <-tick.C:
		case err := <-errc:
			stop()
			wg.Wait()
			return err
		case <-ctx.Done():
			done = true
		}
		if live || done {
			renderDemo(out, subs, live, srv.relay.Stats())
		}
	}
	pub.Close()
	wg.Wait()
	return nil
}

// runDemoSub subscribes to every demo track and records what arrives.
func runDemoSub(ctx context.Context, c *moqt.Client, url string, s *demoSub) error {
	sess, err := c.Dial(ctx, url, nil)
	if err != nil {
		return err
	}
	defer sess.Close()
	// Ending the session at the end ends the reads in progress too.
	defer context.AfterFunc(ctx, func() { sess.Close() })()
	var wg sync.WaitGroup
	defer wg.Wait()
	for _, name := range demoTracks {
		// Objects sent before this are replayed from the relay's cache.
		start := time.Now()
		tr, err := sess.Subscribe(demoPath, name, nil)
		if err != nil {
			return err
		}
		st := s.tracks[name]
		wg.Add(1)
		go func() {
			defer wg.Done()
			var gwg sync.WaitGroup
			defer gwg.Wait()
			for {
				gr, err := tr.AcceptGroup(ctx)
				if err != nil {
					return
				}
				st.group(uint64(gr.GroupSequence()))
				gwg.Add(1)
				go func() {
					defer gwg.Done()
					readDemoGroup(gr, st, start)
				}()
			}
		}()
	}
	return nil
}

// readDemoGroup reads a group to its end; objects sent before start, when
// the subscription began, are catch-up.
func readDemoGroup(gr *moqt.GroupReader, st *trackStats, start time.Time) {
	for {
		o, err := gr.ReadObject()
		if err == io.EOF {
			return
		}
		if err != nil {
			st.drop()
			return
		}
		var lat time.Duration
		catchUp := false
		for _, e := range o.Extensions {
			if e.Type == sentAtExt {
				sent := time.UnixMicro(int64(e.Value))
				lat, catchUp = time.Since(sent), sent.Before(start)
			}
		}
		st.object(o.Frame.Len(), lat, catchUp)
	}
}

// renderDemo prints the stats table; live redraws it in place.
func renderDemo(w io.Writer, subs []*demoSub, live bool, rs relay.Stats) {
	var b strings.Builder
	if live {
		b.WriteString("\x1b[H\x1b[2J")
	}
	fmt.Fprintf(&b, "%-20s %-6s %10s %8s %9s %8s %9s %9s %6s\n", "subscriber", "track", "bitrate", "groups", "objects", "catch-up", "p50", "p99", "drops")
	for _, s := range subs {
		for _, n := range demoTracks {
			sn := s.tracks[n].snapshot()
			fmt.Fprintf(&b, "%-20s %-6s %10s %8d %9d %8d %9s %9s %6d\n", s.name, n, formatBitrate(sn.bitrate), sn.groups, sn.objects, sn.catchUp,
				formatLatency(sn.p50), formatLatency(sn.p99), sn.drops)
		}
	}
	fmt.Fprintf(&b, "relay: %d sessions, %d tracks, %d subscriptions, %d objects in, %d out, cache %d KiB, %d skips\n",
		rs.Sessions, rs.Tracks, rs.Subscriptions, rs.ObjectsIn, rs.ObjectsOut, rs.CacheBytes>>10, rs.Skips)
	io.WriteString(w, b.String())
}

func formatBitrate(bps float64) string {
	switch {
	case bps >= 1e6:
		return fmt.Sprintf("%.2f Mb/s", bps/1e6)
	case bps >= 1e3:
		return fmt.Sprintf("%.1f kb/s", bps/1e3)
	}
	return fmt.Sprintf("%.0f b/s", bps)
}

func formatLatency(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return d.Round(10 * time.Microsecond).String()
}

// isTerminal reports whether w is a terminal, where the view is redrawn.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

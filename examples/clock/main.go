// Command clock publishes the time on a MoQT track and subscribes to it.
//
//	clock -serve :4443               # publish /clock "seconds"
//	clock -url moqt://localhost:4443/ # print the time, one frame per tick
//
// Without flags it runs both in one process for a few ticks.
//
// The publisher is a moqt.Broadcast with one moqt.Track: the track writes
// each tick once, fans it out to every subscriber and keeps a short history
// for late joiners (FETCH).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"time"

	"github.com/moqgo/moqgo/examples/internal/exutil"
	"github.com/moqgo/moqgo/moqt"
)

func main() {
	serve := flag.String("serve", "", "UDP address to publish the clock on")
	url := flag.String("url", "", "moqt:// or https:// URL to subscribe to")
	ticks := flag.Int("n", 5, "ticks to print")
	flag.Parse()
	ctx := context.Background()
	switch {
	case *serve != "":
		log.Fatal(exutil.ListenAndServe(*serve, clockMux(ctx, time.Second)))
	case *url != "":
		// The example server's certificate is self-signed.
		c := &moqt.Client{TLSConfig: exutil.InsecureTLS()}
		if err := subscribe(ctx, c, *url, *ticks, os.Stdout); err != nil {
			log.Fatal(err)
		}
	default:
		if err := demo(ctx, *ticks, 200*time.Millisecond, os.Stdout); err != nil {
			log.Fatal(err)
		}
	}
}

// clockMux publishes /clock with a "seconds" track: one group of one
// object per tick, until ctx ends.
func clockMux(ctx context.Context, tick time.Duration) *moqt.TrackMux {
	bc := moqt.NewBroadcast()
	seconds := bc.AddTrack("seconds", nil) // nil: default history limits
	go func() {
		defer seconds.Close()
		t := time.NewTicker(tick)
		defer t.Stop()
		for seq := moqt.GroupSequence(0); ; seq++ {
			select {
			case now := <-t.C:
				g, err := seconds.OpenGroup(seq)
				if err != nil {
					return
				}
				g.WriteFrame(moqt.NewFrame([]byte(now.Format(time.RFC3339Nano))))
				g.Close()
			case <-ctx.Done():
				return
			}
		}
	}()
	mux := moqt.NewTrackMux()
	mux.Publish(ctx, "/clock", bc)
	return mux
}

// subscribe prints n ticks of the clock served at url.
func subscribe(ctx context.Context, c *moqt.Client, url string, n int, out io.Writer) error {
	sess, err := c.Dial(ctx, url, nil)
	if err != nil {
		return err
	}
	defer sess.Close()
	tr, err := sess.Subscribe("/clock", "seconds", &moqt.TrackConfig{Filter: moqt.FilterNextGroupStart})
	if err != nil {
		return err
	}
	defer tr.Close()
	var buf []byte // each tick is read into it: nothing is allocated per frame
	for i := 0; i < n; i++ {
		gr, err := tr.AcceptGroup(ctx)
		if err != nil {
			return err
		}
		if buf, err = gr.AppendFrame(buf[:0]); err != nil {
			return err
		}
		fmt.Fprintf(out, "group %d: %s\n", gr.GroupSequence(), buf)
	}
	return nil
}

// demo runs a clock server on a loopback port and subscribes to it over
// both transports.
func demo(ctx context.Context, n int, tick time.Duration, out io.Writer) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	addr, cliTLS, stop, err := exutil.ServeLoopback(&moqt.Server{TrackMux: clockMux(ctx, tick)})
	if err != nil {
		return err
	}
	defer stop()
	client := &moqt.Client{TLSConfig: cliTLS}
	for _, scheme := range []string{"moqt", "https"} {
		fmt.Fprintf(out, "%s:\n", scheme)
		if err := subscribe(ctx, client, scheme+"://"+addr+"/", n, out); err != nil {
			return err
		}
	}
	return nil
}

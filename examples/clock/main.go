// Command clock publishes the time on a MoQT track and subscribes to it.
//
//	clock -serve :4443               # publish /clock "seconds"
//	clock -url moqt://localhost:4443/ # print the time, one frame per tick
//
// Without flags it runs both in one process for a few ticks.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
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
	srvTLS, cliTLS, err := exutil.SelfSigned()
	if err != nil {
		log.Fatal(err)
	}
	switch {
	case *serve != "":
		srv := &moqt.Server{Addr: *serve, TLSConfig: srvTLS, TrackMux: clockMux(ctx, time.Second)}
		log.Fatal(srv.ListenAndServe())
	case *url != "":
		cliTLS.InsecureSkipVerify = true // the example server's certificate is self-signed
		if err := subscribe(ctx, &moqt.Client{TLSConfig: cliTLS}, *url, *ticks, os.Stdout); err != nil {
			log.Fatal(err)
		}
	default:
		if err := demo(ctx, *ticks, 200*time.Millisecond, os.Stdout); err != nil {
			log.Fatal(err)
		}
	}
}

// clockMux publishes /clock with a "seconds" track: one group per tick.
func clockMux(ctx context.Context, tick time.Duration) *moqt.TrackMux {
	b := &exutil.Broadcast{}
	go func() {
		t := time.NewTicker(tick)
		defer t.Stop()
		for {
			select {
			case now := <-t.C:
				b.Send(moqt.NewFrame([]byte(now.Format(time.RFC3339Nano))))
			case <-ctx.Done():
				return
			}
		}
	}()
	mux := moqt.NewTrackMux()
	mux.Publish(ctx, "/clock", b)
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
	for i := 0; i < n; i++ {
		gr, err := tr.AcceptGroup(ctx)
		if err != nil {
			return err
		}
		f, err := gr.ReadFrame()
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "group %d: %s\n", gr.GroupSequence(), f.Bytes())
	}
	return nil
}

// demo runs a clock server on a loopback port and subscribes to it over
// both transports.
func demo(ctx context.Context, n int, tick time.Duration, out io.Writer) error {
	srvTLS, cliTLS, err := exutil.SelfSigned()
	if err != nil {
		return err
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer pc.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	srv := &moqt.Server{TLSConfig: srvTLS, TrackMux: clockMux(ctx, tick)}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(pc) }()
	defer func() { srv.Close(); <-done }()
	client := &moqt.Client{TLSConfig: cliTLS.Clone()}
	for _, scheme := range []string{"moqt", "https"} {
		fmt.Fprintf(out, "%s:\n", scheme)
		if err := subscribe(ctx, client, scheme+"://"+pc.LocalAddr().String()+"/", n, out); err != nil {
			return err
		}
	}
	return nil
}

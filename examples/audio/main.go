// Command audio sends an audio-like track over MoQT datagrams and listens
// to it.
//
//	audio -serve :4443               # publish /audio "mic"
//	audio -url moqt://localhost:4443/ # count the frames that arrive
//
// Without flags it runs both in one process, listening over raw QUIC and
// over WebTransport.
//
// Audio is data where late is worthless: each 20 ms frame is a group of
// one object, sent with TrackWriter.OpenDatagramGroup as one
// OBJECT_DATAGRAM, so a lost packet loses that frame and delays nothing
// else. The listener reads datagram groups with the same AcceptGroup and
// GroupReader calls as stream groups; a lost frame is simply missing.
//
// moqt.Track writes subgroup streams only, so the publisher here is a
// TrackHandler of its own that sends each subscriber frames from group 0
// on.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"time"

	"github.com/moqgo/moqgo/examples/internal/exutil"
	"github.com/moqgo/moqgo/moqt"
)

// frameInterval is the audio frame duration, one group per frame.
const frameInterval = 20 * time.Millisecond

func main() {
	serve := flag.String("serve", "", "UDP address to publish the track on")
	url := flag.String("url", "", "moqt:// or https:// URL to subscribe to")
	frames := flag.Int("n", 250, "frames to send each subscriber")
	flag.Parse()
	ctx := context.Background()
	switch {
	case *serve != "":
		log.Fatal(exutil.ListenAndServe(*serve, audioMux(ctx, *frames, frameInterval)))
	case *url != "":
		c := &moqt.Client{TLSConfig: exutil.InsecureTLS()}
		if err := listen(ctx, c, *url, os.Stdout); err != nil {
			log.Fatal(err)
		}
	default:
		if err := demo(ctx, 50, frameInterval, os.Stdout); err != nil {
			log.Fatal(err)
		}
	}
}

// Mic is a TrackHandler that sends every subscriber n frames, one every
// interval, each as a datagram group of one object, and then ends the
// subscription.
type Mic struct {
	N        int
	Interval time.Duration
}

// ServeTrack sends the frames to one subscriber.
func (m *Mic) ServeTrack(tw *moqt.TrackWriter) {
	defer tw.Close()
	t := time.NewTicker(m.Interval)
	defer t.Stop()
	for i := range m.N {
		select {
		case <-t.C:
		case <-tw.Context().Done():
			return
		}
		g, err := tw.OpenDatagramGroup(moqt.GroupSequence(i))
		if err != nil {
			return
		}
		g.WriteFrame(moqt.NewFrame(fmt.Appendf(nil, "audio frame %d", i)))
		g.Close() // an End of Group datagram
	}
}

// audioMux publishes /audio with its "mic" track.
func audioMux(ctx context.Context, n int, interval time.Duration) *moqt.TrackMux {
	mux := moqt.NewTrackMux()
	mux.Publish(ctx, "/audio", &Mic{N: n, Interval: interval})
	return mux
}

// listen subscribes to the mic track at url, reads frames until the track
// ends and prints how many arrived.
func listen(ctx context.Context, c *moqt.Client, url string, out io.Writer) error {
	sess, err := c.Dial(ctx, url, nil)
	if err != nil {
		return err
	}
	defer sess.Close()
	tr, err := sess.Subscribe("/audio", "mic", nil)
	if err != nil {
		return err
	}
	defer tr.Close()
	received := 0
	var first, last moqt.GroupSequence
	for {
		gr, err := tr.AcceptGroup(ctx)
		if errors.Is(err, io.EOF) { // PUBLISH_DONE: the publisher is done
			break
		}
		if err != nil {
			return err
		}
		if _, err := gr.ReadFrame(); err != nil {
			continue // the frame was lost, its End of Group arrived
		}
		if received == 0 || gr.GroupSequence() < first {
			first = gr.GroupSequence()
		}
		last = max(last, gr.GroupSequence())
		received++
	}
	if received == 0 {
		fmt.Fprintln(out, "received 0 frames")
		return nil
	}
	fmt.Fprintf(out, "received %d frames of groups %d-%d\n", received, first, last)
	return nil
}

// demo serves n frames every interval on a loopback port and listens over
// both transports.
func demo(ctx context.Context, n int, interval time.Duration, out io.Writer) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	addr, cliTLS, stop, err := exutil.ServeLoopback(&moqt.Server{TrackMux: audioMux(ctx, n, interval)})
	if err != nil {
		return err
	}
	defer stop()
	client := &moqt.Client{TLSConfig: cliTLS}
	for _, scheme := range []string{"moqt", "https"} {
		fmt.Fprintf(out, "%s: ", scheme)
		if err := listen(ctx, client, scheme+"://"+addr+"/", out); err != nil {
			return err
		}
	}
	return nil
}

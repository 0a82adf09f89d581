// Command layered publishes a layered video-like track over MoQT and
// subscribes to it, printing every object with its place in the track.
//
//	layered -serve :4443               # publish /video "camera"
//	layered -url moqt://localhost:4443/ # print objects until the track ends
//
// Without flags it runs both in one process, with one subscriber over raw
// QUIC and one over WebTransport.
//
// Each group is a GOP of frames in two layers, each layer a subgroup on its
// own QUIC stream so that a loss in the enhancement layer never stalls the
// base layer:
//
//   - subgroup 0, the base layer: even object IDs, publisher priority
//     basePriority (in MoQT a lower number is more urgent), and an End of
//     Group status object after the last frame (End of Track in the last
//     group);
//   - subgroup 1, the enhancement layer: odd object IDs, the less urgent
//     enhancementPriority.
//
// Every frame carries its capture time as an object extension header
// (extCaptureTime). The publisher is a moqt.Track, opened per subgroup
// with Track.OpenSubgroup and written with WriteObject; the subscriber
// reads each subgroup with GroupReader.ReadObject.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/moqgo/moqgo/examples/internal/exutil"
	"github.com/moqgo/moqgo/moqt"
)

const (
	// basePriority and enhancementPriority are the layers' publisher
	// priorities: lower is more urgent, so under congestion the base layer
	// goes first.
	basePriority        uint8 = 64
	enhancementPriority uint8 = 128

	// extCaptureTime is the extension header carrying a frame's capture
	// time, in microseconds since the start of the stream. Draft-14's IANA
	// note reserves extension types 0-63 and 64-16383 for standards and
	// leaves 16384 and above to first-come-first-served use, so an
	// application picks one there; an even type carries a varint value (an
	// odd one carries bytes).
	extCaptureTime uint64 = 0x4c10

	// gopFrames is the number of frames per group, frameInterval the time
	// between two frames (25 frames per second).
	gopFrames     = 3
	frameInterval = 40 * time.Millisecond
)

func main() {
	serve := flag.String("serve", "", "UDP address to publish the track on")
	url := flag.String("url", "", "moqt:// or https:// URL to subscribe to")
	gops := flag.Int("n", 50, "groups to publish before the track ends")
	flag.Parse()
	ctx := context.Background()
	switch {
	case *serve != "":
		mux, video := videoMux(ctx)
		go func() {
			if err := publish(ctx, video, *gops, frameInterval); err != nil {
				log.Print(err)
			}
		}()
		log.Fatal(exutil.ListenAndServe(*serve, mux))
	case *url != "":
		sess, err := (&moqt.Client{TLSConfig: exutil.InsecureTLS()}).Dial(ctx, *url, nil)
		if err != nil {
			log.Fatal(err)
		}
		defer sess.Close()
		tr, err := subscribe(sess)
		if err != nil {
			log.Fatal(err)
		}
		if err := printObjects(ctx, tr, os.Stdout); err != nil {
			log.Fatal(err)
		}
	default:
		if err := demo(ctx, 2, os.Stdout); err != nil {
			log.Fatal(err)
		}
	}
}

// videoMux publishes /video with a "camera" track and returns the track.
func videoMux(ctx context.Context) (*moqt.TrackMux, *moqt.Track) {
	bc := moqt.NewBroadcast()
	video := bc.AddTrack("camera", nil)
	mux := moqt.NewTrackMux()
	mux.Publish(ctx, "/video", bc)
	return mux, video
}

// publish writes gops groups of gopFrames two-layer frames to t, one frame
// every pace (0: as fast as possible), then ends the track.
func publish(ctx context.Context, t *moqt.Track, gops int, pace time.Duration) error {
	defer t.Close()
	var tick <-chan time.Time
	if pace > 0 {
		ticker := time.NewTicker(pace)
		defer ticker.Stop()
		tick = ticker.C
	}
	for g := range gops {
		seq := moqt.GroupSequence(g)
		base, err := t.OpenSubgroup(seq, 0, basePriority)
		if err != nil {
			return err
		}
		enh, err := t.OpenSubgroup(seq, 1, enhancementPriority)
		if err != nil {
			return err
		}
		for i := range gopFrames {
			n := g*gopFrames + i // frame number
			capture := []moqt.Extension{{Type: extCaptureTime, Value: uint64(time.Duration(n) * frameInterval / time.Microsecond)}}
			err := base.WriteObject(&moqt.Object{ID: uint64(2 * i), Extensions: capture, Frame: moqt.NewFrame(fmt.Appendf(nil, "base %d", n))})
			if err != nil {
				return err
			}
			err = enh.WriteObject(&moqt.Object{ID: uint64(2*i + 1), Extensions: capture, Frame: moqt.NewFrame(fmt.Appendf(nil, "enhancement %d", n))})
			if err != nil {
				return err
			}
			if tick != nil {
				select {
				case <-tick:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
		}
		// End of Group: its Object ID is one past the group's largest. The
		// last group ends the track instead (End of Track also ends the
		// group).
		end := moqt.StatusEndOfGroup
		if g == gops-1 {
			end = moqt.StatusEndOfTrack
		}
		if err := base.WriteObject(&moqt.Object{ID: 2 * gopFrames, Status: end}); err != nil {
			return err
		}
		enh.Close()
		base.Close()
	}
	return nil
}

// subscribe subscribes to the camera track from the next group on.
func subscribe(sess *moqt.Session) (*moqt.TrackReader, error) {
	return sess.Subscribe("/video", "camera", &moqt.TrackConfig{Filter: moqt.FilterNextGroupStart})
}

// printObjects prints every object of the track, one line each, until the
// track ends. Each subgroup is read on its own goroutine, as it arrives on
// its own stream: lines of different subgroups interleave.
func printObjects(ctx context.Context, tr *moqt.TrackReader, out io.Writer) error {
	defer tr.Close()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex // serializes writes to out and err
		rerr error
	)
	defer wg.Wait()
	for {
		gr, err := tr.AcceptGroup(ctx)
		if errors.Is(err, io.EOF) { // the track ended
			wg.Wait()
			return rerr
		}
		if err != nil {
			return err
		}
		wg.Go(func() {
			for {
				o, err := gr.ReadObject()
				if err != nil {
					if !errors.Is(err, io.EOF) {
						mu.Lock()
						rerr = err
						mu.Unlock()
					}
					return
				}
				line := describe(gr, o)
				mu.Lock()
				fmt.Fprintln(out, line)
				mu.Unlock()
			}
		})
	}
}

// describe formats an object of gr.
func describe(gr *moqt.GroupReader, o *moqt.Object) string {
	var b strings.Builder
	fmt.Fprintf(&b, "group %d subgroup %d priority %d object %d %s", gr.GroupSequence(), gr.SubgroupID(), gr.PublisherPriority(), o.ID, o.Status.String())
	for _, e := range o.Extensions {
		if e.Type == extCaptureTime {
			fmt.Fprintf(&b, " captured %v", time.Duration(e.Value)*time.Microsecond)
		}
	}
	if o.Frame != nil {
		fmt.Fprintf(&b, " %q", o.Frame.Bytes())
	}
	return b.String()
}

// demo publishes gops groups on a loopback server to two subscribers, one
// over raw QUIC and one over WebTransport, and prints what each received.
func demo(ctx context.Context, gops int, out io.Writer) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	mux, video := videoMux(ctx)
	addr, cliTLS, stop, err := exutil.ServeLoopback(&moqt.Server{TrackMux: mux})
	if err != nil {
		return err
	}
	defer stop()
	client := &moqt.Client{TLSConfig: cliTLS}
	schemes := []string{"moqt", "https"}
	readers := make([]*moqt.TrackReader, len(schemes))
	for i, scheme := range schemes {
		sess, err := client.Dial(ctx, scheme+"://"+addr+"/", nil)
		if err != nil {
			return err
		}
		defer sess.Close()
		if readers[i], err = subscribe(sess); err != nil {
			return err
		}
	}
	// Both are subscribed: every group published from now on reaches them.
	pubErr := make(chan error, 1)
	go func() { pubErr <- publish(ctx, video, gops, 0) }()
	outs := make([]strings.Builder, len(schemes))
	errs := make([]error, len(schemes))
	var wg sync.WaitGroup
	for i, tr := range readers {
		wg.Go(func() { errs[i] = printObjects(ctx, tr, &outs[i]) })
	}
	wg.Wait()
	if err := errors.Join(append(errs, <-pubErr)...); err != nil {
		return err
	}
	for i, scheme := range schemes {
		fmt.Fprintf(out, "%s:\n%s", scheme, outs[i].String())
	}
	return nil
}

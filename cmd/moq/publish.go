package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/moqgo/moqgo/moqt"
)

type publishOptions struct {
	connectOptions
	frames        string
	frameSize     int
	maxFrame      int
	groupEvery    int
	groupDuration time.Duration
	historyGroups int
	linger        time.Duration
}

func newPublishCmd() *cobra.Command {
	o := &publishOptions{}
	cmd := &cobra.Command{
		Use:     "publish URL --path PATH --track NAME",
		Aliases: []string{"pub"},
		Short:   "Publish stdin as a track through a relay",
		Long: `Read stdin and publish it as a track: announce the broadcast path to the
relay (PUBLISH_NAMESPACE) and serve every subscription the relay makes.

Framing: --frames lines (the default) makes each line an object (without its
newline); --frames raw cuts stdin into objects of --frame-size bytes. A new
group starts every --group-every frames and with the first frame after
--group-duration (whichever comes first); each group is a join point for
late subscribers. The last --history groups are kept to answer FETCH and
joining subscribers.

At the end of stdin the track is closed cleanly (PUBLISH_DONE) and the
session stays open for --linger so the last objects reach the relay.
` + connectHelp,
		Example: `  moq relay &
  date | moq pub moqt://127.0.0.1:4443/ --path /live/x --track chat --insecure
  ffmpeg ... -f mpegts - | moq pub https://127.0.0.1:4443/ --path /live/tv --track ts --frames raw --frame-size 1316 --group-duration 1s --fingerprint HEX`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.prepare(cmd, args[0]); err != nil {
				return err
			}
			return runPublish(cmd, args[0], o)
		},
	}
	f := cmd.Flags()
	o.addFlags(f)
	f.StringVar(&o.frames, "frames", "lines", "input framing: lines (each line a frame) or raw (--frame-size bytes a frame)")
	f.IntVar(&o.frameSize, "frame-size", 1200, "bytes per frame with --frames raw")
	f.IntVar(&o.maxFrame, "max-frame", 1<<20, "longest line accepted with --frames lines, in bytes")
	f.IntVar(&o.groupEvery, "group-every", 0, "start a new group every N frames (0: only by --group-duration)")
	f.DurationVar(&o.groupDuration, "group-duration", time.Second, "start a new group with the first frame after this long (0: only by --group-every)")
	f.IntVar(&o.historyGroups, "history", moqt.DefaultHistoryGroups, "groups kept for FETCH and joining subscribers")
	f.DurationVar(&o.linger, "linger", 500*time.Millisecond, "after the end of stdin, keep the session open this long for the last objects to reach the relay")
	return cmd
}

// servedBroadcast is a Broadcast that knows when its subscriptions ended.
type servedBroadcast struct {
	*moqt.Broadcast
	wg sync.WaitGroup
}

func (b *servedBroadcast) ServeTrack(tw *moqt.TrackWriter) {
	b.wg.Add(1)
	defer b.wg.Done()
	b.Broadcast.ServeTrack(tw)
}

// frameSplitter returns a function reading the next frame from r.
func (o *publishOptions) frameSplitter(r io.Reader) (func() ([]byte, error), error) {
	switch o.frames {
	case "lines":
		sc := bufio.NewScanner(r)
		// A line of maxFrame bytes and its newline fit; the initial
		// buffer must not exceed that, or it would raise the limit.
		sc.Buffer(make([]byte, 0, min(4096, o.maxFrame+1)), o.maxFrame+1)
		sc.Split(splitLines)
		return func() ([]byte, error) {
			if sc.Scan() {
				return bytes.Clone(sc.Bytes()), nil
			}
			if errors.Is(sc.Err(), bufio.ErrTooLong) {
				return nil, fmt.Errorf("a line is longer than --max-frame %d bytes", o.maxFrame)
			}
			if sc.Err() != nil {
				return nil, sc.Err()
			}
			return nil, io.EOF
		}, nil
	case "raw":
		if o.frameSize < 1 {
			return nil, errors.New("--frame-size must be at least 1")
		}
		return func() ([]byte, error) {
			b := make([]byte, o.frameSize)
			n, err := io.ReadFull(r, b)
			if err == io.ErrUnexpectedEOF {
				err = nil
			}
			if n == 0 && err == nil {
				err = io.EOF
			}
			return b[:n], err
		}, nil
	}
	return nil, fmt.Errorf("--frames %q: want lines or raw", o.frames)
}

// splitLines splits at '\n' only, keeping every other byte ('\r'
// included), so that lines round-trip byte for byte.
func splitLines(data []byte, atEOF bool) (int, []byte, error) {
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		return i + 1, data[:i], nil
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}

// readFrames sends stdin's frames on a channel, closing it at the end
// (with the error, if any, on errc).
func readFrames(next func() ([]byte, error), stop <-chan struct{}) (<-chan []byte, <-chan error) {
	frames := make(chan []byte)
	errc := make(chan error, 1)
	go func() {
		defer close(frames)
		for {
			b, err := next()
			if err != nil {
				if err != io.EOF {
					errc <- err
				}
				return
			}
			select {
			case frames <- b:
			case <-stop:
				return
			}
		}
	}()
	return frames, errc
}

func runPublish(cmd *cobra.Command, rawURL string, o *publishOptions) error {
	if o.groupEvery < 0 || o.groupDuration < 0 || o.historyGroups < 1 || o.maxFrame < 1 {
		return errors.New("--group-every and --group-duration must not be negative, --history and --max-frame must be at least 1")
	}
	next, err := o.frameSplitter(cmd.InOrStdin())
	if err != nil {
		return err
	}
	ctx, cancel := runContext(cmd, 0)
	defer cancel()
	p, err := o.startPublisher(ctx, cmd, rawURL, o.historyGroups)
	if err != nil {
		return err
	}
	defer p.sess.Close()
	track, sess := p.track, p.sess

	stop := make(chan struct{})
	defer close(stop)
	frames, readErr := readFrames(next, stop)
	var (
		gw        *moqt.TrackGroupWriter
		seq       moqt.GroupSequence
		inGroup   int
		opened    time.Time
		total     int
		groups    int
		published error
	)
loop:
	for {
		select {
		case <-ctx.Done():
			published = errors.New("interrupted")
			break loop
		case <-sess.Context().Done():
			published = fmt.Errorf("session ended: %w", context.Cause(sess.Context()))
			break loop
		case f, ok := <-frames:
			if !ok {
				break loop
			}
			if gw != nil && (o.groupEvery > 0 && inGroup >= o.groupEvery || o.groupDuration > 0 && time.Since(opened) >= o.groupDuration) {
				gw.Close()
				gw, seq = nil, seq+1
			}
			if gw == nil {
				if gw, err = track.OpenGroup(seq); err != nil {
					return err
				}
				inGroup, opened = 0, time.Now()
				groups++
			}
			if err := gw.WriteFrame(moqt.NewFrame(f)); err != nil {
				return err
			}
			inGroup++
			total++
		}
	}
	if gw != nil {
		gw.Close()
	}
	if published == nil {
		select {
		case published = <-readErr:
		default:
		}
	}
	p.finish(ctx, published == nil, o.linger)
	fmt.Fprintf(cmd.ErrOrStderr(), "moq: published %d frames in %d groups\n", total, groups)
	return published
}

// trackPublisher is a session publishing one track through a relay.
type trackPublisher struct {
	b     *servedBroadcast
	track *moqt.Track
	sess  *moqt.Session
}

// startPublisher dials rawURL, publishes the track the flags name with a
// history of historyGroups groups and announces it to the relay.
func (o *connectOptions) startPublisher(ctx context.Context, cmd *cobra.Command, rawURL string, historyGroups int) (*trackPublisher, error) {
	p := &trackPublisher{b: &servedBroadcast{Broadcast: moqt.NewBroadcast()}}
	p.track = p.b.AddTrack(moqt.TrackName(o.track), &moqt.TrackHistory{MaxGroups: historyGroups})
	mux := moqt.NewTrackMux()
	mux.Publish(ctx, moqt.BroadcastPath(o.path), p.b)
	sess, err := o.dial(ctx, cmd, rawURL, mux)
	if err != nil {
		return nil, err
	}
	p.sess = sess
	sess.PublishNamespaces()
	fmt.Fprintf(cmd.ErrOrStderr(), "moq: publishing %s track %s over %s\n", o.path, o.track, sess.Protocol())
	return p, nil
}

// finish ends the track (PUBLISH_DONE to every subscription, once their
// groups are on their way) and, if linger, keeps the session open for up
// to linger so that the last objects reach the relay.
func (p *trackPublisher) finish(ctx context.Context, linger bool, d time.Duration) {
	p.track.Close()
	p.b.wg.Wait()
	if !linger || d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-p.sess.Context().Done():
	case <-ctx.Done():
	}
}

// waitSubscriber waits until the track serves a subscription: the relay
// subscribes when its first subscriber arrives.
func (p *trackPublisher) waitSubscriber(ctx context.Context) error {
	// Track has no subscription event; its count is checked on a short
	// tick, which costs nothing noticeable while waiting for a person.
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for p.track.Subscribers() == 0 {
		select {
		case <-t.C:
		case <-ctx.Done():
			return errors.New("interrupted while waiting for a subscriber")
		case <-p.sess.Context().Done():
			return fmt.Errorf("session ended: %w", context.Cause(p.sess.Context()))
		}
	}
	return nil
}

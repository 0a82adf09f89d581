package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/moqgo/moqgo/moqt"
)

// subscriptionOptions are the SUBSCRIBE settings shared by subscribe,
// inspect and record.
type subscriptionOptions struct {
	connectOptions
	filter      string
	startGroup  uint64
	startObject uint64
	endGroup    uint64
	priority    uint8
	groupOrder  string
	duration    time.Duration
}

func (o *subscriptionOptions) addFlags(f *pflag.FlagSet) {
	o.connectOptions.addFlags(f)
	f.StringVar(&o.filter, "filter", "latest", "where to start: latest (the current object), next-group, absolute-start (--start-group/--start-object) or absolute-range (to --end-group)")
	f.Uint64Var(&o.startGroup, "start-group", 0, "first group of an absolute filter")
	f.Uint64Var(&o.startObject, "start-object", 0, "first object of an absolute filter")
	f.Uint64Var(&o.endGroup, "end-group", 0, "last group of --filter absolute-range (inclusive)")
	f.Uint8Var(&o.priority, "priority", 128, "subscriber priority (0 is the most urgent)")
	f.StringVar(&o.groupOrder, "group-order", "default", "group delivery order: default (the publisher's), ascending or descending")
	f.DurationVar(&o.duration, "duration", 0, "stop after this long (0: until the track ends or Ctrl-C)")
}

// trackConfig converts the flags to a SUBSCRIBE.
func (o *subscriptionOptions) trackConfig() (*moqt.TrackConfig, error) {
	c := &moqt.TrackConfig{Priority: o.priority, StartGroup: moqt.GroupSequence(o.startGroup), StartObject: o.startObject, EndGroup: moqt.GroupSequence(o.endGroup)}
	switch o.filter {
	case "latest", "latest-object":
		c.Filter = moqt.FilterLatestObject
	case "next-group", "next-group-start":
		c.Filter = moqt.FilterNextGroupStart
	case "absolute-start":
		c.Filter = moqt.FilterAbsoluteStart
	case "absolute-range":
		c.Filter = moqt.FilterAbsoluteRange
		if o.endGroup < o.startGroup {
			return nil, fmt.Errorf("--end-group %d is before --start-group %d", o.endGroup, o.startGroup)
		}
	default:
		return nil, fmt.Errorf("--filter %q: want latest, next-group, absolute-start or absolute-range", o.filter)
	}
	switch o.groupOrder {
	case "default", "publisher":
		c.GroupOrder = moqt.GroupOrderDefault
	case "ascending":
		c.GroupOrder = moqt.GroupOrderAscending
	case "descending":
		c.GroupOrder = moqt.GroupOrderDescending
	default:
		return nil, fmt.Errorf("--group-order %q: want default, ascending or descending", o.groupOrder)
	}
	return c, nil
}

// subscription is a running subscription of a client command.
type subscription struct {
	sess *moqt.Session
	tr   *moqt.TrackReader
}

// subscribeTrack dials rawURL and subscribes as the flags say, printing a
// "subscribed" line on stderr once the publisher accepted.
func (o *subscriptionOptions) subscribeTrack(ctx context.Context, cmd *cobra.Command, rawURL string) (*subscription, error) {
	tc, err := o.trackConfig()
	if err != nil {
		return nil, err
	}
	sess, err := o.dial(ctx, cmd, rawURL, nil)
	if err != nil {
		return nil, err
	}
	// Subscribe waits for the answer, which a relay may hold until the
	// publisher arrives: ending ctx ends the session, and so the wait.
	stop := context.AfterFunc(ctx, func() { sess.Close() })
	tr, err := sess.Subscribe(moqt.BroadcastPath(o.path), moqt.TrackName(o.track), tc)
	stop()
	if err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		sess.Close()
		return nil, fmt.Errorf("subscribe %s %s: %w", o.path, o.track, err)
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "moq: subscribed to %s track %s over %s\n", o.path, o.track, sess.Protocol())
	return &subscription{sess: sess, tr: tr}, nil
}

// readGroups calls read, each on its own goroutine, with every group of
// the subscription until the track ends (nil), ctx ends (nil) or the
// subscription fails, and waits for them to return. Canceling ctx ends
// the session, which ends the reads in progress.
func (s *subscription) readGroups(ctx context.Context, read func(*moqt.GroupReader)) error {
	return s.readGroupsInOrder(ctx, nil, read)
}

// readGroupsInOrder is readGroups with admit, if not nil, called on the
// accepting goroutine for every group before its read starts, so that it
// sees the groups in the order AcceptGroup returns them (moqt's, the
// order the publisher opened their streams); a group it refuses is not
// read.
func (s *subscription) readGroupsInOrder(ctx context.Context, admit func(*moqt.GroupReader) bool, read func(*moqt.GroupReader)) error {
	defer s.sess.Close()
	stop := context.AfterFunc(ctx, func() { s.tr.Close() })
	defer stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		gr, err := s.tr.AcceptGroup(ctx)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, io.EOF) || errors.Is(err, moqt.ErrClosed) {
				return nil
			}
			return fmt.Errorf("track ended: %w", err)
		}
		if admit != nil && !admit(gr) {
			continue
		}
		wg.Go(func() { read(gr) })
	}
}

type subscribeOptions struct {
	subscriptionOptions
	frames        string
	count         int
	reorderWindow time.Duration
}

func newSubscribeCmd() *cobra.Command {
	o := &subscribeOptions{}
	cmd := &cobra.Command{
		Use:     "subscribe URL --path PATH --track NAME",
		Aliases: []string{"sub"},
		Short:   "Subscribe to a track and write its frames to stdout",
		Long: `Subscribe to a track and write the payload of every object to stdout, group by
group in group order (objects of a group in the order they arrive). With
--frames lines (the default) a newline follows each frame, so that
"moq publish" of text lines round-trips; --frames raw writes the bytes only.
Groups travel on parallel streams. Output starts with the first group to
arrive and goes on as long as groups arrive in order; only when a group
turns up before the one due is the missing one waited for, up to
--reorder-window. A group that arrives after a newer one was written is
skipped, and so is a group stalled while two newer ones completed, with a
note on stderr.

It stops when the track ends, after --count frames, after --duration, or on
Ctrl-C.
` + connectHelp,
		Example: `  moq relay &
  moq sub moqt://127.0.0.1:4443/ --path /live/x --track chat --insecure
  moq sub https://127.0.0.1:4443/ --path /live/x --track video --frames raw --filter next-group > video.bin`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.prepare(cmd, args[0]); err != nil {
				return err
			}
			return runSubscribe(cmd, args[0], o)
		},
	}
	o.addFlags(cmd.Flags())
	cmd.Flags().StringVar(&o.frames, "frames", "lines", "output framing: lines (a newline after each frame) or raw")
	cmd.Flags().IntVar(&o.count, "count", 0, "stop after this many frames (0: no limit)")
	cmd.Flags().DurationVar(&o.reorderWindow, "reorder-window", defaultReorderWindow, "how long to wait for a missing group once a later one arrived, before writing the later one")
	return cmd
}

// defaultReorderWindow is how long a missing group is waited for once a
// later group arrived. moqt already hands groups over in the order the
// publisher opened their streams, holding a stream that overtook an
// earlier one for up to 10 ms, so a gap still seen here is a group that
// is lost, skipped or delayed well past that: a retransmission after a
// lost first packet (a probe timeout: about an RTT plus 25 ms of ACK
// delay) or a relay that skipped the group. 100 ms covers such a
// retransmission on paths up to some 50 ms of RTT, and is paid only when
// a gap is seen, never at the start of the output.
const defaultReorderWindow = 100 * time.Millisecond

func runSubscribe(cmd *cobra.Command, rawURL string, o *subscribeOptions) error {
	if o.frames != "lines" && o.frames != "raw" {
		return fmt.Errorf("--frames %q: want lines or raw", o.frames)
	}
	if o.reorderWindow < 0 {
		return fmt.Errorf("--reorder-window %v must not be negative", o.reorderWindow)
	}
	ctx, cancel := runContext(cmd, o.duration)
	defer cancel()
	sub, err := o.subscribeTrack(ctx, cmd, rawURL)
	if err != nil {
		return err
	}
	out := bufio.NewWriter(cmd.OutOrStdout())
	ord := newOrderedOutput(out, cmd.ErrOrStderr(), o.frames == "lines", o.count, cancel, o.reorderWindow)
	admit := func(gr *moqt.GroupReader) bool {
		if !ord.start(gr.GroupSequence()) {
			gr.CancelRead(moqt.GroupErrorCancelled)
			return false
		}
		return true
	}
	err = sub.readGroupsInOrder(ctx, admit, func(gr *moqt.GroupReader) {
		seq := gr.GroupSequence()
		defer ord.end(seq)
		for {
			f, err := gr.ReadFrame()
			if err != nil {
				return
			}
			if !ord.frame(seq, f) {
				gr.CancelRead(moqt.GroupErrorCancelled)
				return
			}
		}
	})
	if ferr := ord.flush(); err == nil {
		err = ferr
	}
	return err
}

// maxAheadGroups is how many newer groups may complete while the group
// being written stalls before the rest of it is skipped, once it has
// stayed unfinished for the reorder window after that.
const maxAheadGroups = 2

// orderedOutput writes the frames of concurrently arriving groups in group
// order: the current group's frames as they arrive, newer groups' frames
// buffered until the groups before them ended.
//
// Groups are started (start) in the order AcceptGroup returns them, which
// is the order the publisher opened their streams, so the common case
// needs no waiting: the first group to arrive is written at once, and so
// is each next group. Only a gap, a group newer than the one due while
// the one due has not arrived, makes the output wait for the missing
// group, up to window, before moving on to the oldest group that did
// arrive.
type orderedOutput struct {
	w      *bufio.Writer
	warn   io.Writer
	lines  bool
	limit  int    // frames to write; 0: no limit
	done   func() // called once the limit is reached
	window time.Duration

	mu      sync.Mutex
	groups  map[moqt.GroupSequence]*pendingGroup
	cur     moqt.GroupSequence // the group being written (active) or due
	active  bool
	started bool
	closed  bool
	timer   *time.Timer // running while a missing group is waited for
	waits   int         // counts the timers armed
	written int
	err     error
}

type pendingGroup struct {
	open   int // subgroup readers still reading
	frames []*moqt.Frame
}

func newOrderedOutput(w *bufio.Writer, warn io.Writer, lines bool, limit int, done func(), window time.Duration) *orderedOutput {
	return &orderedOutput{w: w, warn: warn, lines: lines, limit: limit, done: done, window: window,
		groups: map[moqt.GroupSequence]*pendingGroup{}}
}

// start registers a subgroup reader of group seq, in the order the groups
// were accepted; false means the group is already past and must be
// skipped.
func (o *orderedOutput) start(seq moqt.GroupSequence) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.started && seq < o.cur {
		fmt.Fprintf(o.warn, "moq: skipping group %d: it arrived after group %d\n", seq, o.cur)
		return false
	}
	g := o.groups[seq]
	if g == nil {
		g = &pendingGroup{}
		o.groups[seq] = g
	}
	g.open++
	switch {
	case !o.started:
		// Nothing before the first group is known to be missing.
		o.started = true
		o.activate(seq)
	case o.active:
		// The current group, or a newer one buffered behind it.
	case seq == o.cur:
		o.activate(seq)
	default:
		o.arm() // a gap: the group due may still come
	}
	return true
}

// arm starts the wait for the group o.cur, unless it runs already.
func (o *orderedOutput) arm() {
	if o.timer == nil {
		o.waits++
		n := o.waits
		o.timer = time.AfterFunc(o.window, func() { o.waited(n) })
	}
}

// waited moves on to the oldest group that arrived once wait n for the
// group before it is over, unless that wait was ended meanwhile.
func (o *orderedOutput) waited(n int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if n != o.waits || o.timer == nil {
		return // stopped after it fired: that wait is over
	}
	o.timer = nil
	if o.closed || len(o.groups) == 0 {
		return
	}
	if o.active {
		o.skipStalled()
		return
	}
	o.activate(slices.Min(mapKeys(o.groups)))
}

// activate makes seq the group being written, writing what it buffered,
// and moves on if it already ended. o.mu is held.
func (o *orderedOutput) activate(seq moqt.GroupSequence) {
	if o.timer != nil {
		o.timer.Stop()
		o.timer = nil
	}
	o.cur, o.active = seq, true
	g := o.groups[seq]
	for _, f := range g.frames {
		o.write(f)
	}
	g.frames = nil
	if g.open == 0 {
		o.finish()
	}
}

// finish ends the current group and starts the next one if it arrived;
// if a newer one arrived instead, the next one is waited for. o.mu is
// held.
func (o *orderedOutput) finish() {
	if o.timer != nil { // a stall wait for this group
		o.timer.Stop()
		o.timer = nil
	}
	delete(o.groups, o.cur)
	o.cur++
	o.active = false
	if o.groups[o.cur] != nil {
		o.activate(o.cur)
	} else if len(o.groups) > 0 {
		o.arm()
	}
}

// frame takes a frame of group seq; false means stop reading the group.
func (o *orderedOutput) frame(seq moqt.GroupSequence, f *moqt.Frame) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if seq < o.cur || o.err != nil || (o.limit > 0 && o.written >= o.limit) {
		return false
	}
	if o.active && seq == o.cur {
		o.write(f)
		return true
	}
	g := o.groups[seq]
	g.frames = append(g.frames, f)
	return true
}

// end unregisters a subgroup reader of group seq.
func (o *orderedOutput) end(seq moqt.GroupSequence) {
	o.mu.Lock()
	defer o.mu.Unlock()
	g := o.groups[seq]
	if g == nil {
		return
	}
	g.open--
	switch {
	case o.active && seq == o.cur && g.open == 0:
		o.finish()
	case o.active && seq > o.cur && g.open == 0 && o.aheadDone() >= maxAheadGroups:
		// The current group may only be slower than the newer ones (a
		// relay forwards groups concurrently): give it the window.
		o.arm()
	}
}

// skipStalled cuts the current group short if maxAheadGroups newer groups
// completed while it stayed unfinished for the window. o.mu is held.
func (o *orderedOutput) skipStalled() {
	if o.aheadDone() < maxAheadGroups {
		return
	}
	fmt.Fprintf(o.warn, "moq: skipping the rest of group %d: %d newer groups completed and it stalled for %v\n", o.cur, maxAheadGroups, o.window)
	o.finish()
	if !o.active && len(o.groups) > 0 {
		o.activate(slices.Min(mapKeys(o.groups)))
	}
}

// aheadDone counts the completed groups after the current one.
func (o *orderedOutput) aheadDone() int {
	n := 0
	for seq, g := range o.groups {
		if seq > o.cur && g.open == 0 {
			n++
		}
	}
	return n
}

func mapKeys[K comparable, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	return keys
}

// write writes one frame; o.mu is held.
func (o *orderedOutput) write(f *moqt.Frame) {
	if o.err != nil || (o.limit > 0 && o.written >= o.limit) {
		return
	}
	_, o.err = o.w.Write(f.Bytes())
	if o.err == nil && o.lines {
		o.err = o.w.WriteByte('\n')
	}
	if o.err == nil {
		// Live output: every frame goes out as it arrives.
		o.err = o.w.Flush()
	}
	o.written++
	if o.err != nil || (o.limit > 0 && o.written >= o.limit) {
		o.done()
	}
}

// flush writes, in order, what the groups still pending buffered (once
// every reader returned) and returns the first write error.
func (o *orderedOutput) flush() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.closed = true
	if o.timer != nil {
		o.timer.Stop()
	}
	for len(o.groups) > 0 {
		seq := slices.Min(mapKeys(o.groups))
		for _, f := range o.groups[seq].frames {
			o.write(f)
		}
		delete(o.groups, seq)
	}
	if o.err == nil {
		o.err = o.w.Flush()
	}
	return o.err
}

package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/moqgo/moqgo/internal/trace"
	"github.com/moqgo/moqgo/moqt"
)

type replayOptions struct {
	connectOptions
	speed         float64
	wait          bool
	historyGroups int
	linger        time.Duration
}

func newReplayCmd() *cobra.Command {
	o := &replayOptions{}
	cmd := &cobra.Command{
		Use:   "replay FILE.moqtrace URL",
		Short: "Publish a recorded .moqtrace again with its original timing",
		Long: `Publish the objects of a trace written by "moq record" through a relay, with
the recorded timing (divided by --speed), subgroups, publisher priorities,
object IDs, statuses and extension headers. --path and --track default to
the recorded ones. Objects recorded from datagrams are replayed on subgroup
streams, and a recorded publisher priority of 0 is replayed as the
session's default priority.

With --wait (the default) the replay starts with the first subscription,
so that a subscriber started first sees every object.
` + connectHelp,
		Example: `  moq replay demo.moqtrace moqt://127.0.0.1:4443/ --path /replayed --insecure --speed 2`,
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runReplay(cmd, args[0], args[1], o)
		},
	}
	f := cmd.Flags()
	o.addFlags(f)
	f.Lookup("path").Usage = "broadcast path (default: the recorded one)"
	f.Lookup("track").Usage = "track name (default: the recorded one)"
	f.Float64Var(&o.speed, "speed", 1, "playback speed: 2 is twice as fast")
	f.BoolVar(&o.wait, "wait", true, "start with the first subscription")
	f.IntVar(&o.historyGroups, "history", moqt.DefaultHistoryGroups, "groups kept for FETCH and joining subscribers")
	f.DurationVar(&o.linger, "linger", 500*time.Millisecond, "after the last object, keep the session open this long for it to reach the relay")
	return cmd
}

// subgroupKey names a subgroup being replayed.
type subgroupKey struct{ group, subgroup uint64 }

// maxReplayGroups bounds the groups with subgroups open during a replay:
// a trace cut short may lack their ends.
const maxReplayGroups = 8

func runReplay(cmd *cobra.Command, file, rawURL string, o *replayOptions) error {
	if err := applySettings(cmd); err != nil {
		return err
	}
	if o.speed <= 0 {
		return errors.New("--speed must be positive")
	}
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	tr, err := trace.NewReader(bufio.NewReader(f))
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	if o.path == "" {
		o.path = tr.Header.Path
	}
	if o.track == "" {
		o.track = tr.Header.Track
	}
	if err := o.prepare(cmd, rawURL); err != nil {
		return err
	}
	ctx, cancel := runContext(cmd, 0)
	defer cancel()
	p, err := o.startPublisher(ctx, cmd, rawURL, o.historyGroups)
	if err != nil {
		return err
	}
	defer p.sess.Close()
	if o.wait {
		if err := p.waitSubscriber(ctx); err != nil {
			return err
		}
	}
	open := map[subgroupKey]*moqt.TrackGroupWriter{}
	closeOlder := func(newest uint64) {
		for k, gw := range open {
			if k.group+maxReplayGroups <= newest {
				gw.Close()
				delete(open, k)
			}
		}
	}
	var (
		start   time.Time
		base    time.Duration
		objects int
		failed  error
	)
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	for n := 0; failed == nil; n++ {
		r, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			failed = fmt.Errorf("%s: %w", file, err)
			break
		}
		if n == 0 {
			start, base = time.Now(), r.Time
		}
		due := start.Add(time.Duration(float64(r.Time-base) / o.speed))
		if d := time.Until(due); d > 0 {
			timer.Reset(d)
			select {
			case <-timer.C:
			case <-ctx.Done():
				failed = errors.New("interrupted")
				continue
			case <-p.sess.Context().Done():
				failed = fmt.Errorf("session ended: %w", context.Cause(p.sess.Context()))
				continue
			}
		}
		k := subgroupKey{r.Group, r.Subgroup}
		gw := open[k]
		if r.Kind == trace.KindSubgroupEnd {
			if gw != nil {
				gw.Close()
				delete(open, k)
			}
			continue
		}
		if gw == nil {
			if gw, err = p.track.OpenSubgroup(moqt.GroupSequence(r.Group), r.Subgroup, r.Priority); err != nil {
				failed = err
				continue
			}
			open[k] = gw
			closeOlder(r.Group)
		}
		exts, err := decodeExtensions(r.Extensions)
		if err != nil {
			failed = fmt.Errorf("%s: record %d: %w", file, n, err)
			continue
		}
		obj := &moqt.Object{ID: r.Object, Status: moqt.ObjectStatus(r.Status), Extensions: exts}
		if r.Payload != nil {
			obj.Frame = moqt.NewFrame(r.Payload)
		}
		if err := gw.WriteObject(obj); err != nil {
			failed = fmt.Errorf("group %d subgroup %d object %d: %w", r.Group, r.Subgroup, r.Object, err)
			continue
		}
		objects++
	}
	for _, gw := range open {
		gw.Close()
	}
	p.finish(ctx, failed == nil, o.linger)
	fmt.Fprintf(cmd.ErrOrStderr(), "moq: replayed %d objects\n", objects)
	return failed
}

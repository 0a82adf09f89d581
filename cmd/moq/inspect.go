package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/moqgo/moqgo/moqt"
)

type inspectOptions struct {
	subscriptionOptions
	json    bool
	count   int
	refresh time.Duration
}

func newInspectCmd() *cobra.Command {
	o := &inspectOptions{}
	cmd := &cobra.Command{
		Use:   "inspect URL --path PATH --track NAME",
		Short: "Show a live track as a tree of groups, subgroups and objects",
		Long: `Subscribe to a track and show what arrives as the MoQ hierarchy: each group,
its subgroups (publisher priority; stream or datagram) and their objects (ID,
status normal/does-not-exist/end-of-group/end-of-track, size, extension
headers as type=value, arrival time relative to the group's first object),
and a summary of each group once its subgroups ended (objects, bytes,
duration, gaps in the object IDs); a subgroup arriving after that prints
an updated summary.

On a terminal the view is a tree of the latest groups, redrawn in place;
otherwise (a pipe, a file) every event is appended as a line, and with
--json as one JSON object per line.
` + connectHelp,
		Example: `  moq inspect moqt://127.0.0.1:4443/ --path /demo --track video --insecure
  moq inspect https://relay.example:443/ --path /live/x --track audio --json | jq .`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.prepare(cmd, args[0]); err != nil {
				return err
			}
			return runInspect(cmd, args[0], o)
		},
	}
	o.addFlags(cmd.Flags())
	cmd.Flags().BoolVar(&o.json, "json", false, "print one JSON object per event")
	cmd.Flags().IntVar(&o.count, "count", 0, "stop after this many objects (0: no limit)")
	cmd.Flags().DurationVar(&o.refresh, "refresh", 250*time.Millisecond, "redraw interval of the terminal view")
	return cmd
}

func runInspect(cmd *cobra.Command, rawURL string, o *inspectOptions) error {
	ctx, cancel := runContext(cmd, o.duration)
	defer cancel()
	sub, err := o.subscribeTrack(ctx, cmd, rawURL)
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	ins := newInspector(out, o.json, o.count, cancel)
	live := !o.json && isTerminal(out)
	ins.live = live
	var wg sync.WaitGroup
	if live {
		if o.refresh <= 0 {
			o.refresh = 250 * time.Millisecond
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(o.refresh)
			defer t.Stop()
			for {
				select {
				case <-t.C:
					ins.redraw(o.path, o.track)
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	err = sub.readGroups(ctx, ins.readGroup)
	cancel()
	wg.Wait()
	if live {
		ins.redraw(o.path, o.track)
	}
	return err
}

// inspector keeps the state of the groups being received and prints it.
type inspector struct {
	w     io.Writer
	json  bool
	live  bool
	limit int
	stop  func()
	now   func() time.Time

	mu      sync.Mutex
	groups  map[moqt.GroupSequence]*inspectGroup
	objects int
	total   int // groups seen
	enc     *json.Encoder
}

// inspectGroup is what arrived of one group.
type inspectGroup struct {
	seq       moqt.GroupSequence
	first     time.Time
	last      time.Time
	subgroups []*inspectSubgroup
	open      int
	ids       []uint64
	bytes     int
	done      bool
}

type inspectSubgroup struct {
	id       uint64
	priority uint8
	datagram bool
	objects  []inspectObject
	count    int
	end      string // "" while open
}

type inspectObject struct {
	ID     uint64          `json:"object"`
	Status string          `json:"status"`
	Size   int             `json:"size"`
	Ext    []inspectExt    `json:"extensions,omitempty"`
	Offset time.Duration   `json:"-"`
	OffMS  jsonMillisecond `json:"offset_ms"`
}

type inspectExt struct {
	Type  uint64  `json:"type"`
	Value *uint64 `json:"value,omitempty"`
	Bytes []byte  `json:"bytes,omitempty"`
}

// jsonMillisecond is a duration printed as fractional milliseconds.
type jsonMillisecond float64

// maxShownGroups and maxShownObjects bound the terminal view (and the
// state the inspector keeps).
const (
	maxShownGroups  = 6
	maxShownObjects = 8
	maxKeptGroups   = 64
)

func newInspector(w io.Writer, asJSON bool, limit int, stop func()) *inspector {
	ins := &inspector{w: w, json: asJSON, limit: limit, stop: stop, now: time.Now, groups: map[moqt.GroupSequence]*inspectGroup{}}
	if asJSON {
		ins.enc = json.NewEncoder(w)
	}
	return ins
}

// formatExt prints an extension header as type=value: a number for an even
// type, a quoted string or hex bytes for an odd one.
func formatExt(e moqt.Extension) string {
	if e.Type%2 == 0 {
		return fmt.Sprintf("%#x=%d", e.Type, e.Value)
	}
	printable := utf8.Valid(e.Bytes)
	for _, r := range string(e.Bytes) {
		if !strconv.IsPrint(r) {
			printable = false
		}
	}
	if printable {
		return fmt.Sprintf("%#x=%q", e.Type, e.Bytes)
	}
	return fmt.Sprintf("%#x=0x%x", e.Type, e.Bytes)
}

// readGroup reads one subgroup (or datagram group) to its end.
func (ins *inspector) readGroup(gr *moqt.GroupReader) {
	ins.open(gr)
	for {
		o, err := gr.ReadObject()
		if err != nil {
			end := "ended"
			if !errors.Is(err, io.EOF) {
				end = "reset: " + err.Error()
			}
			ins.close(gr, end)
			return
		}
		if !ins.object(gr, o) {
			gr.CancelRead(moqt.GroupErrorCancelled)
			ins.close(gr, "canceled")
			return
		}
	}
}

// open registers a subgroup reader; the subgroup is printed with its
// first object (or its end), when its ID is known.
func (ins *inspector) open(gr *moqt.GroupReader) {
	ins.mu.Lock()
	defer ins.mu.Unlock()
	g := ins.groups[gr.GroupSequence()]
	if g == nil {
		g = &inspectGroup{seq: gr.GroupSequence()}
		ins.groups[g.seq] = g
		ins.total++
		ins.trim()
	}
	g.open++
	g.done = false
}

// trim forgets the oldest groups beyond maxKeptGroups.
func (ins *inspector) trim() {
	for len(ins.groups) > maxKeptGroups {
		delete(ins.groups, slices.Min(mapKeys(ins.groups)))
	}
}

// newSubgroup creates (and prints) the state of gr's subgroup. ins.mu is
// held.
func (ins *inspector) newSubgroup(g *inspectGroup, gr *moqt.GroupReader) *inspectSubgroup {
	sg := &inspectSubgroup{id: gr.SubgroupID(), priority: gr.PublisherPriority(), datagram: gr.Datagram()}
	if g.subgroups == nil {
		ins.emit(map[string]any{"event": "group", "group": g.seq}, fmt.Sprintf("group %d", g.seq))
	}
	g.subgroups = append(g.subgroups, sg)
	kind := "stream"
	if sg.datagram {
		kind = "datagram"
	}
	ins.emit(map[string]any{"event": "subgroup", "group": g.seq, "subgroup": sg.id, "priority": sg.priority, "datagram": sg.datagram},
		fmt.Sprintf("  group %d subgroup %d: priority %d, %s", g.seq, sg.id, sg.priority, kind))
	return sg
}

// object records one object; false means stop (--count reached).
func (ins *inspector) object(gr *moqt.GroupReader, o *moqt.Object) bool {
	now := ins.now()
	ins.mu.Lock()
	defer ins.mu.Unlock()
	if ins.limit > 0 && ins.objects >= ins.limit {
		return false
	}
	g := ins.groups[gr.GroupSequence()]
	if g == nil { // trimmed: a very late subgroup of an old group
		g = &inspectGroup{seq: gr.GroupSequence()}
		ins.groups[g.seq] = g
	}
	sg := ins.findSubgroup(g, gr)
	if g.first.IsZero() {
		g.first = now
	}
	g.last = now
	obj := inspectObject{ID: o.ID, Status: o.Status.String(), Size: o.Frame.Len(), Offset: now.Sub(g.first)}
	obj.OffMS = jsonMillisecond(float64(obj.Offset) / float64(time.Millisecond))
	exts := make([]string, len(o.Extensions))
	for i, e := range o.Extensions {
		exts[i] = formatExt(e)
		if e.Type%2 == 0 {
			v := e.Value
			obj.Ext = append(obj.Ext, inspectExt{Type: e.Type, Value: &v})
		} else {
			obj.Ext = append(obj.Ext, inspectExt{Type: e.Type, Bytes: e.Bytes})
		}
	}
	g.ids = append(g.ids, o.ID)
	g.bytes += obj.Size
	sg.count++
	sg.objects = append(sg.objects, obj)
	if len(sg.objects) > maxShownObjects {
		sg.objects = sg.objects[1:]
	}
	line := fmt.Sprintf("    group %d subgroup %d object %d: %s, %d B, +%v", g.seq, sg.id, o.ID, obj.Status, obj.Size, obj.Offset.Round(time.Microsecond))
	if len(exts) > 0 {
		line += ", ext " + strings.Join(exts, " ")
	}
	ins.emit(map[string]any{"event": "object", "group": g.seq, "subgroup": sg.id, "object": obj}, line)
	ins.objects++
	if ins.limit > 0 && ins.objects >= ins.limit {
		ins.stop()
	}
	return true
}

// findSubgroup returns the subgroup state of gr, creating it. ins.mu is
// held.
func (ins *inspector) findSubgroup(g *inspectGroup, gr *moqt.GroupReader) *inspectSubgroup {
	for _, sg := range g.subgroups {
		if sg.id == gr.SubgroupID() && sg.datagram == gr.Datagram() && sg.end == "" {
			return sg
		}
	}
	return ins.newSubgroup(g, gr)
}

// close records the end of a subgroup and, once every subgroup of the
// group ended, prints the group's summary.
func (ins *inspector) close(gr *moqt.GroupReader, end string) {
	seq := gr.GroupSequence()
	ins.mu.Lock()
	defer ins.mu.Unlock()
	g := ins.groups[seq]
	if g == nil {
		return
	}
	sg := ins.findSubgroup(g, gr)
	sg.end = end
	ins.emit(map[string]any{"event": "subgroup_end", "group": seq, "subgroup": sg.id, "end": end, "objects": sg.count},
		fmt.Sprintf("  group %d subgroup %d: %s after %d objects", seq, sg.id, end, sg.count))
	g.open--
	if g.open > 0 {
		return
	}
	g.done = true
	gaps := formatGaps(g.ids)
	dur := g.last.Sub(g.first)
	ins.emit(map[string]any{"event": "group_end", "group": seq, "objects": len(g.ids), "bytes": g.bytes,
		"duration_ms": float64(dur) / float64(time.Millisecond), "gaps": gaps},
		fmt.Sprintf("group %d summary: %d objects, %d B, %v, gaps %s", seq, len(g.ids), g.bytes, dur.Round(time.Microsecond), orNone(gaps)))
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// formatGaps lists the object IDs missing between the smallest and the
// largest ID received, as ranges: "2-3,5".
func formatGaps(ids []uint64) string {
	if len(ids) == 0 {
		return ""
	}
	s := slices.Clone(ids)
	slices.Sort(s)
	s = slices.Compact(s)
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		lo, hi := s[i-1]+1, s[i]-1
		if lo > hi {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		if lo == hi {
			fmt.Fprintf(&b, "%d", lo)
		} else {
			fmt.Fprintf(&b, "%d-%d", lo, hi)
		}
	}
	return b.String()
}

// emit prints one event: as JSON, as a line, or not at all in the live
// view (which redraws from the state). ins.mu is held.
func (ins *inspector) emit(ev map[string]any, line string) {
	switch {
	case ins.live:
	case ins.json:
		ev["time"] = ins.now().UTC().Format(time.RFC3339Nano)
		_ = ins.enc.Encode(ev)
	default:
		fmt.Fprintln(ins.w, line)
	}
}

// redraw draws the latest groups as a tree, replacing the screen.
func (ins *inspector) redraw(path, track string) {
	ins.mu.Lock()
	var b strings.Builder
	b.WriteString("\x1b[H\x1b[2J")
	ins.renderTree(&b, path, track)
	ins.mu.Unlock()
	io.WriteString(ins.w, b.String())
}

// renderTree writes the tree of the latest groups. ins.mu is held.
func (ins *inspector) renderTree(b *strings.Builder, path, track string) {
	fmt.Fprintf(b, "%s %s: %d groups, %d objects\n", path, track, ins.total, ins.objects)
	seqs := mapKeys(ins.groups)
	slices.Sort(seqs)
	if len(seqs) > maxShownGroups {
		seqs = seqs[len(seqs)-maxShownGroups:]
	}
	for _, seq := range seqs {
		g := ins.groups[seq]
		state := "receiving"
		if g.done {
			state = "done"
		}
		fmt.Fprintf(b, "group %d  %s: %d objects, %d B, %v, gaps %s\n", seq, state, len(g.ids), g.bytes, g.last.Sub(g.first).Round(time.Microsecond), orNone(formatGaps(g.ids)))
		for i, sg := range g.subgroups {
			branch, stem := "├─", "│  "
			if i == len(g.subgroups)-1 {
				branch, stem = "└─", "   "
			}
			kind := "stream"
			if sg.datagram {
				kind = "datagram"
			}
			end := sg.end
			if end == "" {
				end = "open"
			}
			fmt.Fprintf(b, "%s subgroup %d  priority %d  %s  [%s]\n", branch, sg.id, sg.priority, kind, end)
			if hidden := sg.count - len(sg.objects); hidden > 0 {
				fmt.Fprintf(b, "%s├─ … %d earlier objects\n", stem, hidden)
			}
			for j, o := range sg.objects {
				ob := "├─"
				if j == len(sg.objects)-1 {
					ob = "└─"
				}
				fmt.Fprintf(b, "%s%s #%d  %s  %d B  +%v", stem, ob, o.ID, o.Status, o.Size, o.Offset.Round(time.Microsecond))
				for _, e := range o.Ext {
					ext := moqt.Extension{Type: e.Type, Bytes: e.Bytes}
					if e.Value != nil {
						ext.Value = *e.Value
					}
					fmt.Fprintf(b, "  %s", formatExt(ext))
				}
				b.WriteByte('\n')
			}
		}
	}
}

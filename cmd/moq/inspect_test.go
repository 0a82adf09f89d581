package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/moqgo/moqgo/moqt"
)

// writeSampleGroup writes group 0 of track: subgroup 0 (priority 10) with
// objects 0 (extensions) and 3, then an end-of-group status 4; subgroup 1
// (priority 20) with object 1. Object 2 is a gap.
func writeSampleGroup(t *testing.T, track *moqt.Track) {
	t.Helper()
	sg0, err := track.OpenSubgroup(0, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	sg1, err := track.OpenSubgroup(0, 1, 20)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []struct {
		gw *moqt.TrackGroupWriter
		o  moqt.Object
	}{
		{sg0, moqt.Object{ID: 0, Frame: moqt.NewFrame([]byte("key")), Extensions: []moqt.Extension{{Type: 2, Value: 7}, {Type: 3, Bytes: []byte("hi")}}}},
		{sg1, moqt.Object{ID: 1, Frame: moqt.NewFrame([]byte("b"))}},
		{sg0, moqt.Object{ID: 3, Frame: moqt.NewFrame([]byte("d"))}},
		{sg0, moqt.Object{ID: 4, Status: moqt.StatusEndOfGroup}},
	} {
		if err := w.gw.WriteObject(&w.o); err != nil {
			t.Fatal(err)
		}
	}
	sg0.Close()
	sg1.Close()
}

// TestInspect shows a group with two subgroups, an extension, a gap and an
// end-of-group status as lines and as JSON events.
func TestInspect(t *testing.T) {
	addr, fp := startToolRelay(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	track, _ := dialPublisher(t, ctx, addr, fp, "/insp", "t")
	lines := startTool(t, nil, "inspect", "moqt://"+addr+"/", "--path", "/insp", "--track", "t", "--fingerprint", fp)
	lines.waitStderr(t, "subscribed")
	js := startTool(t, nil, "inspect", "https://"+addr+"/", "--path", "/insp", "--track", "t", "--fingerprint", fp, "--json")
	js.waitStderr(t, "subscribed")
	writeSampleGroup(t, track)
	track.Close()
	lines.wait(t)
	js.wait(t)
	out := lines.out.String()
	for _, want := range []string{
		"group 0\n",
		"  group 0 subgroup 0: priority 10, stream\n",
		"  group 0 subgroup 1: priority 20, stream\n",
		"    group 0 subgroup 0 object 0: normal, 3 B, +",
		`, ext 0x2=7 0x3="hi"` + "\n",
		"    group 0 subgroup 1 object 1: normal, 1 B, +",
		"    group 0 subgroup 0 object 4: end-of-group, 0 B, +",
		"  group 0 subgroup 0: ended after 3 objects\n",
		"group 0 summary: 4 objects, 5 B, ",
		", gaps 2\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("inspect output lacks %q:\n%s", want, out)
		}
	}
	events := map[string]int{}
	var eog bool
	var lastGaps string
	for _, l := range strings.Split(strings.TrimSpace(js.out.String()), "\n") {
		var ev struct {
			Event  string
			Object struct {
				Object uint64
				Status string
			}
			Gaps string
		}
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatalf("bad JSON line %q: %v", l, err)
		}
		events[ev.Event]++
		eog = eog || ev.Event == "object" && ev.Object.Object == 4 && ev.Object.Status == "end-of-group"
		if ev.Event == "group_end" {
			lastGaps = ev.Gaps
		}
	}
	// A subgroup arriving after the others ended updates the summary.
	if events["object"] != 4 || events["subgroup"] != 2 || events["group_end"] < 1 || lastGaps != "2" || !eog {
		t.Errorf("JSON events %v (end-of-group seen: %v):\n%s", events, eog, js.out.String())
	}
}

// TestInspectTree renders the terminal view of a known state.
func TestInspectTree(t *testing.T) {
	ins := newInspector(nil, false, 0, func() {})
	v := uint64(7)
	ins.groups[5] = &inspectGroup{seq: 5, ids: []uint64{0, 1, 3}, bytes: 9, done: true, subgroups: []*inspectSubgroup{
		{id: 0, priority: 10, count: 2, end: "ended", objects: []inspectObject{{ID: 0, Status: "normal", Size: 4, Ext: []inspectExt{{Type: 2, Value: &v}}}, {ID: 3, Status: "end-of-group"}}},
		{id: 1, priority: 20, datagram: true, count: 1, objects: []inspectObject{{ID: 1, Status: "normal", Size: 5}}},
	}}
	ins.total, ins.objects = 1, 3
	var b strings.Builder
	ins.renderTree(&b, "/p", "t")
	want := `/p t: 1 groups, 3 objects
group 5  done: 3 objects, 9 B, 0s, gaps 2
├─ subgroup 0  priority 10  stream  [ended]
│  ├─ #0  normal  4 B  +0s  0x2=7
│  └─ #3  end-of-group  0 B  +0s
└─ subgroup 1  priority 20  datagram  [open]
   └─ #1  normal  5 B  +0s
`
	if b.String() != want {
		t.Errorf("tree:\n%s\nwant:\n%s", b.String(), want)
	}
}

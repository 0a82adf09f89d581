package main

import (
	"bufio"
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/moqgo/moqgo/moqt"
)

// newTestOutput returns an orderedOutput writing lines to out, with a
// reorder window no test outlasts: the tests end waits by calling waited
// themselves, as the timer would.
func newTestOutput(out, warn *bytes.Buffer) *orderedOutput {
	return &orderedOutput{w: bufio.NewWriter(out), warn: warn, lines: true, done: func() {},
		window: time.Hour, groups: map[moqt.GroupSequence]*pendingGroup{}}
}

// fire runs the reorder timer's function now, as if the window had passed.
func (o *orderedOutput) fire(t *testing.T) {
	t.Helper()
	o.mu.Lock()
	tm := o.timer
	o.mu.Unlock()
	if tm == nil {
		t.Fatal("no reorder wait is running")
	}
	tm.Stop()
	o.waited()
}

// finishWait ends the wait for the first group, then the output as the
// track's end does, and returns what was written.
func finishWait(t *testing.T, o *orderedOutput, out *bytes.Buffer) string {
	t.Helper()
	o.fire(t)
	if err := o.flush(); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

// readGroup feeds a whole group of one subgroup through o as the reader
// goroutine of runSubscribe does, and reports whether it was accepted.
func readGroup(o *orderedOutput, seq moqt.GroupSequence, frames ...string) bool {
	if !o.start(seq) {
		return false
	}
	defer o.end(seq)
	for _, f := range frames {
		if !o.frame(seq, moqt.NewFrame([]byte(f))) {
			break
		}
	}
	return true
}

// TestOrderedOutputFirstWait: groups start in any order (each group's
// reader is a goroutine of its own, so even streams accepted in order
// reach start out of order), and an earlier group arriving while the first
// one is waited for must not end that wait: the groups before it may still
// be on their way. It used to activate the earlier group at once, so that
// group 0, started a moment later, was skipped as "arrived after group 3".
func TestOrderedOutputFirstWait(t *testing.T) {
	for _, order := range [][]moqt.GroupSequence{{2, 1, 0}, {1, 0, 2}, {2, 0, 1}, {0, 2, 1}} {
		t.Run(fmt.Sprint(order), func(t *testing.T) {
			var out, warn bytes.Buffer
			o := newTestOutput(&out, &warn)
			for _, seq := range order {
				if !readGroup(o, seq, fmt.Sprintf("g%d a", seq), fmt.Sprintf("g%d b", seq)) {
					t.Fatalf("group %d refused after groups %v started; stderr: %q", seq, order, warn.String())
				}
			}
			if out.Len() != 0 {
				t.Fatalf("wrote %q before the first group's wait ended", out.String())
			}
			if got, want := finishWait(t, o, &out), "g0 a\ng0 b\ng1 a\ng1 b\ng2 a\ng2 b\n"; got != want {
				t.Errorf("output %q, want %q", got, want)
			}
			if warn.Len() != 0 {
				t.Errorf("stderr %q", warn.String())
			}
		})
	}
}

// TestOrderedOutputFirstWaitSubgroups: a second subgroup of the first
// group to arrive does not end the wait for earlier groups either.
func TestOrderedOutputFirstWaitSubgroups(t *testing.T) {
	var out, warn bytes.Buffer
	o := newTestOutput(&out, &warn)
	readGroup(o, 1, "g1 s0")
	readGroup(o, 1, "g1 s1")
	if !readGroup(o, 0, "g0") {
		t.Fatalf("group 0 refused; stderr: %q", warn.String())
	}
	if got, want := finishWait(t, o, &out), "g0\ng1 s0\ng1 s1\n"; got != want {
		t.Errorf("output %q, want %q", got, want)
	}
}

// TestOrderedOutputLateGroupSkipped: once the wait ended and a group was
// written, an older group that turns up is skipped with a note.
func TestOrderedOutputLateGroupSkipped(t *testing.T) {
	var out, warn bytes.Buffer
	o := newTestOutput(&out, &warn)
	readGroup(o, 1, "g1")
	o.fire(t)
	if readGroup(o, 0, "g0") {
		t.Error("group 0 accepted after group 1 was written")
	}
	if err := o.flush(); err != nil {
		t.Fatal(err)
	}
	if out.String() != "g1\n" || !contains(warn.String(), "skipping group 0") {
		t.Errorf("output %q, stderr %q", out.String(), warn.String())
	}
}

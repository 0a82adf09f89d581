package main

import (
	"bufio"
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/moqgo/moqgo/moqt"
)

// newTestOutput returns an orderedOutput writing lines to out, with a
// reorder window no test outlasts: the tests end waits by calling fire
// themselves, as the timer would.
func newTestOutput(out, warn *bytes.Buffer) *orderedOutput {
	return newOrderedOutput(bufio.NewWriter(out), warn, true, 0, func() {}, time.Hour)
}

// waiting reports whether a wait for a missing group is running.
func (o *orderedOutput) waiting() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.timer != nil
}

// fire runs the reorder timer's function now, as if the window had passed.
func (o *orderedOutput) fire(t *testing.T) {
	t.Helper()
	o.mu.Lock()
	tm, n := o.timer, o.waits
	o.mu.Unlock()
	if tm == nil {
		t.Fatal("no reorder wait is running")
	}
	tm.Stop()
	o.waited(n)
}

// readGroup feeds a whole group of one subgroup through o as runSubscribe
// does (start on accepting, then the reader), and reports whether it was
// accepted.
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

// expectOutput checks what o wrote so far and that stderr is empty.
func expectOutput(t *testing.T, out, warn *bytes.Buffer, want string) {
	t.Helper()
	if got := out.String(); got != want {
		t.Fatalf("output %q, want %q (stderr %q)", got, want, warn.String())
	}
	if warn.Len() != 0 {
		t.Fatalf("stderr %q", warn.String())
	}
}

// TestOrderedOutputInOrderImmediate: groups that arrive in order are
// written as they arrive, the first one included, with no reorder wait.
// The first group used to be held for the whole window in case an earlier
// one came, delaying every subscriber's first frame by it.
func TestOrderedOutputInOrderImmediate(t *testing.T) {
	var out, warn bytes.Buffer
	o := newTestOutput(&out, &warn)
	if !o.start(5) { // a live subscription may start at any group
		t.Fatal("first group refused")
	}
	o.frame(5, moqt.NewFrame([]byte("g5 a")))
	expectOutput(t, &out, &warn, "g5 a\n")
	// The next group, accepted while group 5 is still open, waits behind it.
	readGroup(o, 6, "g6")
	expectOutput(t, &out, &warn, "g5 a\n")
	o.frame(5, moqt.NewFrame([]byte("g5 b")))
	o.end(5)
	expectOutput(t, &out, &warn, "g5 a\ng5 b\ng6\n")
	readGroup(o, 7, "g7")
	expectOutput(t, &out, &warn, "g5 a\ng5 b\ng6\ng7\n")
	if o.waiting() {
		t.Error("a reorder wait runs although no group was missing")
	}
	if err := o.flush(); err != nil {
		t.Fatal(err)
	}
	expectOutput(t, &out, &warn, "g5 a\ng5 b\ng6\ng7\n")
}

// TestOrderedOutputGapFilled: a group that arrives before the one due is
// held while the missing one is waited for, and written after it when it
// comes within the window.
func TestOrderedOutputGapFilled(t *testing.T) {
	var out, warn bytes.Buffer
	o := newTestOutput(&out, &warn)
	readGroup(o, 0, "g0")
	readGroup(o, 2, "g2")
	expectOutput(t, &out, &warn, "g0\n")
	if !o.waiting() {
		t.Fatal("no wait for the missing group 1")
	}
	readGroup(o, 1, "g1")
	expectOutput(t, &out, &warn, "g0\ng1\ng2\n")
	if o.waiting() {
		t.Error("the wait still runs after group 1 came")
	}
	readGroup(o, 3, "g3")
	expectOutput(t, &out, &warn, "g0\ng1\ng2\ng3\n")
}

// TestOrderedOutputGapWhileWriting: groups overtaking the one due while
// the current one is still open are waited for once it ends.
func TestOrderedOutputGapWhileWriting(t *testing.T) {
	var out, warn bytes.Buffer
	o := newTestOutput(&out, &warn)
	o.start(0)
	readGroup(o, 2, "g2")
	if o.waiting() {
		t.Fatal("waiting while group 0 is being written")
	}
	o.end(0)
	if !o.waiting() {
		t.Fatal("no wait for the missing group 1 once group 0 ended")
	}
	o.fire(t)
	expectOutput(t, &out, &warn, "g2\n")
}

// TestOrderedOutputFirstGroupSubgroups: every subgroup of the group being
// written is written as it arrives.
func TestOrderedOutputFirstGroupSubgroups(t *testing.T) {
	var out, warn bytes.Buffer
	o := newTestOutput(&out, &warn)
	o.start(1)
	o.start(1)
	o.frame(1, moqt.NewFrame([]byte("g1 s0")))
	o.frame(1, moqt.NewFrame([]byte("g1 s1")))
	readGroup(o, 2, "g2")
	expectOutput(t, &out, &warn, "g1 s0\ng1 s1\n")
	o.end(1)
	expectOutput(t, &out, &warn, "g1 s0\ng1 s1\n")
	o.end(1)
	expectOutput(t, &out, &warn, "g1 s0\ng1 s1\ng2\n")
}

// TestOrderedOutputLateGroupSkipped: once a wait ended and a later group
// was written, the missing group that turns up is skipped with a note; so
// is a group older than the first one written.
func TestOrderedOutputLateGroupSkipped(t *testing.T) {
	var out, warn bytes.Buffer
	o := newTestOutput(&out, &warn)
	readGroup(o, 1, "g1")
	readGroup(o, 3, "g3")
	o.fire(t)
	if readGroup(o, 2, "g2") {
		t.Error("group 2 accepted after group 3 was written")
	}
	if readGroup(o, 0, "g0") {
		t.Error("group 0 accepted after group 1 was written")
	}
	if err := o.flush(); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "g1\ng3\n" {
		t.Errorf("output %q", got)
	}
	if w := warn.String(); !strings.Contains(w, "skipping group 2") || !strings.Contains(w, "skipping group 0") {
		t.Errorf("stderr %q", w)
	}
}

// TestOrderedOutputStalledGroupSkipped: a group being written that stays
// unfinished while maxAheadGroups newer groups complete, and then for the
// reorder window, is cut short, and the output goes on with them.
func TestOrderedOutputStalledGroupSkipped(t *testing.T) {
	var out, warn bytes.Buffer
	o := newTestOutput(&out, &warn)
	o.start(0)
	o.frame(0, moqt.NewFrame([]byte("g0")))
	readGroup(o, 1, "g1")
	readGroup(o, 2, "g2")
	if got := out.String(); got != "g0\n" || !o.waiting() {
		t.Fatalf("before the window: output %q, waiting %v; want only g0 and a running wait", got, o.waiting())
	}
	o.fire(t)
	if got := out.String(); got != "g0\ng1\ng2\n" || !strings.Contains(warn.String(), "skipping the rest of group 0") {
		t.Errorf("output %q, stderr %q", got, warn.String())
	}
	if o.frame(0, moqt.NewFrame([]byte("late"))) {
		t.Error("a frame of the skipped group was taken")
	}
	o.end(0)
}

// waitStdout waits until the command wrote want on stdout, for at most
// limit.
func (r *toolRun) waitStdout(t *testing.T, want string, limit time.Duration) {
	t.Helper()
	deadline := time.After(limit)
	for !strings.Contains(r.out.String(), want) {
		select {
		case <-r.out.wrote:
		case err := <-r.done:
			t.Fatalf("command exited (%v) before writing %q; stdout %q\nstderr:\n%s", err, want, r.out.String(), r.err.String())
		case <-deadline:
			t.Fatalf("command did not write %q within %v; stdout %q\nstderr:\n%s", want, limit, r.out.String(), r.err.String())
		}
	}
}

// TestSubscribeFirstFrameNotHeld: a live subscriber writes the first
// frame while the track is still open, without waiting for the reorder
// window (an hour here): the first group is not held for an earlier one.
// The bound is far above what delivery takes on a loaded machine and far
// below the window.
func TestSubscribeFirstFrameNotHeld(t *testing.T) {
	addr, fp := startToolRelay(t)
	stdin, w := io.Pipe()
	pub := startTool(t, stdin, "pub", "moqt://"+addr+"/", "--path", "/live/y", "--track", "chat", "--fingerprint", fp, "--group-every", "1")
	pub.waitStderr(t, "publishing /live/y track chat")
	sub := startTool(t, nil, "sub", "https://"+addr+"/", "--path", "/live/y", "--track", "chat", "--fingerprint", fp, "--reorder-window", "1h")
	sub.waitStderr(t, "subscribed to /live/y track chat")
	if _, err := io.WriteString(w, "first\n"); err != nil {
		t.Fatal(err)
	}
	sub.waitStdout(t, "first\n", 30*time.Second)
	if _, err := io.WriteString(w, "second\n"); err != nil {
		t.Fatal(err)
	}
	sub.waitStdout(t, "first\nsecond\n", 30*time.Second)
	w.Close()
	pub.wait(t)
	sub.wait(t)
	if got := sub.out.String(); got != "first\nsecond\n" {
		t.Errorf("subscriber got %q\nstderr:\n%s", got, sub.err.String())
	}
}

// TestOrderedOutputSlowGroupNotSkipped: a group that finishes within the
// window after newer groups completed (a relay forwards groups
// concurrently, so one may simply be slower) is written whole, then the
// newer ones.
func TestOrderedOutputSlowGroupNotSkipped(t *testing.T) {
	var out, warn bytes.Buffer
	o := newTestOutput(&out, &warn)
	o.start(0)
	o.frame(0, moqt.NewFrame([]byte("g0a")))
	readGroup(o, 1, "g1")
	readGroup(o, 2, "g2")
	o.frame(0, moqt.NewFrame([]byte("g0b")))
	o.end(0)
	expectOutput(t, &out, &warn, "g0a\ng0b\ng1\ng2\n")
	if o.waiting() {
		t.Error("a wait is still running after the slow group finished")
	}
}

package main

import (
	"io"
	"testing"
)

// TestPublishSubscribe publishes lines from stdin with `moq pub` and reads
// them with two `moq sub`s through a relay: one over WebTransport gets
// every line byte for byte and in order (across groups) and exits when the
// track ends; one over raw QUIC with --frames raw --count 3 gets the first
// three frames.
func TestPublishSubscribe(t *testing.T) {
	addr, fp := startToolRelay(t)
	in := "first line\n\nwith\rcarriage return\n  spaces  \n5\n6\n7\nlast\n"
	stdin, w := io.Pipe()
	pub := startTool(t, stdin, "pub", "moqt://"+addr+"/", "--path", "/live/x", "--track", "chat", "--fingerprint", fp, "--group-every", "3")
	pub.waitStderr(t, "publishing /live/x track chat")
	sub := startTool(t, nil, "sub", "https://"+addr+"/", "--path", "/live/x", "--track", "chat", "--fingerprint", fp)
	sub.waitStderr(t, "subscribed to /live/x track chat over webtransport")
	raw := startTool(t, nil, "subscribe", "moqt://"+addr+"/", "--path", "/live/x", "--track", "chat", "--fingerprint", fp, "--frames", "raw", "--count", "3")
	raw.waitStderr(t, "subscribed")
	if _, err := io.WriteString(w, in); err != nil {
		t.Fatal(err)
	}
	w.Close()
	pub.wait(t)
	sub.wait(t)
	raw.wait(t)
	if got := sub.out.String(); got != in {
		t.Errorf("subscriber got %q, want %q\nstderr:\n%s", got, in, sub.err.String())
	}
	if got, want := raw.out.String(), "first linewith\rcarriage return"; got != want {
		t.Errorf("raw subscriber got %q, want %q\nstderr:\n%s", got, want, raw.err.String())
	}
	if got := pub.err.String(); !contains(got, "published 8 frames in 3 groups") {
		t.Errorf("publisher summary: %q", got)
	}
}

// TestPublishRawFraming: --frames raw cuts stdin into --frame-size frames,
// the last one short; bad framing flags are refused.
func TestPublishRawFraming(t *testing.T) {
	o := &publishOptions{frames: "raw", frameSize: 4}
	next, err := o.frameSplitter(stringsReader("abcdefghij"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for {
		b, err := next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(b))
	}
	if len(got) != 3 || got[0] != "abcd" || got[1] != "efgh" || got[2] != "ij" {
		t.Errorf("frames %q", got)
	}
	o = &publishOptions{frames: "lines", maxFrame: 3}
	next, _ = o.frameSplitter(stringsReader("abc\nabcd\n"))
	if b, err := next(); err != nil || string(b) != "abc" {
		t.Errorf("first line %q, %v", b, err)
	}
	if _, err := next(); err == nil || !contains(err.Error(), "longer than --max-frame") {
		t.Errorf("long line: %v", err)
	}
	if _, err := (&publishOptions{frames: "xml"}).frameSplitter(nil); err == nil {
		t.Error("--frames xml accepted")
	}
}

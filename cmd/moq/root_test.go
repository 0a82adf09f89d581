package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestVersionCommand(t *testing.T) {
	cmd := newRootCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetArgs([]string{"version"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "draft-14 (0xff00000e)") || !strings.Contains(out.String(), `"moq-00"`) {
		t.Fatalf("version output lacks the draft-14 line:\n%s", out.String())
	}
}

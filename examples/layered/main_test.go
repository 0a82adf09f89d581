package main

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// Each subgroup is one stream, so its objects arrive in order; the streams
// of a track may interleave in any order.
var wantSubgroups = map[string][]string{
	"group 0 subgroup 0": {
		`group 0 subgroup 0 priority 64 object 0 normal captured 0s "base 0"`,
		`group 0 subgroup 0 priority 64 object 2 normal captured 40ms "base 1"`,
		`group 0 subgroup 0 priority 64 object 4 normal captured 80ms "base 2"`,
		`group 0 subgroup 0 priority 64 object 6 end-of-group`,
	},
	"group 0 subgroup 1": {
		`group 0 subgroup 1 priority 128 object 1 normal captured 0s "enhancement 0"`,
		`group 0 subgroup 1 priority 128 object 3 normal captured 40ms "enhancement 1"`,
		`group 0 subgroup 1 priority 128 object 5 normal captured 80ms "enhancement 2"`,
	},
	"group 1 subgroup 0": {
		`group 1 subgroup 0 priority 64 object 0 normal captured 120ms "base 3"`,
		`group 1 subgroup 0 priority 64 object 2 normal captured 160ms "base 4"`,
		`group 1 subgroup 0 priority 64 object 4 normal captured 200ms "base 5"`,
		`group 1 subgroup 0 priority 64 object 6 end-of-track`,
	},
	"group 1 subgroup 1": {
		`group 1 subgroup 1 priority 128 object 1 normal captured 120ms "enhancement 3"`,
		`group 1 subgroup 1 priority 128 object 3 normal captured 160ms "enhancement 4"`,
		`group 1 subgroup 1 priority 128 object 5 normal captured 200ms "enhancement 5"`,
	},
}

func TestDemo(t *testing.T) {
	defer goleak.VerifyNone(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out strings.Builder
	if err := demo(ctx, 2, &out); err != nil {
		t.Fatal(err)
	}
	// Split the output into the two subscribers' sections.
	sections := map[string][]string{}
	var cur string
	for line := range strings.Lines(out.String()) {
		line = strings.TrimSuffix(line, "\n")
		if strings.HasSuffix(line, ":") {
			cur = strings.TrimSuffix(line, ":")
			sections[cur] = []string{}
			continue
		}
		sections[cur] = append(sections[cur], line)
	}
	if len(sections) != 2 || sections["moqt"] == nil || sections["https"] == nil {
		t.Fatalf("want sections moqt: and https:, got:\n%s", out.String())
	}
	for scheme, lines := range sections {
		got := map[string][]string{}
		for _, l := range lines {
			f := strings.Fields(l)
			if len(f) < 4 {
				t.Fatalf("%s: malformed line %q", scheme, l)
			}
			key := strings.Join(f[:4], " ")
			got[key] = append(got[key], l)
		}
		for key, want := range wantSubgroups {
			if !slices.Equal(got[key], want) {
				t.Errorf("%s: %s:\ngot  %q\nwant %q", scheme, key, got[key], want)
			}
		}
		for key := range got {
			if _, ok := wantSubgroups[key]; !ok {
				t.Errorf("%s: unexpected subgroup %s: %q", scheme, key, got[key])
			}
		}
	}
}

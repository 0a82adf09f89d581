package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moqgo/moqgo/internal/trace"
	"github.com/moqgo/moqgo/moqt"
)

// objectKey describes a received object for comparison.
func objectKey(group, subgroup uint64, prio uint8, o *moqt.Object) string {
	return fmt.Sprintf("g%d s%d p%d o%d st%d ext%v %q", group, subgroup, prio, o.ID, o.Status, o.Extensions, o.Frame.Bytes())
}

// TestRecordReplay records the sample group with `moq record`, checks the
// trace, replays it with `moq replay` under another path and checks that a
// subscriber receives every object as recorded.
func TestRecordReplay(t *testing.T) {
	addr, fp := startToolRelay(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	track, _ := dialPublisher(t, ctx, addr, fp, "/rec", "t")
	file := filepath.Join(t.TempDir(), "x.moqtrace")
	rec := startTool(t, nil, "record", "moqt://"+addr+"/", "--path", "/rec", "--track", "t", "--fingerprint", fp, "--out", file)
	rec.waitStderr(t, "subscribed")
	writeSampleGroup(t, track)
	track.Close()
	rec.wait(t)

	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr, err := trace.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Header.Path != "/rec" || tr.Header.Track != "t" {
		t.Errorf("header %+v", tr.Header)
	}
	var want []string
	ends := 0
	for {
		r, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if r.Kind == trace.KindSubgroupEnd {
			ends++
			continue
		}
		exts, err := decodeExtensions(r.Extensions)
		if err != nil {
			t.Fatal(err)
		}
		o := &moqt.Object{ID: r.Object, Status: moqt.ObjectStatus(r.Status), Extensions: exts, Frame: moqt.NewFrame(r.Payload)}
		want = append(want, objectKey(r.Group, r.Subgroup, r.Priority, o))
	}
	slices.Sort(want)
	wantObjects := []string{
		`g0 s0 p10 o0 st0 ext[{2 7 []} {3 0 [104 105]}] "key"`,
		`g0 s0 p10 o3 st0 ext[] "d"`,
		`g0 s0 p10 o4 st3 ext[] ""`,
		`g0 s1 p20 o1 st0 ext[] "b"`,
	}
	if !slices.Equal(want, wantObjects) || ends != 2 {
		t.Fatalf("trace holds %q and %d subgroup ends, want %q and 2", want, ends, wantObjects)
	}

	// A subscriber waits (the relay holds it) for the replay to arrive.
	pin, _ := hex.DecodeString(fp)
	sub, err := (&moqt.Client{TLSConfig: pinnedTLS(pin)}).Dial(ctx, "https://"+addr+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	type result struct {
		got []string
		err error
	}
	res := make(chan result, 1)
	go func() {
		got, err := collectObjects(ctx, sub, "/replayed", "t")
		res <- result{got, err}
	}()
	rep := startTool(t, nil, "replay", file, "moqt://"+addr+"/", "--path", "/replayed", "--fingerprint", fp, "--speed", "2")
	rep.wait(t)
	r := <-res
	if r.err != nil {
		t.Fatal(r.err)
	}
	slices.Sort(r.got)
	if !slices.Equal(r.got, wantObjects) {
		t.Errorf("replayed objects %q, want %q", r.got, wantObjects)
	}
	if !strings.Contains(rep.err.String(), "replayed 4 objects") {
		t.Errorf("replay stderr: %s", rep.err.String())
	}
}

// collectObjects subscribes to path/name and returns every object until
// the track ends.
func collectObjects(ctx context.Context, sess *moqt.Session, path moqt.BroadcastPath, name moqt.TrackName) ([]string, error) {
	tr, err := sess.Subscribe(path, name, nil)
	if err != nil {
		return nil, err
	}
	var (
		mu  sync.Mutex
		got []string
		wg  sync.WaitGroup
	)
	defer wg.Wait()
	for {
		gr, err := tr.AcceptGroup(ctx)
		if errors.Is(err, io.EOF) {
			wg.Wait()
			return got, nil
		}
		if err != nil {
			return nil, err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				o, err := gr.ReadObject()
				if err != nil {
					return
				}
				mu.Lock()
				got = append(got, objectKey(uint64(gr.GroupSequence()), gr.SubgroupID(), gr.PublisherPriority(), o))
				mu.Unlock()
			}
		}()
	}
}

// TestReplayBadTrace: a file that is not a trace is refused with a clear
// error before connecting.
func TestReplayBadTrace(t *testing.T) {
	file := filepath.Join(t.TempDir(), "bad.moqtrace")
	if err := os.WriteFile(file, []byte("not a trace"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := startTool(t, nil, "replay", file, "moqt://127.0.0.1:1/")
	if err := <-r.done; err == nil || !strings.Contains(err.Error(), "not a trace file") {
		t.Errorf("error %v", err)
	}
}

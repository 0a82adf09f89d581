package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/moqgo/moqgo/internal/trace"
	"github.com/moqgo/moqgo/internal/wire"
	"github.com/moqgo/moqgo/moqt"
)

type recordOptions struct {
	subscriptionOptions
	out   string
	count int
}

func newRecordCmd() *cobra.Command {
	o := &recordOptions{}
	cmd := &cobra.Command{
		Use:   "record URL --path PATH --track NAME --out FILE.moqtrace",
		Short: "Record a live track to a .moqtrace file",
		Long: `Subscribe to a track and record every object — group, subgroup, object ID,
publisher priority, status, extension headers, payload and arrival time — and
the end of every subgroup stream to a trace file (format: docs/trace.md),
which "moq replay" publishes again with the original timing.

It stops when the track ends, after --count objects, after --duration, or on
Ctrl-C; the file is complete up to the last record in every case.
` + connectHelp,
		Example: `  moq record moqt://127.0.0.1:4443/ --path /demo --track video --insecure --out demo.moqtrace --duration 10s`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.prepare(cmd, args[0]); err != nil {
				return err
			}
			if o.out == "" {
				return errors.New("--out is required")
			}
			return runRecord(cmd, args[0], o)
		},
	}
	o.addFlags(cmd.Flags())
	cmd.Flags().StringVarP(&o.out, "out", "o", "", "trace file to write (- for stdout)")
	cmd.Flags().IntVar(&o.count, "count", 0, "stop after this many objects (0: no limit)")
	return cmd
}

// recorder writes the objects of concurrently read groups to one trace.
type recorder struct {
	mu      sync.Mutex
	w       *trace.Writer
	start   time.Time
	limit   int
	objects int
	stop    func()
	err     error
}

func runRecord(cmd *cobra.Command, rawURL string, o *recordOptions) error {
	var out io.Writer = cmd.OutOrStdout()
	if o.out != "-" {
		f, err := os.Create(o.out)
		if err != nil {
			return err
		}
		defer f.Close()
		out = f
	}
	ctx, cancel := runContext(cmd, o.duration)
	defer cancel()
	sub, err := o.subscribeTrack(ctx, cmd, rawURL)
	if err != nil {
		return err
	}
	rec := &recorder{start: time.Now(), limit: o.count, stop: cancel}
	if rec.w, err = trace.NewWriter(out, trace.Header{Path: o.path, Track: o.track, Start: rec.start}); err != nil {
		sub.sess.Close()
		return err
	}
	err = sub.readGroups(ctx, rec.readGroup)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if ferr := rec.w.Flush(); rec.err == nil {
		rec.err = ferr
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "moq: recorded %d objects to %s\n", rec.objects, o.out)
	if err != nil {
		return err
	}
	return rec.err
}

// readGroup records one subgroup to its end.
func (rec *recorder) readGroup(gr *moqt.GroupReader) {
	for {
		o, err := gr.ReadObject()
		if err != nil {
			rec.write(gr, nil)
			return
		}
		if !rec.write(gr, o) {
			gr.CancelRead(moqt.GroupErrorCancelled)
			return
		}
	}
}

// write records o, or the end of gr's subgroup if o is nil; false means
// stop recording.
func (rec *recorder) write(gr *moqt.GroupReader, o *moqt.Object) bool {
	r := trace.Record{
		Kind:     trace.KindSubgroupEnd,
		Time:     time.Since(rec.start),
		Group:    uint64(gr.GroupSequence()),
		Subgroup: gr.SubgroupID(),
		Priority: gr.PublisherPriority(),
		Datagram: gr.Datagram(),
	}
	if o != nil {
		r.Kind, r.Object, r.Status, r.Payload = trace.KindObject, o.ID, uint64(o.Status), o.Frame.Bytes()
		r.Extensions = encodeExtensions(o.Extensions)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.err != nil || (o != nil && rec.limit > 0 && rec.objects >= rec.limit) {
		return false
	}
	if rec.err = rec.w.Write(&r); rec.err != nil {
		rec.stop()
		return false
	}
	if o == nil {
		// A subgroup ended: a good moment to put the records on disk.
		rec.err = rec.w.Flush()
		return rec.err == nil
	}
	rec.objects++
	if rec.limit > 0 && rec.objects >= rec.limit {
		rec.stop()
	}
	return true
}

// encodeExtensions encodes extension headers as the wire's Extension
// Headers block (what a trace keeps).
func encodeExtensions(exts []moqt.Extension) []byte {
	if len(exts) == 0 {
		return nil
	}
	kvs := make([]wire.KeyValue, len(exts))
	for i, e := range exts {
		kvs[i] = wire.KeyValue{Type: e.Type, Value: e.Value, Bytes: e.Bytes}
	}
	// The extensions were decoded from the wire, so they encode.
	b, _ := wire.AppendExtensions(nil, kvs)
	return b
}

// decodeExtensions decodes an Extension Headers block.
func decodeExtensions(b []byte) ([]moqt.Extension, error) {
	if len(b) == 0 {
		return nil, nil
	}
	kvs, err := wire.ParseExtensions(b)
	if err != nil {
		return nil, err
	}
	exts := make([]moqt.Extension, len(kvs))
	for i, kv := range kvs {
		exts[i] = moqt.Extension{Type: kv.Type, Value: kv.Value, Bytes: kv.Bytes}
	}
	return exts, nil
}

// Command fanout measures moqgo's relay fan-out on loopback: one publisher
// to N subscribers through a relay in its own process, against the raw
// quic-go ceiling (one server process writing the same groups to N
// connections, no MoQ), and prints a table. Run it with `make bench-relay`.
//
// Groups are 30 frames of 1 KiB, each frame stamped with its write time.
// For each N it measures, over a fixed window after a warm-up:
//
//   - delivered throughput, unpaced (the publisher writes as fast as it
//     can), for the relay and for raw quic-go;
//   - the server process's CPU seconds per delivered GB;
//   - the relay process's RSS, and its growth per idle subscriber, read
//     from /proc once the relay has collected the handshakes' garbage and
//     returned it to the OS (as an idle process does within minutes) and,
//     in the "(unsettled)" column, right after the subscribers connected;
//   - end-to-end latency p50/p99 at 30 groups/s, from the publisher's
//     write of a frame to the subscriber's read of it, twice: with each
//     group's frames spread evenly over its 1/30 s (a live source, the
//     frame-paced figure), and with each group written in one burst; raw
//     quic-go paced the same way alongside.
//
// Everything shares the machine's cores: the numbers compare the relay
// with quic-go measured the same way in the same run, not with other
// machines. The box's load moves them from run to run; -repeat K measures
// everything K times, relay and raw interleaved, and prints the medians
// (each column's own) and every run's throughput ratio. The subscribers
// and the publisher run in this process, the measured server in a child
// (this binary re-executed with -serve), so its CPU and RSS are the
// server's alone. MOQ_BENCH_MEMSTATS=1 prints the
// relay's heap, stack and goroutine figures as it settles;
// MOQ_BENCH_HEAPPROFILE=file writes the relay's heap profile with
// the subscribers connected and idle, MOQ_BENCH_CPUPROFILE=file the server
// processes' CPU profiles, to file.relay, file.relay-paced, file.raw and
// file.raw-paced (the last N's run wins), and MOQ_BENCH_CLIENTPROFILE=file
// this process's (publisher and subscribers) over each measurement window,
// named the same way.
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// The benchmark's groups.
const (
	framesPerGroup  = 30
	frameSize       = 1024
	groupsPerSecond = 30
)

func fingerprint(der []byte) string {
	h := sha256.Sum256(der)
	return hex.EncodeToString(h[:])
}

func main() {
	serve := flag.String("serve", "", "internal: run the measured server (relay or raw) in this process")
	n := flag.Int("n", 1, "internal: connections the raw server waits for")
	var paced pacing
	flag.Var(&paced, "pacing", "internal: how the raw server paces its groups (none, frames, burst)")
	ns := flag.String("subscribers", "1,10,100,500", "comma-separated subscriber counts")
	window := flag.Duration("window", 3*time.Second, "measurement window per run")
	repeat := flag.Int("repeat", 1, "runs of each measurement, relay and raw interleaved; the table shows their medians")
	flag.Parse()
	if *serve != "" {
		if err := serveChild(*serve, *n, paced); err != nil {
			fmt.Fprintln(os.Stderr, "fanout child:", err)
			os.Exit(1)
		}
		return
	}
	var counts []int
	for _, f := range strings.Split(*ns, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || v < 1 {
			fmt.Fprintf(os.Stderr, "fanout: bad subscriber count %q\n", f)
			os.Exit(2)
		}
		counts = append(counts, v)
	}
	if *repeat < 1 {
		fmt.Fprintln(os.Stderr, "fanout: -repeat must be at least 1")
		os.Exit(2)
	}
	if err := run(counts, *window, *repeat); err != nil {
		fmt.Fprintln(os.Stderr, "fanout:", err)
		os.Exit(1)
	}
}

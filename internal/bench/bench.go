// Package bench measures ndshm against copying channels, for ndshm
// bench: handing blocks to another process, mapping arrays in pools of
// goroutines and processes, and streaming frames through rings. Its
// helper processes are this program re-executed (internal/reexec) in the
// roles "handoff-peer", "ring-bench-reader", "pool-worker",
// "tcp-copy-peer", and for bench flight "ndshm" (the command line) and
// "flight-pull-peer", which the program must play.
package bench

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/ndshm/ndshm/internal/bench/chart"
	"github.com/ndshm/ndshm/internal/handoff"
	"github.com/ndshm/ndshm/internal/human"
)

// Synopsis is ndshm bench's usage line.
const Synopsis = "bench handoff [--json] [--plot F.svg] [--sizes 1KiB,1MiB,...] [--read touch|all]" +
	" | bench map [--json] [--plot F.svg] [--size 400MiB] [--runs N]" +
	" | bench ring [--json] [--plot F.svg] [--sizes 64,1MiB,...] [--readers 1,2] [--duration D]" +
	" | bench flight [--json] [--plot F.svg] [--runs N]"

// About describes the benchmarks, for ndshm help bench.
const About = `
Measures ndshm against copying. Benchmarks:

  handoff   hand a block of each size (1 KiB to 1 GiB) to another process,
            which maps it afresh, or reads through the mapping it kept from
            the last time (warm), and touches one byte or sums every byte
            (--read touch|all, default both), vs. sending the same bytes
            through a unix socket into a buffer the peer keeps; median and
            p99 round trip per size, and ndshm's p50 / the socket's.

  map       in-place sqrt, then affine=2,1, over a float64 array (--size,
            default 400 MiB) with no parallelism, 1 and 2 goroutines, and
            1 and 2 worker processes; p50 of --runs runs each, and apart
            from those each pool's first call (sqrt), which maps the
            block in fresh workers; and one task's round trip to a
            worker process (the empty op, no data).

  ring      stream frames (--sizes, default 64 B, 64 KiB, 1 MiB, 100 MiB)
            to 1 and 2 reader processes (--readers) through a ring, with
            readers that sleep or spin (--spin), vs copying each frame
            through a unix socket to each reader: frames/s at full speed
            and CPU seconds per 1,000 frames (--duration each), publish to
            reader-awake latency p50/p99, and for frames of --paced-from
            and more the transport's share of a core at 30 fps. About 35 s.

  flight    pull a 256 MiB block from ndshm serve --flight on one host
            into another's /dev/shm, then copy as many bytes over raw TCP
            between the same hosts, --runs times: GB/s, the pull's share
            of the raw copy's, copies per byte and CPU per GB on each
            side. The hosts are network namespaces on this machine
            (needs root).

--plot FILE.svg (or FILE.png) also draws the results: handoff, p50 against
size on log-log axes, a line per read and mapping for ndshm and per read for
the socket copy; ring, frames/s against frame size, ring vs socket; map, each
pool's first call beside its warm p50.

--json prints {"bench":"handoff","results":[{"method":"ndshm"|"unix-socket-copy",
"size_bytes":N,"read":"touch"|"all","mapping":"fresh"|"warm","huge":bool,
"p50_us":x,"p99_us":y,"runs":n,"vs_socket":r,"sum":s}]} (mapping, huge and
vs_socket on ndshm rows, sum on read-all rows), or for map
{"bench":"map","results":[{"mode":"serial"|"goroutine"|"process","workers":N,
"op":"sqrt","bytes":B,"first":bool,"p50_ms":x}],"task_overhead_us":y,"lock_us":z}, or for ring
{"bench":"ring","results":[{"method":"ndshm-ring"|"ndshm-ring-spin"|"unix-socket-copy",
"frame_bytes":N,"readers":R,"fps":f,"p50_us":x,"p99_us":y,"cpu_s_per_1k":c,...}],
"targets":[{"target":"...","value":v,"unit":"...","met":true|false|null}]}, or for flight
{"bench":"flight","results":[{"method":"flight-pull"|"raw-tcp-copy","run":n,"size_bytes":N,
"seconds":s,"bytes_per_s":r,"send_user_copies_per_byte":c,"recv_user_copies_per_byte":c,
"send_cpu_ns_per_gb":x,"recv_cpu_ns_per_gb":y,"vs_tcp":v}],"mirror":[],"targets":[...]}
(vs_tcp on pull rows: its rate / the same run's raw copy's).`

// Options are ndshm bench's flags.
type Options struct {
	json                 bool
	plot                 string
	sizes, size, readers string
	read                 string
	pacedFrom            string
	runs                 int
	duration, spin       time.Duration
}

// Flags defines the options' flags in fs, with their defaults.
func (o *Options) Flags(fs *flag.FlagSet) {
	fs.BoolVar(&o.json, "json", false, "print JSON")
	fs.StringVar(&o.plot, "plot", "", "also draw the results into `FILE` (.svg or .png)")
	fs.StringVar(&o.sizes, "sizes", "", "comma-separated sizes (default 1KiB to 1GiB; ring: 64,64KiB,1MiB,100MiB)")
	fs.StringVar(&o.read, "read", "touch,all", "handoff: what the peer reads, `R`: touch (one byte), all (every byte) or touch,all")
	fs.StringVar(&o.size, "size", "400MiB", "map: the array's size `S` (default 400MiB)")
	fs.IntVar(&o.runs, "runs", 5, "map: `N` runs of each op in each pool; flight: N rounds (default 5)")
	fs.StringVar(&o.readers, "readers", "1,2", "ring: `N,M` reader processes (default 1,2)")
	fs.DurationVar(&o.duration, "duration", 400*time.Millisecond, "ring: send frames for `D` in each run (default 400ms)")
	fs.DurationVar(&o.spin, "spin", 50*time.Microsecond, "ring: ndshm-ring-spin readers poll for `D` before sleeping (default 50µs)")
	fs.StringVar(&o.pacedFrom, "paced-from", "16MiB", "ring: frames of `S` and more also go at 30 fps (default 16MiB)")
}

// A Run runs a benchmark and writes its report to w.
type Run func(ctx context.Context, w io.Writer) error

// New returns the benchmark name with the options. Its error is the
// user's: an unknown benchmark or a bad option.
func New(name string, o *Options) (Run, error) {
	if o.plot != "" {
		if err := chart.CheckPath(o.plot); err != nil {
			return nil, err
		}
	}
	switch name {
	case "map":
		n, err := human.ParseBytes(o.size)
		if err != nil || n < 8 || o.runs < 1 {
			return nil, fmt.Errorf("--size must be at least 8 bytes and --runs at least 1")
		}
		return func(ctx context.Context, w io.Writer) error { return benchMap(ctx, w, o, n) }, nil
	case "ring":
		if o.sizes == "" {
			o.sizes = "64,64KiB,1MiB,100MiB"
		}
		ro, err := parseRbenchOpts(o.sizes, o.readers, o.duration, o.spin, o.pacedFrom)
		if err != nil {
			return nil, err
		}
		return func(ctx context.Context, w io.Writer) error { return benchRing(ctx, w, o.json, o.plot, ro) }, nil
	case "flight":
		if o.runs < 1 {
			return nil, fmt.Errorf("--runs must be at least 1")
		}
		return func(ctx context.Context, w io.Writer) error { return benchFlight(ctx, w, o) }, nil
	case "handoff":
		list := handoff.Sizes
		if o.sizes != "" {
			var err error
			if list, err = parseSizes(o.sizes); err != nil {
				return nil, fmt.Errorf("--sizes: %v", err)
			}
		}
		reads, err := parseReads(o.read)
		if err != nil {
			return nil, fmt.Errorf("--read: %v", err)
		}
		return func(ctx context.Context, w io.Writer) error { return benchHandoff(ctx, w, o, list, reads) }, nil
	}
	return nil, fmt.Errorf("unknown benchmark %q", name)
}

// parseSizes reads "1KiB,64KiB,1MiB" (or plain byte counts).
func parseSizes(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := human.ParseBytes(strings.TrimSpace(f))
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

// parseReads reads "touch", "all" or "touch,all".
func parseReads(s string) ([]handoff.Read, error) {
	var out []handoff.Read
	for _, f := range strings.Split(s, ",") {
		r, err := handoff.ParseRead(strings.TrimSpace(f))
		if err != nil {
			return nil, err
		}
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out, nil
}

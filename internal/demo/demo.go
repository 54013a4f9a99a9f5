// Package demo is ndshm demo: what ndshm is for, shown with real
// processes and measured. Its helper processes are this program
// re-executed (internal/reexec) in the roles "demo-worker", "demo-sum",
// "demo-creator", "demo-stream-sink", "pool-worker" and "ndshm" (the
// command line, for its ring recv), which the program must play.
package demo

import (
	"context"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/doctor"
	"github.com/ndshm/ndshm/internal/human"
	"github.com/ndshm/ndshm/internal/sys"
)

// About describes the demo, for ndshm help demo.
const About = `
Shows what ndshm is for, with real processes: a loader fills a 256 MiB
float64 block; a worker process (this binary, re-executed) attaches by
name, transforms half of it in place and sends back one number; Python's
NumPy, if /usr/bin/python3 has it, attaches with np.load and sums it; then
the same job goes through a unix socket, the fastest copying channel, and
the two are timed side by side. Then the same worker pool maps and
reduces the array; a ring streams 100 MiB frames at 30 fps to a Go and a
Python consumer, next to the same stream through unix sockets; and a
data server hands blocks out and collects an orphan. /dev/shm is left as
it was found. The Python consumer is $NDSHM_PYTHON -m ndshm where that
names a python with the package installed, else /usr/bin/python3 with the
checkout's python/ directory.

--json prints the measured results instead of the story (durations in
nanoseconds): {"job":{"count","fill_ns","attach_ns","channels":[{"method",
"took_ns","size_bytes","sum"}],"speedup","numpy","numpy_sum"},"pools":[{"mode",
"workers","took_ns","sum"}],"stream":[{"channel","writer","sent","fps",
"took_ns","cpu_ns","consumers":[{"who","frames","lost","dup","torn","fps",
"p50_us","p99_us","missed","cpu_ns"}]}],"lifecycle":{"name","size_bytes",
"go_sum","numpy","numpy_sum","orphan_removed_ns","unlinked"}}.`

// demoLen is the demo array's length: 32 Mi float64, 256 MiB.
const demoLen = 32 << 20

// Results are what the demo measured, stage by stage: every number its
// story tells. Each stage has checked its own results before it records
// them (a wrong element or sum fails the demo); tests check the rest.
type Results struct {
	Machine   doctor.Report `json:"machine"` // ndshm doctor's report, measured first
	Job       Job           `json:"job"`
	Pools     []PoolRun     `json:"pools"`
	Stream    []StreamRun   `json:"stream"`
	Lifecycle Lifecycle     `json:"lifecycle"`
}

// A Job is the first stage: a worker process transforms half of an array
// and sums it, through shared memory and then through a socket.
type Job struct {
	Count    int           `json:"count"` // elements of the array
	Fill     time.Duration `json:"fill_ns"`
	Attach   time.Duration `json:"attach_ns"`       // a worker's attach by name, no work: best of 5
	Channels []Channel     `json:"channels"`        // ndshm's, then the socket's
	Speedup  float64       `json:"speedup"`         // the socket's time over ndshm's
	NumPy    string        `json:"numpy,omitempty"` // NumPy's version; "" if Python was skipped
	NumPySum float64       `json:"numpy_sum"`       // of the whole array, after the job
}

// A Channel is the job done one way.
type Channel struct {
	Method string        `json:"method"`
	Took   time.Duration `json:"took_ns"`
	Moved  int           `json:"size_bytes"` // bytes between the processes
	Sum    float64       `json:"sum"`        // the worker's, of the half it transformed
}

// A PoolRun is the map/reduce stage in one kind of pool.
type PoolRun struct {
	Mode    string        `json:"mode"`
	Workers int           `json:"workers"`
	Took    time.Duration `json:"took_ns"`
	Sum     float64       `json:"sum"`
}

// Lifecycle is the data server's stage.
type Lifecycle struct {
	Name          string        `json:"name"` // of the served block
	Size          int           `json:"size_bytes"`
	GoSum         float64       `json:"go_sum"` // an independent Go process's
	NumPy         string        `json:"numpy,omitempty"`
	NumPySum      float64       `json:"numpy_sum"`
	OrphanRemoved time.Duration `json:"orphan_removed_ns"` // from SIGKILL to the server's GC
	Unlinked      bool          `json:"unlinked"`          // the server unlinked its block as it stopped
}

// A session is one run of the demo: where its story goes, and what it
// measured so far.
type session struct {
	out  io.Writer
	name string
	res  Results
}

// Run runs the demo, telling its story on out, and returns its results.
// On an error the results are those of the stages that completed.
func Run(ctx context.Context, out io.Writer) (*Results, error) {
	d := &session{out: out, name: fmt.Sprintf("ndshm-demo-%d", os.Getpid())}
	err := d.run(ctx)
	return &d.res, err
}

func (d *session) run(ctx context.Context) error {
	// What the tables below cost depends on the machine's first touches:
	// say so first, as ndshm doctor measures them.
	d.res.Machine = doctor.Examine(sys.Dir)
	fmt.Fprintf(d.out, "%s\n\n", doctor.Verdict(d.res.Machine))
	fmt.Fprintf(d.out, "ndshm demo: a worker process doubles-and-adds-one half of a %d MiB float64 array and sums it\n\n", demoLen*8>>20)
	w, err := startDemoWorker()
	if err != nil {
		return err
	}
	defer w.Close()
	d.res.Job.Count = demoLen
	if err := d.shared(ctx, w); err != nil {
		return err
	}
	if err := d.copied(w); err != nil {
		return err
	}
	d.table()
	if err := d.mapped(ctx); err != nil {
		return err
	}
	if err := d.streamed(ctx); err != nil {
		return err
	}
	return d.served(ctx)
}

// shared is the ndshm way: fill a block once, pass its name.
func (d *session) shared(ctx context.Context, w *demoWorker) error {
	start := time.Now()
	b, err := ndshm.Create(d.name, ndshm.Spec{DType: ndshm.Float64, Shape: []int{demoLen}})
	if err != nil {
		return err
	}
	defer b.Close() // owned: unlinks the name too
	a, err := ndshm.View[float64](b)
	if err != nil {
		return err
	}
	xs, _ := a.Flat()
	for i := range xs {
		xs[i] = float64(i)
	}
	d.res.Job.Fill = time.Since(start)
	d.step("1. loader made block %s (float64[%d]) and filled it", d.name, demoLen)(d.res.Job.Fill)

	if d.res.Job.Attach, err = d.handoff(w); err != nil {
		return err
	}
	d.step("2. a worker process attached by name and touched it (no work)")(d.res.Job.Attach)

	start = time.Now()
	sum, _, err := w.call(opShared, 0, demoLen/2, []byte(d.name))
	took := time.Since(start)
	if err != nil {
		return err
	}
	if err := check(xs, sum); err != nil {
		return err
	}
	d.step("3. the worker transformed rows [0, %d) in place and sent back their sum %.0f", demoLen/2, sum)(took)
	d.res.Job.Channels = append(d.res.Job.Channels, Channel{"ndshm (name + 2 ints)", took, 25 + len(d.name) + 16, sum})
	return d.python(ctx, xs)
}

// handoff times an attach with no work: the price of sharing by name.
func (d *session) handoff(w *demoWorker) (time.Duration, error) {
	best := time.Hour
	for range 5 {
		start := time.Now()
		if _, _, err := w.call(opShared, 0, 0, []byte(d.name)); err != nil {
			return 0, err
		}
		best = min(best, time.Since(start))
	}
	return best, nil
}

// step prints one line of progress and its time.
func (d *session) step(format string, args ...any) func(time.Duration) {
	return func(took time.Duration) {
		fmt.Fprintf(d.out, "%-90s %10s\n", fmt.Sprintf(format, args...), human.Duration(took))
	}
}

// check verifies every element and the worker's sum against the job's
// definition, with exact integer arithmetic (all values are integers
// below 2^53, so float64 sums are exact in any order).
func check(xs []float64, sum float64) error {
	half := len(xs) / 2
	for i, x := range xs {
		want := float64(i)
		if i < half {
			want = 2*want + 1
		}
		if x != want {
			return fmt.Errorf("element %d is %v, want %v", i, x, want)
		}
	}
	if want := float64(half) * float64(half); sum != want {
		return fmt.Errorf("worker's sum is %v, want %v", sum, want)
	}
	return nil
}

// table prints the job's two channels side by side.
func (d *session) table() {
	fmt.Fprintln(d.out)
	tw := tabwriter.NewWriter(d.out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "same job, two channels\ttime\tbytes between processes\t")
	chans := d.res.Job.Channels
	for _, c := range chans {
		fmt.Fprintf(tw, "%s\t%s\t%s\t\n", c.Method, human.Duration(c.Took), human.Bytes(int64(c.Moved)))
	}
	tw.Flush()
	if len(chans) == 2 {
		d.res.Job.Speedup = float64(chans[1].Took) / float64(chans[0].Took)
		fmt.Fprintf(d.out, "\nshared memory did the job %.1f× faster, moving %s instead of %s.\n",
			d.res.Job.Speedup, human.Bytes(int64(chans[0].Moved)), human.Bytes(int64(chans[1].Moved)))
	}
}

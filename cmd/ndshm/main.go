// Command ndshm makes, inspects and removes ndshm blocks: NumPy-compatible
// n-d arrays in /dev/shm that processes share without copying.
//
//	ndshm create NAME --dtype f8 --shape 3,4 [--fill 1.5]
//	ndshm ls
//	ndshm stats NAME
//	ndshm rm NAME
//
// Run `ndshm help` for every command and `ndshm help COMMAND` for its
// flags. Exit status: 0 on success, 1 on failure, 2 on a usage error,
// 130 or 143 when SIGINT or SIGTERM cut a command short (after it has
// cleaned up: removed the blocks it owns and stopped its workers).
//
// This file holds the table of commands and the table of roles, the parts
// the binary plays when it starts itself again (internal/reexec).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"github.com/ndshm/ndshm/internal/bench"
	"github.com/ndshm/ndshm/internal/cmdflag"
	"github.com/ndshm/ndshm/internal/demo"
	"github.com/ndshm/ndshm/internal/handoff"
	"github.com/ndshm/ndshm/internal/reexec"
	"github.com/ndshm/ndshm/pool"
)

// commands is every ndshm command by name. `help` is run's own.
var commands = map[string]*command{
	"bench":      {run: runBench, summary: "measure ndshm against copying channels"},
	"create":     {run: runCreate, summary: "make a persistent block holding a zeroed or filled array"},
	"completion": {run: runCompletion, summary: "print a bash or zsh script that completes ndshm's commands and flags"},
	"doctor":     {run: runDoctor, summary: "measure first-touch cost of shared pages and check huge pages, limits and RemoveIPC, with remedies"},
	"demo":       {run: runDemo, summary: "share a 256 MiB array with a worker process, vs. copying it through a socket"},
	"gc":         {run: runGC, summary: "remove orphans: owned blocks whose creator died"},
	"inspect":    {run: runInspect, summary: "describe a block: dtype, shape, size, creator"},
	"load":       {run: runLoad, summary: "copy a .npy file into a new persistent block"},
	"ls":         {run: runLs, summary: "list the ndshm blocks in /dev/shm"},
	"map":        {run: runMap, summary: "transform a block's array in place, in parallel worker processes"},
	"mirror":     {run: runMirror, summary: "keep a local ring fed with the frames of another host's ring, over Arrow Flight"},
	"reduce":     {run: runReduce, summary: "sum, min, max, mean, count or histogram of a block, in parallel worker processes"},
	"ring": {summary: "make, feed, read and inspect ring channels of frames", about: ringAbout, subs: map[string]*command{
		"create": {run: runRingCreate, summary: "make a persistent ring of slots for frames of a dtype and shape"},
		"send":   {run: runRingSend, summary: "publish test-pattern frames, then close the stream"},
		"recv":   {run: runRingRecv, summary: "receive frames, check the test pattern, report rate and latency"},
		"stat":   {run: runRingStat, summary: "the writer's position and every reader's place"},
	}},
	"pull":    {run: runPull, summary: "copy a block of another host's ndshm serve --flight into a new local block"},
	"push":    {run: runPush, summary: "copy a block to another host's ndshm serve --flight as a new block there"},
	"rm":      {run: runRm, summary: "remove blocks by name"},
	"save":    {run: runSave, summary: "write a block to a .npy file"},
	"serve":   {run: runServe, summary: "serve blocks to other processes over a unix socket, and to other hosts over Arrow Flight"},
	"stats":   {run: runStats, summary: "count, sum, min, max and mean of a numeric block"},
	"top":     {run: runTop, summary: "a live view: blocks and their users, rings with frames/s and each reader's lag and misses"},
	"version": {run: runVersion, summary: "print ndshm's version, module version and commit"},
}

// roles are the parts this binary plays when it starts itself again: the
// helpers of the commands above, each named in reexec.Command.
var roles = map[string]reexec.Func{
	"ndshm":             cli, // the command line in a process of its own: the demo's ring recv
	"pool-worker":       poolWorker,
	"handoff-peer":      func([]string) int { return reexec.Exit("handoff-peer", handoff.ServeFd3()) },
	"ring-bench-reader": bench.RingReader,
	"tcp-copy-peer":     bench.TCPPeer, // bench flight's raw TCP ceiling
	"flight-pull-peer":  flightPullPeer,
	"demo-worker":       demo.Worker,
	"demo-sum":          demo.Sum,
	"demo-creator":      demo.Creator,
	"demo-stream-sink":  demo.StreamSink,
}

// A command is one `ndshm NAME` command, or a group of subcommands
// (`ndshm ring NAME`), which has subs and about instead of run.
type command struct {
	run     func(ctx context.Context, e *env, args []string) error
	summary string // one line for the usage of the command above
	about   string // a group's description
	subs    map[string]*command
}

// env is what a command may touch of the outside world, so that tests
// run commands in-process with buffers.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	commands       map[string]*command // the table, for completion
}

func main() {
	// A re-executed helper is this same binary in a role: it must not
	// parse the command line.
	reexec.Main(roles)
	os.Exit(cli(os.Args[1:]))
}

// poolWorker is a worker of the pools that map, reduce, stats, bench and
// demo start with pool.New: pool's role "pool-worker".
func poolWorker([]string) int {
	if err := pool.Serve(); err != nil {
		fmt.Fprintf(os.Stderr, "pool worker %d: %v\n", os.Getpid(), err)
		return 1
	}
	return 0
}

// cli runs the command line args and returns the exit status. SIGINT and
// SIGTERM cancel the command's context, so that it cleans up and returns;
// if that cut it short, the status is 128 plus the signal's number, as a
// shell reports a process the signal killed. A second signal kills at once.
func cli(args []string) int {
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		if sig, ok := <-sigs; ok {
			signal.Reset(os.Interrupt, syscall.SIGTERM)
			cancel(signalError{sig.(syscall.Signal)})
		}
	}()
	err := run(ctx, args, os.Stdin, os.Stdout, os.Stderr)
	signal.Stop(sigs)
	close(sigs)
	var sig signalError
	if err != nil && errors.As(context.Cause(ctx), &sig) {
		fmt.Fprintf(os.Stderr, "ndshm: %v\n", sig)
		return 128 + int(sig.sig)
	}
	return cmdflag.Report(err, os.Stderr)
}

// A signalError is the cause of a command's cancellation by a signal.
type signalError struct{ sig syscall.Signal }

func (e signalError) Error() string {
	if e.sig == syscall.SIGINT {
		return "interrupted"
	}
	return e.sig.String()
}

// run runs the command line args (without the program name).
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr, commands: commands}
	if len(args) == 0 {
		return &cmdflag.UsageError{Usage: usage} // the usage alone, on stderr
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		return help(ctx, e, args[1:])
	case "-version", "--version":
		args = []string{"version"}
	}
	err := dispatch(ctx, e, nil, commands, args)
	if errors.Is(err, cmdflag.ErrHelp) {
		return nil // `ndshm CMD -h`: the usage went to stdout
	}
	return err
}

// dispatch runs args[0] of cmds, the commands below path (the group's
// names: nil, or ["ring"]), with the rest of args.
func dispatch(ctx context.Context, e *env, path []string, cmds map[string]*command, args []string) error {
	c, ok := cmds[args[0]]
	if !ok {
		return unknown(path, args[0])
	}
	if c.subs == nil {
		return c.run(ctx, e, args[1:])
	}
	path, args = append(path, args[0]), args[1:]
	switch {
	case len(args) == 0:
		return &cmdflag.UsageError{Err: fmt.Errorf("%s: missing COMMAND", strings.Join(path, " ")), Usage: groupUsage(path, c)}
	case args[0] == "help": // ndshm ring help send
		return help(ctx, e, append(slices.Clone(path), args[1:]...))
	case slices.Contains([]string{"-h", "-help", "--help"}, args[0]):
		groupUsage(path, c)(e.stdout)
		return cmdflag.ErrHelp
	}
	return dispatch(ctx, e, path, c.subs, args)
}

// help prints the overall usage, or with arguments, that command's, as
// `ndshm ring create -h` would: `ndshm help ring create`.
func help(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		usage(e.stdout)
		return nil
	}
	cmds := commands
	for i, name := range args {
		c, ok := cmds[name]
		if !ok {
			return unknown(args[:i], name)
		}
		switch last := i == len(args)-1; {
		case c.subs != nil && last:
			groupUsage(args, c)(e.stdout)
			return nil
		case c.subs == nil && !last:
			return &cmdflag.UsageError{Err: fmt.Errorf("help: %s has no subcommands", strings.Join(args[:i+1], " ")), Usage: usage}
		case c.subs == nil:
			if err := c.run(ctx, e, []string{"-h"}); !errors.Is(err, cmdflag.ErrHelp) {
				return err
			}
		}
		cmds = c.subs
	}
	return nil
}

// unknown is the usage error of an unknown command name below path.
func unknown(path []string, name string) error {
	if len(path) == 0 {
		return &cmdflag.UsageError{Err: fmt.Errorf("unknown command %q", name), Usage: usage}
	}
	cmds := commands
	for _, p := range path[:len(path)-1] {
		cmds = cmds[p].subs
	}
	c := cmds[path[len(path)-1]]
	return &cmdflag.UsageError{Err: fmt.Errorf("%s: unknown command %q", strings.Join(path, " "), name), Usage: groupUsage(path, c)}
}

// usage prints the list of commands, sorted, with their summaries.
func usage(w io.Writer) {
	fmt.Fprint(w, "usage: ndshm COMMAND [arguments]\n\n"+
		"ndshm keeps NumPy-compatible n-d arrays in /dev/shm, shared between processes with zero copies.\n"+
		"Named blocks live in $NDSHM_DIR if it is set (an absolute path), else in /dev/shm.\n\n"+
		"commands:\n")
	list(w, commands, "help", "show this list, or `ndshm help COMMAND` for a command's flags")
}

// groupUsage returns the usage of the group c, at path: its description
// and its commands.
func groupUsage(path []string, c *command) func(io.Writer) {
	return func(w io.Writer) {
		name := strings.Join(path, " ")
		fmt.Fprintf(w, "usage: ndshm %s COMMAND [arguments]\n\n%s\n\ncommands:\n", name, strings.TrimSpace(c.about))
		list(w, c.subs)
	}
}

// list prints the commands sorted by name with their summaries, then
// extra, pairs of a name and a summary.
func list(w io.Writer, cmds map[string]*command, extra ...string) {
	names := slices.Sorted(maps.Keys(cmds))
	summaries := make([]string, len(names))
	for i, n := range names {
		summaries[i] = cmds[n].summary
	}
	for i := 0; i+1 < len(extra); i += 2 {
		names, summaries = append(names, extra[i]), append(summaries, extra[i+1])
	}
	width := 0
	for _, n := range names {
		width = max(width, len(n))
	}
	for i, n := range names {
		fmt.Fprintf(w, "  %-*s  %s\n", width, n, summaries[i])
	}
}

// Command ndshm makes, inspects and removes ndshm blocks: NumPy-compatible
// n-d arrays in /dev/shm that processes share without copying.
//
//	ndshm create NAME --dtype f8 --shape 3,4 [--fill 1.5]
//	ndshm ls
//	ndshm stats NAME
//	ndshm rm NAME
//
// Run `ndshm help` for every command and `ndshm help COMMAND` for its
// flags. Exit status: 0 on success, 1 on failure, 2 on a usage error.
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
	"syscall"
)

// env is what a command may touch of the outside world, so that tests
// run commands in-process with buffers.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

// A command is one `ndshm NAME` subcommand.
type command struct {
	run     func(ctx context.Context, e *env, args []string) error
	summary string // one line for the overall usage
}

// commands is every subcommand by name. Other files add theirs from init
// functions (`ndshm demo`, `ndshm bench`), which run after this map is
// initialized; `help` is handled by run itself.
var commands = map[string]command{
	"create":  {runCreate, "make a persistent block holding a zeroed or filled array"},
	"inspect": {runInspect, "describe a block: dtype, shape, size, creator"},
	"load":    {runLoad, "copy a .npy file into a new persistent block"},
	"ls":      {runLs, "list the ndshm blocks in /dev/shm"},
	"rm":      {runRm, "remove blocks by name"},
	"save":    {runSave, "write a block to a .npy file"},
	"stats":   {runStats, "count, sum, min, max and mean of a numeric block"},

	"completion": {runCompletion, "print a bash or zsh script that completes ndshm's commands and flags"},
	"top":        {runTop, "a live view: blocks and their users, rings with frames/s and each reader's lag and misses"},
}

func main() {
	// A re-executed helper (the demo's worker, the bench's peer) is this
	// same binary in a role: it must not parse the command line.
	if ran, code := runRole(); ran {
		os.Exit(code)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// After the first signal a second one kills at once, as usual.
		<-ctx.Done()
		stop()
	}()
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(report(err, os.Stderr))
}

// run runs the command line args (without the program name).
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		usage(stdout)
		return nil
	}
	switch name := args[0]; name {
	case "help", "-h", "-help", "--help":
		return help(ctx, e, args[1:])
	default:
		c, ok := commands[name]
		if !ok {
			return &usageError{err: fmt.Errorf("unknown command %q", name), usage: usage}
		}
		err := c.run(ctx, e, args[1:])
		if errors.Is(err, errHelp) {
			return nil // `ndshm CMD -h`: the usage went to stdout
		}
		return err
	}
}

// help prints the overall usage, or with an argument, that command's.
func help(ctx context.Context, e *env, args []string) error {
	switch {
	case len(args) == 0:
		usage(e.stdout)
		return nil
	case len(args) > 1:
		return &usageError{err: errors.New("help takes at most one command"), usage: usage}
	}
	c, ok := commands[args[0]]
	if !ok {
		return &usageError{err: fmt.Errorf("unknown command %q", args[0]), usage: usage}
	}
	if err := c.run(ctx, e, []string{"-h"}); !errors.Is(err, errHelp) {
		return err
	}
	return nil
}

// usage prints the list of commands, sorted, with their summaries.
func usage(w io.Writer) {
	fmt.Fprint(w, "usage: ndshm COMMAND [arguments]\n\n"+
		"ndshm keeps NumPy-compatible n-d arrays in /dev/shm, shared between processes with zero copies.\n\n"+
		"commands:\n")
	names := slices.Sorted(maps.Keys(commands))
	width := len("help")
	for _, n := range names {
		width = max(width, len(n))
	}
	for _, n := range names {
		fmt.Fprintf(w, "  %-*s  %s\n", width, n, commands[n].summary)
	}
	fmt.Fprintf(w, "  %-*s  %s\n", width, "help", "show this list, or `ndshm help COMMAND` for a command's flags")
}

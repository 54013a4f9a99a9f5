package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
)

const ringAbout = `
A ring is a zero-copy channel of frames between processes: a block whose
array has a leading slot axis, (slots, *frame). A writer fills a free slot
in place and publishes it; readers receive the slot's frame in place and
release it. Only sequence and slot numbers move between the processes.

ring send publishes a test pattern and ring recv checks it, so that a ring
(and a reader in another language) can be tried from the shell:

  ndshm ring create cam --dtype u1 --shape 480,640 --slots 4
  ndshm ring recv cam --verify &
  ndshm ring send cam --frames 1000 --rate 30 --wait-readers 1
  ndshm ring stat cam
  ndshm rm cam

Run 'ndshm ring COMMAND -h' for a command's flags.`

// ringCmds are the `ndshm ring` subcommands.
var ringCmds = map[string]command{
	"create": {runRingCreate, "make a persistent ring of slots for frames of a dtype and shape"},
	"send":   {runRingSend, "publish test-pattern frames, then close the stream"},
	"recv":   {runRingRecv, "receive frames, check the test pattern, report rate and latency"},
	"stat":   {runRingStat, "the writer's position and every reader's place"},
}

func init() {
	commands["ring"] = command{runRing, "make, feed, read and inspect ring channels of frames"}
}

// runRing is `ndshm ring COMMAND ...`.
func runRing(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return &usageError{err: errors.New("ring: missing COMMAND"), usage: ringUsage}
	}
	switch {
	case len(args) == 2 && args[0] == "help": // ndshm ring help send
		args = []string{args[1], "-h"}
	case slices.Contains([]string{"-h", "-help", "--help", "help"}, args[0]):
		ringUsage(e.stdout)
		return errHelp
	}
	c, ok := ringCmds[args[0]]
	if !ok {
		return &usageError{err: fmt.Errorf("ring: unknown command %q", args[0]), usage: ringUsage}
	}
	err := c.run(ctx, e, args[1:])
	var ue *usageError
	if errors.As(err, &ue) && ue.usage != nil {
		// The short usage ends "Run 'ndshm help ring send'", which help
		// (one command name only) refuses: point at -h instead.
		short, sub := ue.usage, args[0]
		ue.usage = func(w io.Writer) {
			var b strings.Builder
			short(&b)
			io.WriteString(w, strings.Replace(b.String(), "'ndshm help ring "+sub+"'", "'ndshm ring "+sub+" -h'", 1))
		}
	}
	return err
}

// ringUsage lists the ring commands, for `ndshm help ring`.
func ringUsage(w io.Writer) {
	fmt.Fprintf(w, "usage: ndshm ring COMMAND [arguments]\n\n%s\n\ncommands:\n", strings.TrimSpace(ringAbout))
	for _, n := range slices.Sorted(maps.Keys(ringCmds)) {
		fmt.Fprintf(w, "  %-6s  %s\n", n, ringCmds[n].summary)
	}
}

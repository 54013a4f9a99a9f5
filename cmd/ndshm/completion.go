package main

import (
	"context"
	"flag"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/ndshm/ndshm/internal/cmdflag"
	"github.com/ndshm/ndshm/internal/completion"
)

const completionAbout = `
Prints a script that makes the shell complete ndshm's commands, the ring
subcommands and every command's flags; block names complete from
/dev/shm, other arguments as file names. The script is made from the
command table and the flags the commands define, so it is never out of
date with the binary that printed it.

  bash:  source <(ndshm completion bash)     (or save it in
         ~/.local/share/bash-completion/completions/ndshm)
  zsh:   source <(ndshm completion zsh)      (or save it as _ndshm in a
         directory of $fpath, before compinit)`

// runCompletion is `ndshm completion bash|zsh`.
func runCompletion(ctx context.Context, e *env, args []string) error {
	f := cmdflag.New(e.stdout, "completion", "completion bash|zsh", completionAbout)
	pos, err := f.Parse(args)
	if err != nil {
		return err
	}
	if err := f.Want(pos, "SHELL"); err != nil {
		return err
	}
	tree := commandTree(ctx, e.commands)
	switch pos[0] {
	case "bash":
		completion.Bash(e.stdout, tree)
	case "zsh":
		completion.Zsh(e.stdout, tree)
	default:
		return f.UsageErr("shell %q: want bash or zsh", pos[0])
	}
	return nil
}

// commandTree describes every command of cmds, sorted, then help, whose
// "subcommands" are the commands it explains.
func commandTree(ctx context.Context, cmds map[string]*command) []completion.Command {
	var tree []completion.Command
	for _, name := range slices.Sorted(maps.Keys(cmds)) {
		c := cmds[name]
		d := completion.Command{Name: name, Summary: c.summary}
		for _, sub := range slices.Sorted(maps.Keys(c.subs)) {
			d.Subs = append(d.Subs, completion.Command{Name: sub, Summary: c.subs[sub].summary,
				Flags: flagsOf(ctx, c.subs[sub].run)})
		}
		if c.subs == nil {
			d.Flags = flagsOf(ctx, c.run)
		}
		if name == "completion" { // its argument is one of a few words
			d.Subs = []completion.Command{{Name: "bash", Summary: "the bash script"}, {Name: "zsh", Summary: "the zsh script"}}
		}
		tree = append(tree, d)
	}
	help := completion.Command{Name: "help", Summary: "show the commands, or a command's flags"}
	for _, d := range tree {
		help.Subs = append(help.Subs, completion.Command{Name: d.Name, Summary: d.Summary})
	}
	return append(tree, help)
}

// flagsOf runs the command run with -h and returns the flags it defines.
func flagsOf(ctx context.Context, run func(context.Context, *env, []string) error) []completion.Flag {
	c := new(cmdflag.Collector)
	run(ctx, &env{stdin: strings.NewReader(""), stdout: c, stderr: io.Discard}, []string{"-h"})
	if c.Set == nil {
		return nil
	}
	var flags []completion.Flag
	c.Set.VisitAll(func(fl *flag.Flag) {
		_, usage := flag.UnquoteUsage(fl)
		flags = append(flags, completion.Flag{Name: "--" + fl.Name, Usage: usage})
	})
	return flags
}

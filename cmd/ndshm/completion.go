package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/ndshm/ndshm/internal/cmdflag"
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
		writeBash(e.stdout, tree)
	case "zsh":
		writeZsh(e.stdout, tree)
	default:
		return f.UsageErr("shell %q: want bash or zsh", pos[0])
	}
	return nil
}

// A cmdDoc is what completion knows of a command: its flags, or the
// subcommands it dispatches to.
type cmdDoc struct {
	name, summary string
	flags         []flagDoc
	subs          []cmdDoc
}

// A flagDoc is one flag of a command.
type flagDoc struct{ name, usage string }

// commandTree describes every command of cmds, sorted, then help, whose
// "subcommands" are the commands it explains.
func commandTree(ctx context.Context, cmds map[string]*command) []cmdDoc {
	var tree []cmdDoc
	for _, name := range slices.Sorted(maps.Keys(cmds)) {
		c := cmds[name]
		d := cmdDoc{name: name, summary: c.summary}
		for _, sub := range slices.Sorted(maps.Keys(c.subs)) {
			d.subs = append(d.subs, cmdDoc{name: sub, summary: c.subs[sub].summary,
				flags: flagsOf(ctx, c.subs[sub].run)})
		}
		if c.subs == nil {
			d.flags = flagsOf(ctx, c.run)
		}
		if name == "completion" { // its argument is one of a few words
			d.subs = []cmdDoc{{name: "bash", summary: "the bash script"}, {name: "zsh", summary: "the zsh script"}}
		}
		tree = append(tree, d)
	}
	help := cmdDoc{name: "help", summary: "show the commands, or a command's flags"}
	for _, d := range tree {
		help.subs = append(help.subs, cmdDoc{name: d.name, summary: d.summary})
	}
	return append(tree, help)
}

// flagsOf runs the command run with -h and returns the flags it defines.
func flagsOf(ctx context.Context, run func(context.Context, *env, []string) error) []flagDoc {
	c := new(cmdflag.Collector)
	run(ctx, &env{stdin: strings.NewReader(""), stdout: c, stderr: io.Discard}, []string{"-h"})
	if c.Set == nil {
		return nil
	}
	var flags []flagDoc
	c.Set.VisitAll(func(fl *flag.Flag) {
		_, usage := flag.UnquoteUsage(fl)
		flags = append(flags, flagDoc{name: "--" + fl.Name, usage: usage})
	})
	return flags
}

// nested lists the commands with subcommands, "ring|help", for a case
// pattern of the scripts.
func nested(tree []cmdDoc) string {
	var names []string
	for _, d := range tree {
		if d.subs != nil {
			names = append(names, d.name)
		}
	}
	return strings.Join(names, "|")
}

// completionCases calls add with each completion context ("" for the
// command, "ring" for a ring subcommand, "ring send" for its flags) and
// the words completed there, name and description.
func completionCases(tree []cmdDoc, add func(key string, words []flagDoc)) {
	var top []flagDoc
	for _, d := range tree {
		top = append(top, flagDoc{d.name, d.summary})
	}
	add("", top)
	for _, d := range tree {
		if d.subs == nil {
			add(d.name, d.flags)
			continue
		}
		var subs []flagDoc
		for _, s := range d.subs {
			subs = append(subs, flagDoc{s.name, s.summary})
		}
		add(d.name, subs)
		for _, s := range d.subs {
			if s.flags != nil {
				add(d.name+" "+s.name, s.flags)
			}
		}
	}
}

// shellQuote quotes s for both shells, in single quotes.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// writeBash prints the bash completion script.
func writeBash(w io.Writer, tree []cmdDoc) {
	fmt.Fprint(w, "# bash completion for ndshm, made by `ndshm completion bash` from its\n"+
		"# command table. Load it with: source <(ndshm completion bash)\n\n"+
		"_ndshm_words() {\n    case $1 in\n")
	completionCases(tree, func(key string, words []flagDoc) {
		names := make([]string, len(words))
		for i, wd := range words {
			names[i] = wd.name
		}
		fmt.Fprintf(w, "    %s) echo %s ;;\n", shellQuote(key), shellQuote(strings.Join(names, " ")))
	})
	fmt.Fprintf(w, `    esac
}

_ndshm() {
    local cur=${COMP_WORDS[COMP_CWORD]} cmdpath= i w
    for ((i = 1; i < COMP_CWORD; i++)); do
        w=${COMP_WORDS[i]}
        [[ $w == -* ]] && continue
        case $cmdpath in
        '') cmdpath=$w ;;
        %[1]s) cmdpath="$cmdpath $w" ;;
        esac
    done
    case $cmdpath in
    ''|%[1]s)
        COMPREPLY=($(compgen -W "$(_ndshm_words "$cmdpath")" -- "$cur"))
        return ;;
    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$(_ndshm_words "$cmdpath")" -- "$cur"))
    else
        # Block names; with none matching, -o default completes files.
        COMPREPLY=($(compgen -W "$(command ls /dev/shm 2>/dev/null)" -- "$cur"))
    fi
}

complete -o default -F _ndshm ndshm
`, nested(tree))
}

// writeZsh prints the zsh completion script.
func writeZsh(w io.Writer, tree []cmdDoc) {
	fmt.Fprint(w, "#compdef ndshm\n"+
		"# zsh completion for ndshm, made by `ndshm completion zsh` from its command\n"+
		"# table. Save it as _ndshm in a directory of $fpath, or: source <(ndshm completion zsh)\n\n"+
		"_ndshm_words() {\n  case $1 in\n")
	completionCases(tree, func(key string, words []flagDoc) {
		items := make([]string, len(words))
		for i, wd := range words {
			items[i] = shellQuote(strings.ReplaceAll(wd.name, ":", `\:`) + ":" + wd.usage)
		}
		fmt.Fprintf(w, "  %s) reply=(%s) ;;\n", shellQuote(key), strings.Join(items, " "))
	})
	fmt.Fprintf(w, `  *) reply=() ;;
  esac
}

_ndshm() {
  local cmdpath= w i
  local -a reply
  for ((i = 2; i < CURRENT; i++)); do
    w=${words[i]}
    [[ $w == -* ]] && continue
    case $cmdpath in
    '') cmdpath=$w ;;
    %[1]s) cmdpath="$cmdpath $w" ;;
    esac
  done
  _ndshm_words "$cmdpath"
  case $cmdpath in
  ''|%[1]s) _describe -t commands 'ndshm command' reply; return ;;
  esac
  if [[ $PREFIX == -* ]]; then
    _describe -t options 'flag' reply
  else
    _alternative 'blocks:block:_files -W /dev/shm' 'files:file:_files'
  fi
}

if [[ $funcstack[1] == _ndshm ]]; then _ndshm "$@"; else compdef _ndshm ndshm; fi
`, nested(tree))
}

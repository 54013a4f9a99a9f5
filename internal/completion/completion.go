// Package completion writes the bash and zsh scripts that complete
// ndshm's command line, from a tree of the commands: their names,
// summaries and flags. cmd/ndshm builds the tree from its table of
// commands, so the scripts are never out of date with the binary that
// printed them.
package completion

import (
	"fmt"
	"io"
	"strings"
)

// A Command is what completion knows of a command: its name and
// summary, and its flags, or the subcommands it dispatches to.
type Command struct {
	Name, Summary string
	Flags         []Flag
	Subs          []Command
}

// A Flag is one flag of a command: its name, "--json", and its help.
type Flag struct{ Name, Usage string }

// nested lists the commands with subcommands, "ring|help", for a case
// pattern of the scripts.
func nested(tree []Command) string {
	var names []string
	for _, d := range tree {
		if d.Subs != nil {
			names = append(names, d.Name)
		}
	}
	return strings.Join(names, "|")
}

// cases calls add with each completion context ("" for the
// command, "ring" for a ring subcommand, "ring send" for its flags) and
// the words completed there, name and description.
func cases(tree []Command, add func(key string, words []Flag)) {
	var top []Flag
	for _, d := range tree {
		top = append(top, Flag{d.Name, d.Summary})
	}
	add("", top)
	for _, d := range tree {
		if d.Subs == nil {
			add(d.Name, d.Flags)
			continue
		}
		var subs []Flag
		for _, s := range d.Subs {
			subs = append(subs, Flag{s.Name, s.Summary})
		}
		add(d.Name, subs)
		for _, s := range d.Subs {
			if s.Flags != nil {
				add(d.Name+" "+s.Name, s.Flags)
			}
		}
	}
}

// shellQuote quotes s for both shells, in single quotes.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// Bash prints the bash completion script of the commands tree: it
// completes command names, subcommands, and flags after a dash; other
// words complete as block names in $NDSHM_DIR (default /dev/shm), or else as files.
func Bash(w io.Writer, tree []Command) {
	fmt.Fprint(w, "# bash completion for ndshm, made by `ndshm completion bash` from its\n"+
		"# command table. Load it with: source <(ndshm completion bash)\n\n"+
		"_ndshm_words() {\n    case $1 in\n")
	cases(tree, func(key string, words []Flag) {
		names := make([]string, len(words))
		for i, wd := range words {
			names[i] = wd.Name
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
        COMPREPLY=($(compgen -W "$(command ls "${NDSHM_DIR:-/dev/shm}" 2>/dev/null)" -- "$cur"))
    fi
}

complete -o default -F _ndshm ndshm
`, nested(tree))
}

// Zsh prints the zsh completion script of the commands tree, which
// completes as Bash's does, with each word's description.
func Zsh(w io.Writer, tree []Command) {
	fmt.Fprint(w, "#compdef ndshm\n"+
		"# zsh completion for ndshm, made by `ndshm completion zsh` from its command\n"+
		"# table. Save it as _ndshm in a directory of $fpath, or: source <(ndshm completion zsh)\n\n"+
		"_ndshm_words() {\n  case $1 in\n")
	cases(tree, func(key string, words []Flag) {
		items := make([]string, len(words))
		for i, wd := range words {
			items[i] = shellQuote(strings.ReplaceAll(wd.Name, ":", `\:`) + ":" + wd.Usage)
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
    _alternative 'blocks:block:_files -W ${NDSHM_DIR:-/dev/shm}' 'files:file:_files'
  fi
}

if [[ $funcstack[1] == _ndshm ]]; then _ndshm "$@"; else compdef _ndshm ndshm; fi
`, nested(tree))
}

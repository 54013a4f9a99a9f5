package main

import (
	"context"
	"strings"
	"testing"
)

// Every flag of every command, ring's subcommands included, says its
// default in the help.
func TestHelpShowsDefaults(t *testing.T) {
	n := 0
	for _, d := range commandTree(context.Background(), commands) {
		paths := [][]string{{d.Name}}
		if d.Name == "help" {
			continue
		}
		if d.Subs != nil {
			paths = nil
			for _, s := range d.Subs {
				paths = append(paths, []string{d.Name, s.Name})
			}
		}
		for _, path := range paths {
			out := mustRun(t, append(path, "-h")...)
			_, flags, _ := strings.Cut(out, "\nflags:\n")
			for line := range strings.SplitSeq(strings.TrimRight(flags, "\n"), "\n") {
				if line == "" {
					continue
				}
				n++
				if !strings.Contains(line, "default") {
					t.Errorf("ndshm %s -h: flag line without a default: %q", strings.Join(path, " "), line)
				}
			}
		}
	}
	if n < 40 {
		t.Errorf("checked %d flag lines; the help lists more", n)
	}
}

// Errors spell flags with two dashes, as the help does.
func TestErrorsSpellFlagsAsHelp(t *testing.T) {
	name := newName(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"create", name, "--bogus"}, "flag provided but not defined: --bogus"},
		{[]string{"create", name, "-bogus"}, "flag provided but not defined: --bogus"},
		{[]string{"create", name, "--dtype"}, "flag needs an argument: --dtype"},
		{[]string{"create", name, "--shape", "3x"}, `invalid value "3x" for flag --shape`},
		{[]string{"ls", "--json=maybe"}, `invalid boolean value "maybe" for --json`},
		{[]string{"ring", "create", name, "--slots", "x"}, `invalid value "x" for flag --slots`},
	} {
		_, _, err := ndshmRun(t, tc.args...)
		if !isUsage(err) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ndshm %q: %v, want a usage error containing %q", tc.args, err, tc.want)
		}
	}
}

package main

import (
	"maps"
	"runtime/debug"
	"slices"
	"strings"
	"testing"

	"github.com/ndshm/ndshm"
)

func TestUsage(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}} {
		out := mustRun(t, args...)
		if !strings.HasPrefix(out, "usage: ndshm COMMAND") {
			t.Errorf("ndshm %v printed %q", args, out)
		}
		var listed []string
		_, list, _ := strings.Cut(out, "commands:\n")
		for line := range strings.SplitSeq(strings.TrimSpace(list), "\n") {
			listed = append(listed, strings.Fields(line)[0])
		}
		// Sorted, with help last; every command has a summary.
		want := append(slices.Sorted(maps.Keys(commands)), "help")
		if !slices.Equal(listed, want) {
			t.Errorf("ndshm %v lists %v, want %v", args, listed, want)
		}
	}
}

// mine are the commands this package's tests cover; demo and bench come
// from elsewhere.
var mine = []string{"create", "inspect", "load", "ls", "rm", "save", "stats"}

func TestCommandHelp(t *testing.T) {
	for _, name := range mine {
		for _, args := range [][]string{{"help", name}, {name, "-h"}, {name, "--help"}} {
			out, errOut, err := ndshmRun(t, args...)
			if err != nil || errOut != "" || !strings.HasPrefix(out, "usage: ndshm "+name) {
				t.Errorf("ndshm %v: %v, stdout %q, stderr %q", args, err, out, errOut)
			}
		}
	}
}

// ndshm help CMD [SUB] prints what ndshm CMD [SUB] -h does, for every
// command and subcommand in the table.
func TestHelpNested(t *testing.T) {
	for name, c := range commands {
		paths := [][]string{{name}}
		for sub := range c.subs {
			paths = append(paths, []string{name, sub})
		}
		for _, path := range paths {
			help, errOut, err := ndshmRun(t, append([]string{"help"}, path...)...)
			flag, _, ferr := ndshmRun(t, append(slices.Clone(path), "-h")...)
			if err != nil || ferr != nil || errOut != "" || help != flag || !strings.HasPrefix(help, "usage: ndshm "+strings.Join(path, " ")) {
				t.Errorf("ndshm help %s: %v, %q; -h: %v, %q", strings.Join(path, " "), err, help, ferr, flag)
			}
		}
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}, {"-version"}} {
		// A test binary records no module version nor commit.
		want := "ndshm version " + ndshm.Version + " module (devel) commit unknown\n"
		if out := mustRun(t, args...); out != want {
			t.Errorf("ndshm %s printed %q", args[0], out)
		}
	}
}

func TestBuildVersion(t *testing.T) {
	set := func(kv ...string) *debug.BuildInfo {
		info := &debug.BuildInfo{Main: debug.Module{Version: kv[0]}}
		for i := 1; i+1 < len(kv); i += 2 {
			info.Settings = append(info.Settings, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return info
	}
	for _, tc := range []struct {
		info            *debug.BuildInfo
		version, commit string
	}{
		{nil, "(devel)", "unknown"},
		{set(""), "(devel)", "unknown"},
		{set("(devel)", "vcs.revision", "abc123", "vcs.modified", "false"), "(devel)", "abc123"},
		{set("v1.2.3", "vcs.revision", "abc123", "vcs.modified", "true"), "v1.2.3", "abc123-dirty"},
		{set("v1.2.3", "vcs.modified", "true"), "v1.2.3", "unknown"},
	} {
		if v, c := buildVersion(tc.info); v != tc.version || c != tc.commit {
			t.Errorf("buildVersion(%v) = %q, %q; want %q, %q", tc.info, v, c, tc.version, tc.commit)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	name := newName(t)
	dims33 := strings.Repeat("1,", 32) + "1"
	for _, tc := range []struct {
		args []string
		want string // in the error
	}{
		{[]string{"bogus"}, `unknown command "bogus"`},
		{[]string{"help", "bogus"}, `unknown command "bogus"`},
		{[]string{"help", "ls", "rm"}, "help: ls has no subcommands"},
		{[]string{"help", "ring", "bogus"}, `ring: unknown command "bogus"`},
		{[]string{"ring"}, "ring: missing COMMAND"},
		{[]string{"ring", "bogus"}, `ring: unknown command "bogus"`},
		{[]string{"version", "x"}, `unexpected argument "x"`},
		{[]string{"create"}, "create: missing NAME"},
		{[]string{"create", name}, "--dtype and --shape are required"},
		{[]string{"create", name, "--dtype", "f8"}, "--dtype and --shape are required"},
		{[]string{"create", name, "--dtype", "f9", "--shape", "3"}, `unknown dtype "f9"`},
		{[]string{"create", name, "--dtype", "f8", "--shape", "3,-1"}, "-1 is negative"},
		{[]string{"create", name, "--dtype", "f8", "--shape", "3x4"}, "not a non-negative integer"},
		{[]string{"create", name, "--dtype", "f8", "--shape", dims33}, "33 dimensions"},
		{[]string{"create", name, "--dtype", "f8", "--shape", "3", "--order", "X"}, "neither C nor F"},
		{[]string{"create", name, "--dtype", "i1", "--shape", "3", "--fill", "300"}, "value out of range"},
		{[]string{"create", name, "--dtype", "?", "--shape", "3", "--fill", "yes"}, "not a valid |b1"},
		{[]string{"create", name, "other", "--dtype", "f8", "--shape", "3"}, `unexpected argument "other"`},
		{[]string{"create", name, "--bogus"}, "flag provided but not defined: --bogus"},
		{[]string{"inspect"}, "missing NAME"},
		{[]string{"inspect", name, "--dtype", "f8"}, "go together"},
		{[]string{"inspect", name, "--order", "F"}, "--order needs"},
		{[]string{"stats"}, "missing NAME"},
		{[]string{"stats", name, "--shape", "3"}, "go together"},
		{[]string{"rm"}, "missing NAME"},
		{[]string{"save", name}, "missing FILE"},
		{[]string{"load", "x.npy"}, "missing NAME"},
		{[]string{"ls", "x"}, `unexpected argument "x"`},
		{[]string{"ls", "--json=maybe"}, "invalid boolean value"},
	} {
		_, errOut, err := ndshmRun(t, tc.args...)
		if !isUsage(err) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ndshm %q: got %v, want a usage error containing %q", tc.args, err, tc.want)
		}
		if errOut != "" {
			t.Errorf("ndshm %q wrote %q to stderr itself; report does that", tc.args, errOut)
		}
		if exists(name) {
			t.Fatalf("ndshm %q made %s", tc.args, name)
		}
	}
}

package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"strings"
	"text/tabwriter"
)

// errHelp is returned by a command asked for -h: its usage went to
// stdout, and run turns this into success.
var errHelp = flag.ErrHelp

// cmdFlags is a command's flag set and its usage message.
type cmdFlags struct {
	*flag.FlagSet
	name     string // "create"
	synopsis string // "create NAME --dtype D --shape S"
	about    string // what the command does, a paragraph or two
	env      *env
}

// newFlags starts the flag set of the command name.
func newFlags(e *env, name, synopsis, about string) *cmdFlags {
	fs := flag.NewFlagSet("ndshm "+name, flag.ContinueOnError)
	// The flag package would print its own error and the usage itself;
	// report prints the error once, prefixed "ndshm:", then the usage.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return &cmdFlags{FlagSet: fs, name: name, synopsis: synopsis, about: about, env: e}
}

// parse parses args, in which flags and positional arguments may be
// mixed (`ndshm create NAME --dtype f8`), and returns the positional
// ones. A `--` ends the flags: everything after it is positional. For
// -h or --help it prints the usage to stdout and returns errHelp.
func (f *cmdFlags) parse(args []string) ([]string, error) {
	if c, ok := f.env.stdout.(*flagCollector); ok {
		c.flags = f // completion asks what the flags are
		return nil, errHelp
	}
	var pos []string
	for {
		err := f.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			f.usage(f.env.stdout)
			return nil, errHelp
		}
		if err != nil {
			return nil, f.usageErr("%s", dashes(err.Error()))
		}
		rest := f.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		// Parse stops at a non-flag or just after "--"; the latter ends
		// flag parsing for good.
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), nil
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
}

// want checks that there is exactly one positional argument per name.
func (f *cmdFlags) want(pos []string, names ...string) error {
	if len(pos) < len(names) {
		return f.usageErr("missing %s", names[len(pos)])
	}
	if len(pos) > len(names) {
		return f.usageErr("unexpected argument %q", pos[len(names)])
	}
	return nil
}

// isSet reports whether the flag name was given on the command line.
func (f *cmdFlags) isSet(name string) bool {
	set := false
	f.Visit(func(fl *flag.Flag) { set = set || fl.Name == name })
	return set
}

// usageErr is a usage error of this command, naming it. Its usage is
// the short one: the synopsis and the flags.
func (f *cmdFlags) usageErr(format string, args ...any) error {
	return &usageError{err: fmt.Errorf(f.name+": "+format, args...), usage: f.shortUsage}
}

// usage prints the synopsis, the description and the flags, for -h.
func (f *cmdFlags) usage(w io.Writer) {
	fmt.Fprintf(w, "usage: ndshm %s\n\n%s\n", f.synopsis, strings.TrimSpace(f.about))
	f.printFlags(w)
}

// shortUsage is usage without the description, after a usage error.
func (f *cmdFlags) shortUsage(w io.Writer) {
	fmt.Fprintf(w, "usage: ndshm %s\n", f.synopsis)
	f.printFlags(w)
	fmt.Fprintf(w, "\nRun 'ndshm help %s' for details.\n", f.name)
}

// printFlags lists the flags, spelled with two dashes as the synopses
// spell them (one works too), each with its default.
func (f *cmdFlags) printFlags(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	n := 0
	f.VisitAll(func(fl *flag.Flag) {
		if n == 0 {
			fmt.Fprintln(tw, "\nflags:")
		}
		n++
		arg, text := flag.UnquoteUsage(fl)
		fmt.Fprintf(tw, "  --%s %s\t%s%s\n", fl.Name, arg, text, defaultNote(fl, text))
	})
	tw.Flush()
}

// defaultNote is " (default V)" for the help line of fl, unless its usage
// text already says what the default is. An empty default shows as
// "none": the flag is off, or the command works it out.
func defaultNote(fl *flag.Flag, text string) string {
	switch {
	case strings.Contains(text, "default"):
		return ""
	case fl.DefValue == "":
		return " (default none)"
	}
	return fmt.Sprintf(" (default %s)", fl.DefValue)
}

// flagName matches a flag as the flag package's errors spell it, with one
// dash, after the phrase that introduces it.
var flagName = regexp.MustCompile(`((?:defined|argument|flag|for)[:]? )-([A-Za-z0-9][A-Za-z0-9_.-]*)`)

// dashes respells the flag in an error of the flag package with two
// dashes, as the help and the synopses spell flags: "flag provided but
// not defined: -bogus" becomes "... --bogus".
func dashes(msg string) string {
	return flagName.ReplaceAllString(msg, "$1--$2")
}

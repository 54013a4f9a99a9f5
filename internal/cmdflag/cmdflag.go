// Package cmdflag is the flag handling that every ndshm command shares:
// a flag set that takes flags and arguments in any order, prints its
// usage with every flag's default, spells flags with two dashes in its
// errors as the help does, and turns a malformed command line into a
// UsageError, which Report prints with the usage and exit status 2.
//
// The table of commands and their dispatch are cmd/ndshm's; this package
// knows nothing of them.
package cmdflag

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"strings"
	"text/tabwriter"
)

// ErrHelp is returned by Parse when asked for -h or --help: the usage
// went to stdout, and the command line succeeds.
var ErrHelp = flag.ErrHelp

// A Set is a command's flag set and its usage message. Define the flags
// with the methods of the embedded flag.FlagSet, then call Parse (not
// the FlagSet's). A Set is for one goroutine.
type Set struct {
	*flag.FlagSet
	name     string // "create", "ring create"
	synopsis string // "create NAME --dtype D --shape S"
	about    string // what the command does, a paragraph or two
	stdout   io.Writer
}

// New starts the flag set of the command name (the words after "ndshm"),
// whose usage shows synopsis and about; -h prints it to stdout.
func New(stdout io.Writer, name, synopsis, about string) *Set {
	fs := flag.NewFlagSet("ndshm "+name, flag.ContinueOnError)
	// The flag package would print its own error and the usage itself;
	// Report prints the error once, prefixed "ndshm:", then the usage.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return &Set{FlagSet: fs, name: name, synopsis: synopsis, about: about, stdout: stdout}
}

// Command is the name of the command, as New was given it.
func (f *Set) Command() string { return f.name }

// Parse parses args, in which flags and positional arguments may be
// mixed (`ndshm create NAME --dtype f8`), and returns the positional
// ones. A `--` ends the flags: everything after it is positional. For
// -h or --help it prints the usage to stdout and returns ErrHelp. A bad
// flag is a *UsageError.
func (f *Set) Parse(args []string) ([]string, error) {
	if c, ok := f.stdout.(*Collector); ok {
		c.Set = f // completion asks what the flags are
		return nil, ErrHelp
	}
	var pos []string
	for {
		err := f.FlagSet.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			f.Usage(f.stdout)
			return nil, ErrHelp
		}
		if err != nil {
			return nil, f.UsageErr("%s", dashes(err.Error()))
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

// A Collector, as the stdout of a Set, makes Parse hand the Set over
// instead of parsing: shell completion runs each command with -h and a
// Collector to learn the flags the command itself defines.
type Collector struct{ Set *Set }

// Write discards p: a command run for its flags prints nothing.
func (*Collector) Write(p []byte) (int, error) { return len(p), nil }

// Want checks that there is exactly one positional argument per name.
func (f *Set) Want(pos []string, names ...string) error {
	if len(pos) < len(names) {
		return f.UsageErr("missing %s", names[len(pos)])
	}
	if len(pos) > len(names) {
		return f.UsageErr("unexpected argument %q", pos[len(names)])
	}
	return nil
}

// IsSet reports whether the flag name was given on the command line.
func (f *Set) IsSet(name string) bool {
	set := false
	f.Visit(func(fl *flag.Flag) { set = set || fl.Name == name })
	return set
}

// UsageErr is a usage error of this command, naming it. Its usage is
// the short one: the synopsis and the flags.
func (f *Set) UsageErr(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(f.name+": "+format, args...), Usage: f.ShortUsage}
}

// Usage prints the synopsis, the description and the flags, for -h.
func (f *Set) Usage(w io.Writer) {
	fmt.Fprintf(w, "usage: ndshm %s\n\n%s\n", f.synopsis, strings.TrimSpace(f.about))
	f.printFlags(w)
}

// ShortUsage is Usage without the description, after a usage error.
func (f *Set) ShortUsage(w io.Writer) {
	fmt.Fprintf(w, "usage: ndshm %s\n", f.synopsis)
	f.printFlags(w)
	fmt.Fprintf(w, "\nRun 'ndshm help %s' for details.\n", f.name)
}

// printFlags lists the flags, spelled with two dashes as the synopses
// spell them (one works too), each with its default.
func (f *Set) printFlags(w io.Writer) {
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

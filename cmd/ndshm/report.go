package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
)

// report prints err, if any, as main does, and returns the exit status:
// 0, 1 for a failure, 2 for a usage error (followed by the usage).
func report(err error, stderr io.Writer) int {
	var ue *usageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ue) && ue.err == nil: // ndshm alone: the usage is the message
		ue.usage(stderr)
		return 2
	case errors.Is(err, context.Canceled):
		err = errors.New("interrupted")
	}
	// Every line gets the prefix: rm reports one failure per line.
	for line := range strings.SplitSeq(err.Error(), "\n") {
		fmt.Fprintf(stderr, "ndshm: %s\n", line)
	}
	if errors.As(err, &ue) {
		if ue.usage != nil {
			fmt.Fprintln(stderr)
			ue.usage(stderr)
		}
		return 2
	}
	return 1
}

// A usageError is a malformed command line: exit status 2, and the usage
// of what was misused is printed after the error. With no err it is the
// usage alone.
type usageError struct {
	err   error           // nil: no command given
	usage func(io.Writer) // nil prints no usage
}

func (e *usageError) Error() string {
	if e.err == nil {
		return "no command given"
	}
	return e.err.Error()
}
func (e *usageError) Unwrap() error { return e.err }

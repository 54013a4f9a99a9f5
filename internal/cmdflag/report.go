package cmdflag

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Report prints err, if any, as ndshm's main does, and returns the exit
// status: 0, 1 for a failure, 2 for a usage error (followed by the
// usage). Every line of err gets the prefix "ndshm: ", so that an
// errors.Join of several failures prints one line each.
func Report(err error, stderr io.Writer) int {
	var ue *UsageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ue) && ue.Err == nil: // ndshm alone: the usage is the message
		ue.Usage(stderr)
		return 2
	case errors.Is(err, context.Canceled):
		err = errors.New("interrupted")
	}
	for line := range strings.SplitSeq(err.Error(), "\n") {
		fmt.Fprintf(stderr, "ndshm: %s\n", line)
	}
	if errors.As(err, &ue) {
		if ue.Usage != nil {
			fmt.Fprintln(stderr)
			ue.Usage(stderr)
		}
		return 2
	}
	return 1
}

// A UsageError is a malformed command line: exit status 2, and the usage
// of what was misused is printed after the error. With no Err it is the
// usage alone.
type UsageError struct {
	Err   error           // nil: no command given
	Usage func(io.Writer) // nil prints no usage
}

// Error is Err's message, or says that no command was given.
func (e *UsageError) Error() string {
	if e.Err == nil {
		return "no command given"
	}
	return e.Err.Error()
}

// Unwrap returns Err.
func (e *UsageError) Unwrap() error { return e.Err }

package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// rbenchOpts are `ndshm bench ring`'s flags.
type rbenchOpts struct {
	sizes, readers []int
	duration, spin time.Duration
	pacedFrom      int // frames this big also run at 30 fps
}

// parseRbenchOpts checks `ndshm bench ring`'s flags.
func parseRbenchOpts(sizes, readers string, duration, spin time.Duration, pacedFrom string) (rbenchOpts, error) {
	o := rbenchOpts{duration: duration, spin: spin}
	var err error
	if o.sizes, err = parseSizes(sizes); err != nil {
		return o, fmt.Errorf("--sizes: %v", err)
	}
	for _, n := range o.sizes {
		if n < 8 {
			return o, fmt.Errorf("--sizes: frames of %d bytes: they hold an 8-byte sequence number", n)
		}
	}
	for _, s := range strings.Split(readers, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 || n > 8 {
			return o, fmt.Errorf("--readers: %q is not 1 to 8 reader processes", s)
		}
		o.readers = append(o.readers, n)
	}
	if o.pacedFrom, err = parseSize(pacedFrom); err != nil {
		return o, fmt.Errorf("--paced-from: %v", err)
	}
	if duration <= 0 || spin <= 0 {
		return o, fmt.Errorf("--duration and --spin must be positive")
	}
	return o, nil
}

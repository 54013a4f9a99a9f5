// Package human reads and writes quantities as ndshm's commands show
// them to people: byte counts in binary units, durations rounded to the
// digits that matter, and array shapes, "3,4" on the command line and
// (3, 4) as NumPy prints them.
package human

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Bytes writes a byte count in binary units: 96 B, 1.5 KiB, 256 MiB.
func Bytes(n int64) string {
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	v, unit := float64(n)/1024, 0
	for v >= 1024 && unit < 4 {
		v, unit = v/1024, unit+1
	}
	s := fmt.Sprintf("%.1f", v)
	if len(s) > 2 && s[len(s)-2:] == ".0" {
		s = s[:len(s)-2] // whole units print whole: 256 MiB
	}
	return s + " " + [...]string{"KiB", "MiB", "GiB", "TiB", "PiB"}[unit]
}

// Duration rounds t to about four significant digits: 1.234s, 12.35ms,
// 250.1µs.
func Duration(t time.Duration) time.Duration {
	switch {
	case t > time.Second:
		return t.Round(time.Millisecond)
	case t > time.Millisecond:
		return t.Round(10 * time.Microsecond)
	}
	return t.Round(100 * time.Nanosecond)
}

// ParseBytes reads a byte count with an optional binary unit, as Bytes
// writes them but without the space: 64KiB, 1MiB, 1024.
func ParseBytes(s string) (int, error) {
	shift := 0
	for i, u := range []string{"KiB", "MiB", "GiB"} {
		if rest, ok := strings.CutSuffix(s, u); ok {
			s, shift = rest, 10*(i+1)
			break
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 || n > 1<<40>>shift {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return n << shift, nil
}

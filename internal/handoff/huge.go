package handoff

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"unsafe"
)

// HugeMapped says whether the mapping that holds d's first byte maps
// any of its data with huge (PMD-sized) pages, as this process's
// /proc/self/smaps reports for it: ShmemPmdMapped for tmpfs and memfd,
// FilePmdMapped for other files. Pages not yet touched are not mapped
// at all, so read d first. An empty d is never huge.
func HugeMapped(d []byte) (bool, error) {
	if len(d) == 0 {
		return false, nil
	}
	addr := uint64(uintptr(unsafe.Pointer(&d[0])))
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return false, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	in := false
	for sc.Scan() {
		line := sc.Bytes()
		if lo, hi, ok := vmaRange(line); ok {
			if in {
				break // the next mapping: ours had no PMD lines
			}
			in = lo <= addr && addr < hi
			continue
		}
		if !in {
			continue
		}
		for _, key := range []string{"ShmemPmdMapped:", "FilePmdMapped:"} {
			if rest, ok := bytes.CutPrefix(line, []byte(key)); ok {
				if kb := bytes.Fields(rest); len(kb) > 0 && string(kb[0]) != "0" {
					return true, nil
				}
			}
		}
	}
	if err := sc.Err(); err != nil {
		return false, fmt.Errorf("handoff: reading smaps: %w", err)
	}
	return false, nil
}

// vmaRange parses a mapping's header line of smaps, "lo-hi perms ...",
// in hexadecimal; other lines ("Key: value kB") are not headers.
func vmaRange(line []byte) (lo, hi uint64, ok bool) {
	field, _, _ := bytes.Cut(line, []byte(" "))
	a, b, found := bytes.Cut(field, []byte("-"))
	if !found {
		return 0, 0, false
	}
	lo, err1 := strconv.ParseUint(string(a), 16, 64)
	hi, err2 := strconv.ParseUint(string(b), 16, 64)
	return lo, hi, err1 == nil && err2 == nil
}

package doctor

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// selected returns the setting in brackets of a sysfs choice such as
// /sys/kernel/mm/transparent_hugepage/enabled's "always [madvise] never",
// or "" if none is.
func selected(s string) string {
	for _, w := range strings.Fields(s) {
		if len(w) > 2 && w[0] == '[' && w[len(w)-1] == ']' {
			return w[1 : len(w)-1]
		}
	}
	return ""
}

// A mount is one line of /proc/mounts.
type mount struct {
	Dir, FSType, Options string
}

// mountOf returns the mount that holds dir (an absolute, clean path with
// symlinks resolved), from /proc/mounts's text: the one whose mount point
// is the longest prefix of dir, the last listed where several mounts are
// stacked on one point, since that one is on top.
func mountOf(r io.Reader, dir string) (mount, bool) {
	var best mount
	found := false
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 {
			continue
		}
		m := mount{Dir: unescapeMount(f[1]), FSType: f[2], Options: f[3]}
		if within(dir, m.Dir) && (!found || len(m.Dir) >= len(best.Dir)) {
			best, found = m, true
		}
	}
	return best, found
}

// within reports whether path is dir or below it.
func within(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}

// unescapeMount undoes /proc/mounts's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// option returns the value of key=value in a comma-separated list of mount
// options, and whether it is there.
func option(options, key string) (string, bool) {
	for _, o := range strings.Split(options, ",") {
		if v, ok := strings.CutPrefix(o, key+"="); ok {
			return v, true
		}
	}
	return "", false
}

// meminfo returns the fields of /proc/meminfo's text that are numbers, in
// bytes where the line says kB, else as they are (HugePages_Free).
func meminfo(r io.Reader) map[string]int64 {
	m := map[string]int64{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		val = strings.TrimSpace(val)
		unit := int64(1)
		if v, ok := strings.CutSuffix(val, " kB"); ok {
			val, unit = strings.TrimSpace(v), 1024
		}
		if n, err := strconv.ParseInt(val, 10, 64); err == nil {
			m[key] = n * unit
		}
	}
	return m
}

// removeIPC applies a logind.conf's text to v, the RemoveIPC setting so
// far (nil: not set): a later assignment in [Login] wins, as systemd
// reads the main file and then its drop-ins.
func removeIPC(r io.Reader, v *bool) *bool {
	section := ""
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case line[0] == '[':
			section = strings.Trim(line, "[]")
		case section == "Login":
			key, val, ok := strings.Cut(line, "=")
			if !ok || strings.TrimSpace(key) != "RemoveIPC" {
				continue
			}
			if b, ok := parseBool(strings.TrimSpace(val)); ok {
				v = &b
			}
		}
	}
	return v
}

// parseBool reads a boolean as systemd spells them.
func parseBool(s string) (bool, bool) {
	switch strings.ToLower(s) {
	case "1", "yes", "y", "true", "t", "on":
		return true, true
	case "0", "no", "n", "false", "f", "off":
		return false, true
	}
	return false, false
}

// openFilesSoft returns the soft "Max open files" of a /proc/PID/limits
// text; ok is false if absent, unlimited is -1.
func openFilesSoft(r io.Reader) (n int64, ok bool) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		rest, found := strings.CutPrefix(sc.Text(), "Max open files")
		if !found {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			return 0, false
		}
		if f[0] == "unlimited" {
			return -1, true
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		return n, err == nil
	}
	return 0, false
}

// A backing is what /proc/self/smaps says of one mapping's pages.
type backing struct {
	PageBytes int64 // KernelPageSize: 2 MiB for hugetlb pages
	PMDBytes  int64 // ShmemPmdMapped + FilePmdMapped: mapped by transparent huge pages
}

// Huge reports whether any of the mapping's pages are huge.
func (b backing) Huge() bool { return b.PageBytes >= 2<<20 || b.PMDBytes > 0 }

// smapsOf returns what smaps's text says of the mapping that starts at
// addr, and false if there is none.
func smapsOf(r io.Reader, addr uintptr) (backing, bool) {
	b, ok, _ := smapsWhere(r, func(lo, _ uint64) bool { return lo == uint64(addr) })
	return b, ok
}

// smapsWhere returns what smaps's text says of the first mapping whose
// range [lo, hi) is, and false if there is none.
func smapsWhere(r io.Reader, is func(lo, hi uint64) bool) (backing, bool, error) {
	var b backing
	in, found := false, false
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		key, val, ok := strings.Cut(line, ":")
		if !ok || strings.ContainsAny(key, " -") { // a mapping's header: "7f..-7f.. rw-s ..."
			if in {
				return b, true, nil
			}
			field, _, _ := strings.Cut(line, " ")
			lo, hi, _ := strings.Cut(field, "-")
			l, err1 := strconv.ParseUint(lo, 16, 64)
			h, err2 := strconv.ParseUint(hi, 16, 64)
			in = err1 == nil && err2 == nil && is(l, h)
			found = found || in
			continue
		}
		if !in {
			continue
		}
		v, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(val), "kB")), 10, 64)
		switch key {
		case "KernelPageSize":
			b.PageBytes = v << 10
		case "ShmemPmdMapped", "FilePmdMapped":
			b.PMDBytes += v << 10
		}
	}
	return b, found, sc.Err()
}

// HugeAt says whether this process's mapping that holds addr has any of
// its pages huge, as /proc/self/smaps says: hugetlb pages, or tmpfs,
// memfd or file data mapped by transparent huge pages (ShmemPmdMapped,
// FilePmdMapped). Pages not yet touched are not mapped at all. An
// address no mapping holds is not huge.
func HugeAt(addr uintptr) (bool, error) {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return false, err
	}
	defer f.Close()
	a := uint64(addr)
	b, _, err := smapsWhere(f, func(lo, hi uint64) bool { return lo <= a && a < hi })
	if err != nil {
		return false, fmt.Errorf("reading smaps: %w", err)
	}
	return b.Huge(), nil
}

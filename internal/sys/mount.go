package sys

import (
	"bufio"
	"io"
	"path/filepath"
	"strconv"
	"strings"
)

// A Mount is one line of /proc/mounts.
type Mount struct {
	Dir, FSType, Options string
}

// MountOf returns the mount that holds dir (an absolute, clean path with
// symlinks resolved), from /proc/mounts's text: the one whose mount point
// is the longest prefix of dir, the last listed where several mounts are
// stacked on one point, since that one is on top.
func MountOf(r io.Reader, dir string) (Mount, bool) {
	var best Mount
	found := false
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 {
			continue
		}
		m := Mount{Dir: unescapeMount(f[1]), FSType: f[2], Options: f[3]}
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

// MountOption returns the value of key=value in a comma-separated list
// of mount options, and whether it is there.
func MountOption(options, key string) (string, bool) {
	for _, o := range strings.Split(options, ",") {
		if v, ok := strings.CutPrefix(o, key+"="); ok {
			return v, true
		}
	}
	return "", false
}

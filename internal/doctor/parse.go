package doctor

import (
	"bufio"
	"io"
	"strconv"
	"strings"
)

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

package sys

import (
	"bufio"
	"bytes"
	"os"
	"path"
	"strconv"
	"strings"
)

// FreeMemory returns how many more bytes this process may allocate before
// memory runs out: MemAvailable, or less when a memory cgroup of this
// process, or of one of its ancestors, leaves less room under its limit
// (v2 memory.max, v1 memory.limit_in_bytes). Shared memory is charged
// like any other, so a block larger than this gets the process killed,
// not a clean error. ok is false when nothing could be read.
func FreeMemory() (free int64, ok bool) {
	free, ok = memAvailable()
	for _, room := range cgroupRoom() {
		if !ok || room < free {
			free, ok = room, true
		}
	}
	return max(free, 0), ok
}

// memAvailable reads MemAvailable from /proc/meminfo.
func memAvailable() (int64, bool) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := bytes.CutPrefix(sc.Bytes(), []byte("MemAvailable:")); ok {
			kb, err := strconv.ParseInt(string(bytes.TrimSuffix(bytes.TrimSpace(rest), []byte(" kB"))), 10, 64)
			return kb << 10, err == nil
		}
	}
	return 0, false
}

// cgroupRoom returns the room left under the limit of each memory cgroup
// from this process's up to the root, where a limit is set.
func cgroupRoom() []int64 {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return nil
	}
	var rooms []int64
	for _, line := range strings.Split(string(b), "\n") {
		// hierarchy-ID:controllers:path
		f := strings.SplitN(line, ":", 3)
		switch {
		case len(f) != 3:
		case f[0] == "0" && f[1] == "":
			rooms = append(rooms, walkUp("/sys/fs/cgroup", f[2], "memory.max", "memory.current")...)
			rooms = append(rooms, walkUp("/sys/fs/cgroup/unified", f[2], "memory.max", "memory.current")...)
		case hasController(f[1], "memory"):
			rooms = append(rooms, walkUp("/sys/fs/cgroup/memory", f[2], "memory.limit_in_bytes", "memory.usage_in_bytes")...)
		}
	}
	return rooms
}

func hasController(list, c string) bool {
	for _, x := range strings.Split(list, ",") {
		if x == c {
			return true
		}
	}
	return false
}

// walkUp returns limit - usage for the cgroup dir and each ancestor that
// has a limit.
func walkUp(root, dir, limitFile, usageFile string) []int64 {
	var rooms []int64
	for p := path.Clean("/" + dir); ; p = path.Dir(p) {
		limit, err1 := readInt(root + p + "/" + limitFile)
		usage, err2 := readInt(root + p + "/" + usageFile)
		if err1 == nil && err2 == nil && limit < 1<<60 { // "max", or v1's huge "unlimited"
			rooms = append(rooms, limit-usage)
		}
		if p == "/" {
			return rooms
		}
	}
}

func readInt(file string) (int64, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
}

package sys

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Users maps every shared-memory file that some process maps or holds
// open to those processes' pids, from one pass over /proc. Processes this
// user may not inspect are missed, so the answer is a lower bound.
func Users() map[FileID][]int {
	scans.Add(1)
	users := make(map[FileID][]int)
	procs, _ := os.ReadDir("/proc")
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil {
			continue
		}
		seen := make(map[FileID]bool)
		mapped(pid, seen)
		held(pid, seen)
		for id := range seen {
			users[id] = append(users[id], pid)
		}
	}
	return users
}

// mapped adds the files of pid's shared mappings (memory of tmpfs files,
// memfds included, shows as 's' in the permissions).
func mapped(pid int, seen map[FileID]bool) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/maps")
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// address perms offset major:minor inode path
		fs := bytes.Fields(sc.Bytes())
		if len(fs) < 6 || len(fs[1]) < 4 || fs[1][3] != 's' {
			continue
		}
		maj, min, ok := bytes.Cut(fs[3], []byte(":"))
		ino, err := strconv.ParseUint(string(fs[4]), 10, 64)
		if !ok || err != nil || ino == 0 {
			continue
		}
		a, err1 := strconv.ParseUint(string(maj), 16, 32)
		b, err2 := strconv.ParseUint(string(min), 16, 32)
		if err1 == nil && err2 == nil {
			seen[FileID{unix.Mkdev(uint32(a), uint32(b)), ino}] = true
		}
	}
}

// held adds the files pid holds open: how an anonymous block handed over
// as a descriptor, but not yet mapped, is seen.
func held(pid int, seen map[FileID]bool) {
	dir := "/proc/" + strconv.Itoa(pid) + "/fd/"
	fds, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, fd := range fds {
		// Stat only shared memory: statting any other file could block
		// on a dead network mount.
		target, err := os.Readlink(dir + fd.Name())
		if err != nil || !(strings.HasPrefix(target, Dir+"/") || strings.HasPrefix(target, "/memfd:")) {
			continue
		}
		var st unix.Stat_t
		if unix.Stat(dir+fd.Name(), &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFREG {
			seen[FileID{st.Dev, st.Ino}] = true
		}
	}
}

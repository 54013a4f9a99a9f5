package sys

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

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

// scans counts the passes over /proc that Users has made.
var scans atomic.Int64

// Scans returns how many passes over /proc this process has made to find
// users: a scan costs milliseconds of CPU per call (more with many
// processes or descriptors), so callers that answer others must share them.
func Scans() int64 { return scans.Load() }

// SharedUsers is the process's one cache of Users.
var SharedUsers usersCache

// A usersCache shares passes over /proc among concurrent callers: at most
// one runs at a time, and a caller takes the latest one that began
// recently enough for it.
type usersCache struct {
	mu      sync.Mutex
	at      time.Time // when the latest completed scan began
	users   map[FileID][]int
	running chan struct{} // closed when the scan in flight ends; nil if none
}

// Users returns the users from a scan of /proc that began at most maxAge
// before the call: with maxAge 0, one that began after it, so the answer
// is as fresh as a scan of its own, but callers that arrive during a scan
// share the next one. The map and its slices are shared: do not modify
// them.
func (c *usersCache) Users(maxAge time.Duration) map[FileID][]int {
	oldest := time.Now().Add(-maxAge)
	c.mu.Lock()
	for {
		if c.users != nil && !c.at.Before(oldest) {
			defer c.mu.Unlock()
			return c.users
		}
		if c.running == nil {
			break
		}
		ch := c.running
		c.mu.Unlock()
		<-ch
		c.mu.Lock()
	}
	ch := make(chan struct{})
	c.running = ch
	c.mu.Unlock()
	began := time.Now()
	users := Users()
	c.mu.Lock()
	c.users, c.at, c.running = users, began, nil
	c.mu.Unlock()
	close(ch)
	return users
}

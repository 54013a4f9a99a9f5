package sys

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// HugePageSize is the size of a transparent huge page mapped by one page
// middle directory entry (PMD): 2 MiB on x86-64, read from the kernel
// where it says so.
var HugePageSize = sync.OnceValue(func() int64 {
	b, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size")
	if n, err2 := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil && err2 == nil && n > 0 {
		return n
	}
	return 2 << 20
})

// ShmemEnabled returns the setting in force of
// /sys/kernel/mm/transparent_hugepage/shmem_enabled ("never", "advise",
// "always", "within_size", "deny", "force"), or "" if it cannot be read.
func ShmemEnabled() string {
	b, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/shmem_enabled")
	if err != nil {
		return ""
	}
	return Selected(string(b))
}

// Selected returns the setting in brackets of a sysfs choice such as
// "always [madvise] never", or "" if none is.
func Selected(s string) string {
	for _, w := range strings.Fields(s) {
		if len(w) > 2 && w[0] == '[' && w[len(w)-1] == ']' {
			return w[1 : len(w)-1]
		}
	}
	return ""
}

// DirHuge reports whether Dir is on a tmpfs that backs files with huge
// pages (mounted huge=always or huge=within_size, or any tmpfs when
// shmem_enabled is force, none when it is deny). It reads the mounts
// once per process: remounting Dir later is not seen.
func DirHuge() bool { return dirHuge() }

var dirHuge = sync.OnceValue(func() bool {
	if dirErr != nil {
		return false
	}
	m, ok := MountAt(Dir)
	return ok && TmpfsHuge(m, ShmemEnabled())
})

// MountAt returns the mount that holds dir, after symbolic links, as
// /proc/self/mounts lists it.
func MountAt(dir string) (Mount, bool) {
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return Mount{}, false
	}
	f, err := os.Open("/proc/self/mounts")
	if err != nil {
		return Mount{}, false
	}
	defer f.Close()
	return MountOf(f, real)
}

// TmpfsHuge reports whether files on mount m get huge pages when they are
// sized and allocated whole, under the system's shmem_enabled setting.
func TmpfsHuge(m Mount, shmemEnabled string) bool {
	if m.FSType != "tmpfs" {
		return false
	}
	switch shmemEnabled {
	case "deny":
		return false
	case "force":
		return true
	}
	huge, _ := MountOption(m.Options, "huge")
	return huge == "always" || huge == "within_size"
}

// HugetlbFree returns how many pages of the hugetlb pool's default size
// are free and not reserved, and that size in bytes; 0, 0 if there is no
// pool.
func HugetlbFree() (pages, size int64) {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0, 0
	}
	var free, rsvd int64
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		key, val, _ := strings.Cut(sc.Text(), ":")
		val = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(val), "kB"))
		n, err := strconv.ParseInt(val, 10, 64)
		if err != nil {
			continue
		}
		switch key {
		case "HugePages_Free":
			free = n
		case "HugePages_Rsvd":
			rsvd = n
		case "Hugepagesize":
			size = n << 10
		}
	}
	return max(free-rsvd, 0), size
}

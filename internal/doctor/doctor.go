// Package doctor examines how well this machine suits ndshm: it measures
// what the first touch of a page of shared memory costs through a new
// mapping, with 4 KiB pages and with huge pages where it can get them,
// reads the settings that decide whether blocks get huge pages, have room
// and survive their user's logout, and turns them into advice with exact
// remedies. It is `ndshm doctor`'s engine; it changes nothing on the
// machine and leaves no file behind (its files are unnamed).
package doctor

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/ndshm/ndshm/internal/sys"
)

// A Report is what Examine found. Pointers are null in JSON where a value
// could not be read or, for limits, where it is unlimited.
type Report struct {
	PageTouchNs4K   *int64  `json:"page_touch_ns_4k"`   // median ns per 4 KiB page's first write
	PageTouchNsHuge *int64  `json:"page_touch_ns_huge"` // the same per huge page; null if none could be had
	HugePageBytes   *int64  `json:"huge_page_bytes"`    // the size of that huge page
	HugeSource      *string `json:"huge_source"`        // "shm_dir", "hugetlb" or "shmem_madvise"
	HugeUnavailable *string `json:"huge_unavailable"`   // why PageTouchNsHuge is null

	ShmDir             string  `json:"shm_dir"`
	ShmDirFSType       *string `json:"shm_dir_fstype"`
	ShmDirMountPoint   *string `json:"shm_dir_mount_point"`
	ShmDirMountOptions *string `json:"shm_dir_mount_options"`
	ShmDirHuge         bool    `json:"shm_dir_huge"`        // a tmpfs with huge=always or within_size
	ShmDirHugeOption   *string `json:"shm_dir_huge_option"` // the huge= option, null if not given
	ShmDirSizeBytes    *int64  `json:"shm_dir_size_bytes"`
	ShmDirFreeBytes    *int64  `json:"shm_dir_free_bytes"`

	THPEnabled        *string `json:"thp_enabled"`   // /sys/kernel/mm/transparent_hugepage/enabled
	ShmemEnabled      *string `json:"shmem_enabled"` // .../shmem_enabled: memfds' and shm_open's huge pages
	HugetlbTotalPages int64   `json:"hugetlb_total_pages"`
	HugetlbFreePages  int64   `json:"hugetlb_free_pages"`
	HugetlbPageBytes  int64   `json:"hugetlb_page_bytes"`

	RemoveIPC         *bool  `json:"remove_ipc"` // systemd-logind's; null if no logind.conf was found
	MemlockLimitBytes *int64 `json:"memlock_limit_bytes"`
	MemlockMaxBytes   *int64 `json:"memlock_max_bytes"`
	OpenFilesLimit    *int64 `json:"open_files_limit"` // the soft limit of doctor's parent (your shell)
	OpenFilesMax      *int64 `json:"open_files_max"`

	Seconds float64  `json:"seconds"` // how long Examine took
	Advice  []string `json:"advice"`  // [] when there is nothing to do
}

// Examine measures and reads this machine for blocks in dir (an absolute
// path, normally sys.Dir) and returns its report. It takes well under two
// seconds. Concurrent calls are safe, but disturb each other's timings.
func Examine(dir string) Report {
	start := time.Now()
	r := Report{ShmDir: dir}
	readDir(&r)
	readKernel(&r)
	readLimits(&r)
	r.RemoveIPC = readRemoveIPC(logindFiles())
	measure(&r)
	r.Advice = Advise(r)
	r.Seconds = time.Since(start).Seconds()
	return r
}

// readDir fills in the mount and space of r.ShmDir.
func readDir(r *Report) {
	if size, free, err := sys.DiskSpace(r.ShmDir); err == nil {
		r.ShmDirSizeBytes, r.ShmDirFreeBytes = &size, &free
	}
	m, ok := sys.MountAt(r.ShmDir)
	if !ok {
		return
	}
	r.ShmDirFSType, r.ShmDirMountPoint, r.ShmDirMountOptions = &m.FSType, &m.Dir, &m.Options
	if huge, ok := sys.MountOption(m.Options, "huge"); ok && m.FSType == "tmpfs" {
		r.ShmDirHugeOption = &huge
	}
	// What blocks there get, as Create decides it (shmem_enabled's
	// force and deny override the mount's huge=).
	r.ShmDirHuge = sys.TmpfsHuge(m, sys.ShmemEnabled())
}

// readKernel fills in the THP settings and the hugetlb pool.
func readKernel(r *Report) {
	const thp = "/sys/kernel/mm/transparent_hugepage/"
	for file, dst := range map[string]**string{"enabled": &r.THPEnabled, "shmem_enabled": &r.ShmemEnabled} {
		if b, err := os.ReadFile(thp + file); err == nil {
			if s := sys.Selected(string(b)); s != "" {
				*dst = &s
			}
		}
	}
	if f, err := os.Open("/proc/meminfo"); err == nil {
		m := meminfo(f)
		f.Close()
		r.HugetlbTotalPages, r.HugetlbFreePages = m["HugePages_Total"], m["HugePages_Free"]
		r.HugetlbPageBytes = m["Hugepagesize"]
	}
}

// readLimits fills in the memlock and open-files limits. The Go runtime
// raised this process's soft open-files limit to the hard one, so the
// soft limit reported is the parent's, which its other children share.
func readLimits(r *Report) {
	if l, err := sys.MemlockLimit(); err == nil {
		r.MemlockLimitBytes, r.MemlockMaxBytes = limit(l.Cur), limit(l.Max)
	}
	l, err := sys.OpenFilesLimit()
	if err == nil {
		r.OpenFilesLimit, r.OpenFilesMax = limit(l.Cur), limit(l.Max)
	}
	if f, err := os.Open("/proc/" + strconv.Itoa(os.Getppid()) + "/limits"); err == nil {
		n, ok := openFilesSoft(f)
		f.Close()
		switch {
		case ok && n < 0:
			r.OpenFilesLimit = nil
		case ok:
			r.OpenFilesLimit = &n
		}
	}
}

func limit(v uint64) *int64 {
	if v == sys.Infinity || v > 1<<62 {
		return nil
	}
	n := int64(v)
	return &n
}

// logindFiles returns systemd-logind's configuration files in the order
// it reads them: the main file, then the drop-ins sorted by name, where
// one in /etc hides one of the same name in /run or /usr/lib.
func logindFiles() []string {
	files := []string{"/etc/systemd/logind.conf"}
	byName := map[string]string{}
	for _, d := range []string{"/usr/lib/systemd/logind.conf.d", "/run/systemd/logind.conf.d", "/etc/systemd/logind.conf.d"} {
		matches, _ := filepath.Glob(d + "/*.conf")
		for _, m := range matches {
			byName[filepath.Base(m)] = m
		}
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		files = append(files, byName[n])
	}
	return files
}

// readRemoveIPC returns RemoveIPC as the files set it: systemd's default,
// yes, if one exists but none sets it, and nil if none exists.
func readRemoveIPC(files []string) *bool {
	var v *bool
	seen := false
	for _, name := range files {
		f, err := os.Open(name)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		seen = true
		if err != nil {
			continue
		}
		v = removeIPC(f, v)
		f.Close()
	}
	if v == nil && seen {
		yes := true
		v = &yes
	}
	return v
}

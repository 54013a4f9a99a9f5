package doctor

import (
	"fmt"
	"strings"

	"github.com/ndshm/ndshm/internal/human"
)

// lowFree is the free space in the block directory below which doctor
// warns: less than one large array.
const lowFree = 1 << 30

// lowOpenFiles is the open-files limit below which doctor warns: a few
// processes' worth of blocks, pool workers and sockets.
const lowOpenFiles = 4096

// rules are the advice rules, in the order Advise prints their advice.
// Each looks at a report and returns its advice, or "" if it has none.
var rules = []func(Report) string{
	adviseTouch,
	adviseDirHuge,
	adviseDirNotTmpfs,
	adviseAnonymousHuge,
	adviseHugeFailed,
	adviseFreeSpace,
	adviseRemoveIPC,
	adviseOpenFiles,
}

// Advise returns what r means for ndshm, each with its remedy, or an
// empty list when nothing needs doing.
func Advise(r Report) []string {
	advice := []string{}
	for _, rule := range rules {
		if a := rule(r); a != "" {
			advice = append(advice, a)
		}
	}
	return advice
}

// adviseTouch says what first touches cost where blocks get 4 KiB pages.
func adviseTouch(r Report) string {
	if r.PageTouchNs4K == nil || *r.PageTouchNs4K < 1000 || r.ShmDirHuge {
		return ""
	}
	ns := *r.PageTouchNs4K
	s := fmt.Sprintf("a process that maps a fresh block pays %.1f µs per 4 KiB page on first touch here, %d ms per 256 MiB, before any work",
		float64(ns)/1e3, ns*(256<<20/smallPage)/1e6)
	if r.PageTouchNsHuge != nil && r.HugePageBytes != nil {
		per256 := *r.PageTouchNsHuge * (256 << 20 / *r.HugePageBytes)
		s += fmt.Sprintf("; with %s pages (%s) it pays %.1f ms per 256 MiB", human.Bytes(*r.HugePageBytes), *r.HugeSource, float64(per256)/1e6)
	}
	return s + ": give blocks huge pages (below)"
}

// adviseDirHuge gives the remedy for a block directory without huge pages.
func adviseDirHuge(r Report) string {
	if r.ShmDirHuge || r.ShmDirFSType == nil || *r.ShmDirFSType != "tmpfs" {
		return ""
	}
	opt := "without huge="
	if r.ShmDirHugeOption != nil {
		opt = "with huge=" + *r.ShmDirHugeOption
	}
	s := fmt.Sprintf("%s is a tmpfs %s, so blocks there get 4 KiB pages: `sudo mount -o remount,huge=within_size %s` "+
		"(until reboot; for good, add huge=within_size to its options in /etc/fstab), or mount a dedicated huge tmpfs: "+
		"`sudo mount -t tmpfs -o huge=within_size,size=8G,mode=1777 ndshm /mnt/ndshm`", r.ShmDir, opt, *r.ShmDirMountPoint)
	if r.ShmemEnabled != nil && *r.ShmemEnabled == "deny" {
		s += "; first `echo advise | sudo tee /sys/kernel/mm/transparent_hugepage/shmem_enabled`: deny turns huge= off on every mount"
	}
	return s
}

// adviseDirNotTmpfs warns of a block directory that is not in memory.
func adviseDirNotTmpfs(r Report) string {
	if r.ShmDirFSType == nil || *r.ShmDirFSType == "tmpfs" {
		return ""
	}
	return fmt.Sprintf("%s is on a %s file system, not a tmpfs: blocks there may be written back to disk; use a tmpfs: "+
		"`sudo mount -t tmpfs -o huge=within_size,size=8G,mode=1777 ndshm %s`", r.ShmDir, *r.ShmDirFSType, r.ShmDir)
}

// adviseAnonymousHuge gives the remedy for memfds without huge pages.
func adviseAnonymousHuge(r Report) string {
	if r.ShmemEnabled == nil || shmemAllowsHuge(*r.ShmemEnabled) || r.HugetlbFreePages > 0 {
		return ""
	}
	return fmt.Sprintf("anonymous blocks (memfds) get 4 KiB pages: shmem_enabled is %s and the hugetlb pool has no free page; "+
		"`echo advise | sudo tee /sys/kernel/mm/transparent_hugepage/shmem_enabled` lets a mapping ask for huge pages, "+
		"or reserve a pool: `sudo sysctl vm.nr_hugepages=512` (512 × %s, taken from memory until you lower it)",
		*r.ShmemEnabled, human.Bytes(max(r.HugetlbPageBytes, 2<<20)))
}

// adviseHugeFailed says when huge pages should have worked but did not.
func adviseHugeFailed(r Report) string {
	configured := r.ShmDirHuge || r.HugetlbFreePages > 0 || r.ShmemEnabled != nil && shmemAllowsHuge(*r.ShmemEnabled)
	if !configured || r.PageTouchNsHuge != nil {
		return ""
	}
	why := ""
	if r.HugeUnavailable != nil {
		why = " (" + *r.HugeUnavailable + ")"
	}
	return "huge pages are configured but a test mapping got none" + why +
		"; memory may be too fragmented: `echo 1 | sudo tee /proc/sys/vm/compact_memory`, then run doctor again"
}

// adviseFreeSpace warns of a block directory nearly full.
func adviseFreeSpace(r Report) string {
	if r.ShmDirFreeBytes == nil || *r.ShmDirFreeBytes >= lowFree {
		return ""
	}
	s := fmt.Sprintf("%s has only %s free: creating a larger block fails with \"no space left on device\"",
		r.ShmDir, human.Bytes(*r.ShmDirFreeBytes))
	if r.ShmDirFSType != nil && *r.ShmDirFSType == "tmpfs" {
		s += fmt.Sprintf("; remove blocks you no longer need (`ndshm gc`, `ndshm rm NAME`) or grow it: `sudo mount -o remount,size=16G %s`", *r.ShmDirMountPoint)
	}
	return s
}

// adviseRemoveIPC warns that logind deletes login users' blocks.
func adviseRemoveIPC(r Report) string {
	if r.RemoveIPC == nil || !*r.RemoveIPC || !strings.HasPrefix(r.ShmDir+"/", "/dev/shm/") {
		return ""
	}
	return "systemd-logind has RemoveIPC=yes: when a login user's last session ends, it deletes their files in /dev/shm, " +
		"so their persistent blocks vanish at logout (system users, uid below 1000, are spared); " +
		"own long-lived blocks by a system user (a service's), or `printf '[Login]\\nRemoveIPC=no\\n' | sudo tee " +
		"/etc/systemd/logind.conf.d/ndshm.conf && sudo systemctl restart systemd-logind`"
}

// adviseOpenFiles warns of an open-files limit that many blocks exhaust.
func adviseOpenFiles(r Report) string {
	if r.OpenFilesLimit == nil || *r.OpenFilesLimit >= lowOpenFiles {
		return ""
	}
	to := int64(65536)
	if r.OpenFilesMax != nil {
		to = min(to, *r.OpenFilesMax)
	}
	return fmt.Sprintf("the open-files limit is %d: every open block holds a descriptor, so a process with many blocks fails "+
		"with \"too many open files\"; raise it: `ulimit -n %d` in the shell, LimitNOFILE=%d in a systemd unit, or nofile "+
		"in /etc/security/limits.conf (Go programs raise it to the hard limit themselves)", *r.OpenFilesLimit, to, to)
}

// Verdict sums r up in one line for the demo: what a first touch costs
// here, and whether blocks get huge pages.
func Verdict(r Report) string {
	touch := "unmeasured"
	if r.PageTouchNs4K != nil {
		touch = fmt.Sprintf("%.1f µs per 4 KiB page", float64(*r.PageTouchNs4K)/1e3)
	}
	huge := "blocks in " + r.ShmDir + " get 4 KiB pages"
	if r.ShmDirHuge {
		huge = "blocks in " + r.ShmDir + " get huge pages"
	}
	verdict := fmt.Sprintf("this machine: a fresh mapping's first touch costs %s; %s", touch, huge)
	if n := len(r.Advice); n > 0 {
		verdict += fmt.Sprintf(" (ndshm doctor: %d piece(s) of advice)", n)
	}
	return verdict
}

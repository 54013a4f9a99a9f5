package doctor

import (
	"strings"
	"testing"
)

func ptr[T any](v T) *T { return &v }

// healthy is a report that needs no advice: a huge tmpfs with room,
// THP for memfds, logind keeping blocks, plenty of descriptors.
func healthy() Report {
	return Report{
		PageTouchNs4K: ptr[int64](8000), PageTouchNsHuge: ptr[int64](30000), HugePageBytes: ptr[int64](2 << 20),
		HugeSource: ptr("shm_dir"), ShmDir: "/dev/shm", ShmDirFSType: ptr("tmpfs"), ShmDirMountPoint: ptr("/dev/shm"),
		ShmDirMountOptions: ptr("rw,huge=within_size"), ShmDirHuge: true, ShmDirHugeOption: ptr("within_size"),
		ShmDirSizeBytes: ptr[int64](16 << 30), ShmDirFreeBytes: ptr[int64](16 << 30),
		THPEnabled: ptr("madvise"), ShmemEnabled: ptr("advise"), HugetlbPageBytes: 2 << 20,
		RemoveIPC: ptr(false), OpenFilesLimit: ptr[int64](1 << 20), OpenFilesMax: ptr[int64](1 << 20),
	}
}

func TestAdvise(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*Report)
		want   []string // a substring of each piece of advice, in order
	}{
		{"healthy", func(*Report) {}, nil},
		{"4 KiB blocks", func(r *Report) {
			r.ShmDirHuge, r.ShmDirHugeOption, r.ShmDirMountOptions = false, nil, ptr("rw")
		}, []string{"8.0 µs per 4 KiB page on first touch here, 524 ms per 256 MiB", "`sudo mount -o remount,huge=within_size /dev/shm`"}},
		{"fast 4 KiB touch", func(r *Report) {
			r.ShmDirHuge, r.ShmDirHugeOption, r.PageTouchNs4K = false, ptr("never"), ptr[int64](500)
		}, []string{"/dev/shm is a tmpfs with huge=never"}},
		{"shmem deny", func(r *Report) {
			r.ShmDirHuge, r.ShmemEnabled, r.PageTouchNs4K = false, ptr("deny"), nil
		}, []string{"deny turns huge= off on every mount", "shmem_enabled is deny"}},
		{"not tmpfs", func(r *Report) {
			r.ShmDirHuge, r.ShmDirFSType, r.PageTouchNs4K = false, ptr("ext4"), nil
		}, []string{"on a ext4 file system, not a tmpfs"}},
		{"no huge memfds", func(r *Report) { r.ShmemEnabled = ptr("never") }, []string{"`echo advise | sudo tee /sys/kernel/mm/transparent_hugepage/shmem_enabled`"}},
		{"hugetlb pool instead", func(r *Report) { r.ShmemEnabled, r.HugetlbFreePages = ptr("never"), 4 }, nil},
		{"huge failed", func(r *Report) {
			r.PageTouchNsHuge, r.HugePageBytes, r.HugeSource, r.HugeUnavailable = nil, nil, nil, ptr("shm_dir: no")
		}, []string{"huge pages are configured but a test mapping got none (shm_dir: no)"}},
		{"full", func(r *Report) { r.ShmDirFreeBytes = ptr[int64](100 << 20) }, []string{"or grow it: `sudo mount -o remount,size=16G /dev/shm`"}},
		{"RemoveIPC", func(r *Report) { r.RemoveIPC = ptr(true) }, []string{"RemoveIPC=no"}},
		{"RemoveIPC unknown", func(r *Report) { r.RemoveIPC = nil }, nil},
		{"RemoveIPC elsewhere", func(r *Report) { r.RemoveIPC, r.ShmDir = ptr(true), "/mnt/ndshm" }, nil},
		{"few files", func(r *Report) { r.OpenFilesLimit, r.OpenFilesMax = ptr[int64](1024), ptr[int64](4096) }, []string{"limit is 1024: every open block holds a descriptor, so a process with many blocks fails with \"too many open files\"; raise it: `ulimit -n 4096`"}},
		{"files unlimited", func(r *Report) { r.OpenFilesLimit = nil }, nil},
	} {
		r := healthy()
		tc.change(&r)
		got := Advise(r)
		if got == nil || len(got) != len(tc.want) {
			t.Errorf("%s: Advise = %q, want %d pieces: %q", tc.name, got, len(tc.want), tc.want)
			continue
		}
		for i, w := range tc.want {
			if !strings.Contains(got[i], w) {
				t.Errorf("%s: advice %d = %q, want it to contain %q", tc.name, i, got[i], w)
			}
		}
	}
}

// The demo's one line says what a first touch costs and whether blocks
// get huge pages, and points at doctor when it has advice.
func TestVerdict(t *testing.T) {
	ns := int64(12900)
	for _, tc := range []struct {
		r    Report
		want []string
	}{
		{Report{PageTouchNs4K: &ns, ShmDir: "/dev/shm", Advice: []string{"a", "b"}},
			[]string{"12.9 µs per 4 KiB page", "/dev/shm get 4 KiB pages", "2 piece(s) of advice"}},
		{Report{ShmDir: "/mnt/huge", ShmDirHuge: true, Advice: []string{}},
			[]string{"unmeasured", "/mnt/huge get huge pages"}},
	} {
		got := Verdict(tc.r)
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("Verdict(%+v) = %q, want it to say %q", tc.r, got, w)
			}
		}
		if len(tc.r.Advice) == 0 && strings.Contains(got, "advice") {
			t.Errorf("Verdict with no advice = %q", got)
		}
	}
}

package sys

import (
	"strings"
	"testing"
)

func TestSelected(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"always [madvise] never\n", "madvise"},
		{"always within_size advise [never] deny force\n", "never"},
		{"[always] madvise never", "always"},
		{"always madvise never", ""},
		{"", ""},
	} {
		if got := Selected(tc.in); got != tc.want {
			t.Errorf("Selected(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

const mounts = `proc /proc proc rw,nosuid 0 0
tmpfs /dev/shm tmpfs rw,relatime,size=24683748k 0 0
tmpfs /dev/shm tmpfs rw,relatime,size=65536k,huge=within_size 0 0
/dev/vda / ext4 rw,relatime 0 0
tmpfs /mnt/my\040shm tmpfs rw,huge=always 0 0
tmpfs /dev/shmx tmpfs rw 0 0
`

func TestMountOf(t *testing.T) {
	for _, tc := range []struct {
		dir  string
		want Mount
		ok   bool
	}{
		{"/dev/shm", Mount{"/dev/shm", "tmpfs", "rw,relatime,size=65536k,huge=within_size"}, true}, // the top of the stack
		{"/dev/shm/sub", Mount{"/dev/shm", "tmpfs", "rw,relatime,size=65536k,huge=within_size"}, true},
		{"/dev/shmx", Mount{"/dev/shmx", "tmpfs", "rw"}, true},
		{"/mnt/my shm", Mount{"/mnt/my shm", "tmpfs", "rw,huge=always"}, true},
		{"/home/u", Mount{"/", "ext4", "rw,relatime"}, true},
	} {
		got, ok := MountOf(strings.NewReader(mounts), tc.dir)
		if got != tc.want || ok != tc.ok {
			t.Errorf("MountOf(%q) = %+v, %v; want %+v, %v", tc.dir, got, ok, tc.want, tc.ok)
		}
	}
	if _, ok := MountOf(strings.NewReader("proc /proc proc rw 0 0\n"), "/dev/shm"); ok {
		t.Error("mountOf found a mount for /dev/shm among none that hold it")
	}
}

func TestOption(t *testing.T) {
	for _, tc := range []struct {
		opts, key, want string
		ok              bool
	}{
		{"rw,relatime,size=65536k,huge=within_size", "huge", "within_size", true},
		{"rw,huge=always", "huge", "always", true},
		{"rw,relatime,size=24683748k", "huge", "", false},
		{"rw,nohuge=x", "huge", "", false},
		{"rw,size=1g", "size", "1g", true},
	} {
		got, ok := MountOption(tc.opts, tc.key)
		if got != tc.want || ok != tc.ok {
			t.Errorf("MountOption(%q, %q) = %q, %v; want %q, %v", tc.opts, tc.key, got, ok, tc.want, tc.ok)
		}
	}
}

const smaps = `7f0000000000-7f0000400000 rw-s 00000000 00:01 1234                       /memfd:ndshm-doctor (deleted)
Size:               4096 kB
KernelPageSize:        4 kB
ShmemPmdMapped:        0 kB
FilePmdMapped:         0 kB
VmFlags: rd wr sh mr mw me ms sd
7f0000400000-7f0001400000 rw-s 00000000 00:2a 99                         /tmp/huge/#99 (deleted)
Size:              16384 kB
KernelPageSize:        4 kB
ShmemPmdMapped:    16384 kB
FilePmdMapped:         0 kB
7f0002000000-7f0003000000 rw-s 00000000 00:0f 7                          /anon_hugepage (deleted)
Size:              16384 kB
KernelPageSize:     2048 kB
ShmemPmdMapped:        0 kB
`

func TestSmapsOf(t *testing.T) {
	for _, tc := range []struct {
		addr uintptr
		want Backing
		ok   bool
		huge bool
	}{
		{0x7f0000000000, Backing{4 << 10, 0}, true, false},
		{0x7f0000400000, Backing{4 << 10, 16 << 20}, true, true},
		{0x7f0002000000, Backing{2 << 20, 0}, true, true},
		{0x7f0000001000, Backing{}, false, false},
	} {
		got, ok, _ := SmapsWhere(strings.NewReader(smaps), func(lo, _ uint64) bool { return lo == uint64(tc.addr) })
		if got != tc.want || ok != tc.ok || got.Huge() != tc.huge {
			t.Errorf("SmapsWhere(start %#x) = %+v, %v (huge %v); want %+v, %v (huge %v)", tc.addr, got, ok, got.Huge(), tc.want, tc.ok, tc.huge)
		}
	}
}

// smapsWhere, as HugeAt uses it, finds the mapping that holds an address
// inside it, not only at its start.
func TestSmapsWhereHolds(t *testing.T) {
	for _, tc := range []struct {
		addr uint64
		want Backing
		ok   bool
	}{
		{0x7f0000001000, Backing{4 << 10, 0}, true},
		{0x7f0001000000, Backing{4 << 10, 16 << 20}, true},
		{0x7f0001400000, Backing{}, false}, // between mappings
	} {
		got, ok, err := SmapsWhere(strings.NewReader(smaps), func(lo, hi uint64) bool { return lo <= tc.addr && tc.addr < hi })
		if got != tc.want || ok != tc.ok || err != nil {
			t.Errorf("SmapsWhere(holds %#x) = %+v, %v, %v; want %+v, %v", tc.addr, got, ok, err, tc.want, tc.ok)
		}
	}
}

// SmapsWhere never panics, and never reports a negative or absurd size,
// whatever text it reads.
func FuzzSmapsWhere(f *testing.F) {
	f.Add(smaps, uint64(0x7f0000400000))
	f.Add("7f-7e rw\nKernelPageSize: -4 kB\nShmemPmdMapped: 99999999999999999 kB\n", uint64(0x7f))
	f.Add("x-y\n:\n-:\nFilePmdMapped:kB\n", uint64(0))
	f.Fuzz(func(t *testing.T, text string, addr uint64) {
		b, ok, err := SmapsWhere(strings.NewReader(text), func(lo, hi uint64) bool { return lo <= addr && addr < hi })
		if err == nil && !ok && b != (Backing{}) {
			t.Errorf("no mapping found, yet %+v", b)
		}
		if b.PageBytes < 0 || b.PMDBytes < 0 || b.PMDBytes > 2<<50 {
			t.Errorf("SmapsWhere = %+v", b)
		}
	})
}

func TestTmpfsHuge(t *testing.T) {
	for _, tc := range []struct {
		m     Mount
		shmem string
		want  bool
	}{
		{Mount{"/dev/shm", "tmpfs", "rw,relatime"}, "never", false},
		{Mount{"/dev/shm", "tmpfs", "rw,huge=always"}, "never", true},
		{Mount{"/dev/shm", "tmpfs", "rw,huge=within_size"}, "advise", true},
		{Mount{"/dev/shm", "tmpfs", "rw,huge=advise"}, "always", false}, // advise needs a mapping's madvise; fallocate has none
		{Mount{"/dev/shm", "tmpfs", "rw,huge=always"}, "deny", false},
		{Mount{"/dev/shm", "tmpfs", "rw"}, "force", true},
		{Mount{"/", "ext4", "rw,huge=always"}, "force", false},
		{Mount{"/x", "tmpfs", "rw,huge=never"}, "", false},
	} {
		if got := TmpfsHuge(tc.m, tc.shmem); got != tc.want {
			t.Errorf("TmpfsHuge(%+v, %q) = %v, want %v", tc.m, tc.shmem, got, tc.want)
		}
	}
}

package doctor

import (
	"reflect"
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
		if got := selected(tc.in); got != tc.want {
			t.Errorf("selected(%q) = %q, want %q", tc.in, got, tc.want)
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
		want mount
		ok   bool
	}{
		{"/dev/shm", mount{"/dev/shm", "tmpfs", "rw,relatime,size=65536k,huge=within_size"}, true}, // the top of the stack
		{"/dev/shm/sub", mount{"/dev/shm", "tmpfs", "rw,relatime,size=65536k,huge=within_size"}, true},
		{"/dev/shmx", mount{"/dev/shmx", "tmpfs", "rw"}, true},
		{"/mnt/my shm", mount{"/mnt/my shm", "tmpfs", "rw,huge=always"}, true},
		{"/home/u", mount{"/", "ext4", "rw,relatime"}, true},
	} {
		got, ok := mountOf(strings.NewReader(mounts), tc.dir)
		if got != tc.want || ok != tc.ok {
			t.Errorf("mountOf(%q) = %+v, %v; want %+v, %v", tc.dir, got, ok, tc.want, tc.ok)
		}
	}
	if _, ok := mountOf(strings.NewReader("proc /proc proc rw 0 0\n"), "/dev/shm"); ok {
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
		got, ok := option(tc.opts, tc.key)
		if got != tc.want || ok != tc.ok {
			t.Errorf("option(%q, %q) = %q, %v; want %q, %v", tc.opts, tc.key, got, ok, tc.want, tc.ok)
		}
	}
}

func TestMeminfo(t *testing.T) {
	const in = `MemTotal:       49367496 kB
HugePages_Total:     128
HugePages_Free:       64
Hugepagesize:       2048 kB
Garbage line
DirectMap1G:    bogus kB
`
	want := map[string]int64{
		"MemTotal": 49367496 << 10, "HugePages_Total": 128, "HugePages_Free": 64, "Hugepagesize": 2 << 20,
	}
	if got := meminfo(strings.NewReader(in)); !reflect.DeepEqual(got, want) {
		t.Errorf("meminfo = %v, want %v", got, want)
	}
}

func TestRemoveIPC(t *testing.T) {
	yes, no := true, false
	for _, tc := range []struct {
		name  string
		in    string
		prior *bool
		want  *bool
	}{
		{"commented", "[Login]\n#RemoveIPC=no\n", nil, nil},
		{"no", "[Login]\nRemoveIPC=no\n", nil, &no},
		{"spaces", "[Login]\n  RemoveIPC = false \n", nil, &no},
		{"yes overrides", "[Login]\nRemoveIPC=yes\n", &no, &yes},
		{"last wins", "[Login]\nRemoveIPC=no\nRemoveIPC=1\n", nil, &yes},
		{"other section", "[Other]\nRemoveIPC=no\n", nil, nil},
		{"kept when unset", "[Login]\nKillUserProcesses=no\n", &no, &no},
		{"bad value", "[Login]\nRemoveIPC=maybe\n", &yes, &yes},
	} {
		got := removeIPC(strings.NewReader(tc.in), tc.prior)
		if (got == nil) != (tc.want == nil) || got != nil && *got != *tc.want {
			t.Errorf("%s: removeIPC = %v, want %v", tc.name, deref(got), deref(tc.want))
		}
	}
}

func deref(b *bool) any {
	if b == nil {
		return nil
	}
	return *b
}

func TestOpenFilesSoft(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"Limit                     Soft Limit           Hard Limit           Units\nMax open files            1024                 524288               files\n", 1024, true},
		{"Max open files            unlimited            unlimited            files\n", -1, true},
		{"Max processes             1024                 1024                 processes\n", 0, false},
	} {
		n, ok := openFilesSoft(strings.NewReader(tc.in))
		if n != tc.want || ok != tc.ok {
			t.Errorf("openFilesSoft(%q) = %d, %v; want %d, %v", tc.in, n, ok, tc.want, tc.ok)
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
		want backing
		ok   bool
		huge bool
	}{
		{0x7f0000000000, backing{4 << 10, 0}, true, false},
		{0x7f0000400000, backing{4 << 10, 16 << 20}, true, true},
		{0x7f0002000000, backing{2 << 20, 0}, true, true},
		{0x7f0000001000, backing{}, false, false},
	} {
		got, ok := smapsOf(strings.NewReader(smaps), tc.addr)
		if got != tc.want || ok != tc.ok || got.Huge() != tc.huge {
			t.Errorf("smapsOf(%#x) = %+v, %v (huge %v); want %+v, %v (huge %v)", tc.addr, got, ok, got.Huge(), tc.want, tc.ok, tc.huge)
		}
	}
}

// smapsWhere, as HugeAt uses it, finds the mapping that holds an address
// inside it, not only at its start.
func TestSmapsWhereHolds(t *testing.T) {
	for _, tc := range []struct {
		addr uint64
		want backing
		ok   bool
	}{
		{0x7f0000001000, backing{4 << 10, 0}, true},
		{0x7f0001000000, backing{4 << 10, 16 << 20}, true},
		{0x7f0001400000, backing{}, false}, // between mappings
	} {
		got, ok, err := smapsWhere(strings.NewReader(smaps), func(lo, hi uint64) bool { return lo <= tc.addr && tc.addr < hi })
		if got != tc.want || ok != tc.ok || err != nil {
			t.Errorf("smapsWhere(holds %#x) = %+v, %v, %v; want %+v, %v", tc.addr, got, ok, err, tc.want, tc.ok)
		}
	}
}

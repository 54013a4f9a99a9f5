package doctor

import (
	"reflect"
	"strings"
	"testing"
)

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

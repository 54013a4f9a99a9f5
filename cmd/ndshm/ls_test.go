package main

import (
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/describe"
)

func TestLs(t *testing.T) {
	persistent := newName(t)
	makeBlock(t, persistent, ndshm.Spec{DType: ndshm.Float64, Shape: []int{128, 4}}, func(int) float64 { return 0 })
	owned := newName(t)
	b, err := ndshm.Create(owned, ndshm.Spec{DType: ndshm.Uint8, Shape: []int{}})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	other := newName(t) // another program's segment: not listed
	if err := os.WriteFile("/dev/shm/"+other, []byte("not ours"), 0o600); err != nil {
		t.Fatal(err)
	}

	// Other tests' blocks may show up too: look only at ours.
	got := map[string]describe.Block{}
	for _, j := range decodeJSON[[]describe.Block](t, mustRun(t, "ls", "--json")) {
		got[j.Name] = j
	}
	p, o := got[persistent], got[owned]
	if _, ok := got[other]; ok {
		t.Errorf("ls listed %s, which is not a block", other)
	}
	if p.DType != "<f8" || p.SizeBytes != 4096 || !p.Persistent || !p.CreatorAlive || p.CreatorPID != os.Getpid() {
		t.Errorf("ls --json, persistent block: %+v", p)
	}
	if o.DType != "|u1" || len(o.Shape) != 0 || o.Shape == nil || o.Persistent || !o.CreatorAlive {
		t.Errorf("ls --json, owned block: %+v", o)
	}

	out := mustRun(t, "ls")
	if !strings.HasPrefix(out, "NAME ") || !strings.Contains(out, "AGE\n") {
		t.Errorf("ls has no header:\n%s", out)
	}
	for _, want := range []string{
		persistent + "  array  <f8    (128, 4)  4 KiB  no  yes", owned + "  array  |u1    ()        1 B    no  no",
	} {
		if !strings.Contains(strings.Join(strings.Fields(out), " "), strings.Join(strings.Fields(want), " ")) {
			t.Errorf("ls lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, other) {
		t.Errorf("ls listed %s:\n%s", other, out)
	}
	// This process maps the owned block: it is its user, and no orphan.
	if want := "ALIVE ORPHAN USERS AGE"; !strings.Contains(strings.Join(strings.Fields(out), " "), want) {
		t.Errorf("ls header lacks %q:\n%s", want, out)
	}
	for line := range strings.Lines(out) {
		if f := strings.Fields(line); len(f) > 3 && f[0] == owned && (f[len(f)-3] != "no" || f[len(f)-2] != strconv.Itoa(os.Getpid())) {
			t.Errorf("ls row of an owned block this process maps: %q", line)
		}
	}
	if !slices.Equal(o.Users, []int{os.Getpid()}) || o.Orphan || len(p.Users) != 0 {
		t.Errorf("ls --json users: %v of the owned block, %v of the persistent one", o.Users, p.Users)
	}
}

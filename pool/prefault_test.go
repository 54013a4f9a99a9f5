package pool

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/shmtest"
)

// TestPrefault hands a worker a fresh mapping and checks, in smaps, that
// its first task populates exactly the rows it writes without reading
// them first, and nothing more afterwards or for other ops.
func TestPrefault(t *testing.T) {
	const rows, row = 1024, 512 * 8 // 4 MiB of float64
	tests := []struct {
		op       string
		dst      bool
		tasks    [][2]int // rows [lo, hi) of each task in turn
		wantRows int      // populated in the written block
	}{
		{"fill", false, [][2]int{{256, 768}}, 512},
		{"fill", false, [][2]int{{0, 100}, {100, 1024}}, 100}, // first task only
		{"sqrt", true, [][2]int{{512, 1024}}, 512},            // the destination
		{"sqrt", false, [][2]int{{0, 1024}}, 0},               // reads first: fault-around serves it
		{"sum", false, [][2]int{{0, 1024}}, 0},                // read-only: nothing
	}
	for _, tc := range tests {
		t.Run(tc.op, func(t *testing.T) {
			def, err := lookup(tc.op)
			if err != nil {
				t.Fatal(err)
			}
			src, srcIno := freshBlock(t, rows, row)
			dst, dstIno := src, srcIno
			w := &worker{fresh: map[uint32]bool{1: true, 2: true}}
			tk := task{src: 1}
			if tc.dst {
				dst, dstIno = freshBlock(t, rows, row)
				tk.dst = 2
			}
			for _, r := range tc.tasks {
				tk.lo, tk.hi = int64(r[0]), int64(r[1])
				d := dst
				if !tc.dst {
					d = nil
				}
				w.prefaultFirst(&tk, def, src, d)
			}
			if got, want := rss(t, dstIno), tc.wantRows*row; got != want {
				t.Errorf("%d bytes of the written block populated, want %d", got, want)
			}
			if tc.dst && rss(t, srcIno) != 0 {
				t.Error("the source of a MapTo was populated")
			}
		})
	}
}

// freshBlock makes a block of rows×row bytes that this process maps
// afresh, with no page of its mapping touched, and its inode.
func freshBlock(t *testing.T, rows, row int) (*ndshm.Block, uint64) {
	name := shmtest.Name()
	s := ndshm.Spec{DType: ndshm.Float64, Shape: []int{rows, row / 8}}
	c, err := ndshm.Create(name, s, ndshm.Persistent())
	if err != nil {
		t.Fatal(err)
	}
	c.Close() // its mapping goes: Open makes a new one
	t.Cleanup(func() { ndshm.Unlink(name) })
	b, err := ndshm.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	var st syscall.Stat_t
	if err := syscall.Stat("/dev/shm/"+name, &st); err != nil {
		t.Fatal(err)
	}
	return b, st.Ino
}

// rss returns the bytes of this process's mapping of inode ino that are
// in its page tables, from /proc/self/smaps.
func rss(t *testing.T, ino uint64) int {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	in, want := false, strconv.FormatUint(ino, 10)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) >= 5 && strings.Contains(fs[0], "-") {
			in = fs[4] == want
		}
		if in && len(fs) == 3 && fs[0] == "Rss:" {
			kb, _ := strconv.Atoi(fs[1])
			return kb << 10
		}
	}
	t.Fatalf("inode %d is not mapped", ino)
	return 0
}

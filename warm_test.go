package ndshm_test

import (
	"errors"
	"os"
	"sync"
	"testing"

	"github.com/ndshm/ndshm"
)

var warmSpec = ndshm.Spec{DType: ndshm.Float64, Shape: []int{3, 1000}}

// base is the address of a block's data, which says which mapping it is.
func base(b *ndshm.Block) *byte { return &b.Bytes()[0] }

// opener opens a second Block of the block first, and says how.
type opener struct {
	what  string
	open  func(t *testing.T, first *ndshm.Block) (*ndshm.Block, error)
	share bool // the second Block shares first's mapping
}

// fromFile hands first to FromFile as a descriptor, the way a block comes
// back to a process that already maps it.
func fromFile(t *testing.T, first *ndshm.Block) (*ndshm.Block, error) {
	f, err := first.File()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return ndshm.FromFile(f)
}

// fromReadOnlyFile hands first to FromFile as a read-only descriptor.
func fromReadOnlyFile(t *testing.T, first *ndshm.Block) (*ndshm.Block, error) {
	f, err := os.Open(shmFile(first.Name()))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return ndshm.FromFile(f)
}

var openers = []opener{
	{"Open", func(t *testing.T, b *ndshm.Block) (*ndshm.Block, error) { return ndshm.Open(b.Name()) }, true},
	{"OpenRaw", func(t *testing.T, b *ndshm.Block) (*ndshm.Block, error) { return ndshm.OpenRaw(b.Name(), warmSpec) }, true},
	{"FromFile", fromFile, true},
	{"FromFileRaw", func(t *testing.T, b *ndshm.Block) (*ndshm.Block, error) {
		f, err := b.File()
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		return ndshm.FromFileRaw(f, warmSpec)
	}, true},
	{"Open ReadOnly", func(t *testing.T, b *ndshm.Block) (*ndshm.Block, error) {
		return ndshm.Open(b.Name(), ndshm.ReadOnly())
	}, false},
	{"FromFile read-only", fromReadOnlyFile, false},
}

// makers make the first Block, as each way of getting one does.
var makers = []struct {
	what string
	make func(t *testing.T) *ndshm.Block
}{
	{"Create", func(t *testing.T) *ndshm.Block { return tBlock(t, warmSpec) }},
	{"Open", func(t *testing.T) *ndshm.Block {
		c := tBlock(t, warmSpec, ndshm.Persistent())
		removeAtEnd(t, c.Name())
		c.Close()
		b, err := ndshm.Open(c.Name())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Close() })
		return b
	}},
}

// TestWarmOpen opens a block this process maps, every way: the second
// Block shares the first's mapping when the access is the same, outlives
// the first's Close, and the last Close unmaps.
func TestWarmOpen(t *testing.T) {
	for _, mk := range makers {
		for _, op := range openers {
			t.Run(mk.what+"/"+op.what, func(t *testing.T) {
				first := mk.make(t)
				ino := inode(t, shmFile(first.Name()))
				second, err := op.open(t, first)
				if err != nil {
					t.Fatal(err)
				}
				defer second.Close()
				if got := base(second) == base(first); got != op.share {
					t.Errorf("shares the first Block's mapping: %v, want %v", got, op.share)
				}
				checkOutlives(t, first, second, ino)
			})
		}
	}
}

// checkOutlives closes first and checks that second still maps the
// block (before touching it, so a broken count fails rather than
// faults), still sees first's writes, and that second's Close unmaps.
func checkOutlives(t *testing.T, first, second *ndshm.Block, ino uint64) {
	t.Helper()
	first.Bytes()[8] = 42
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	if first.Bytes() != nil {
		t.Error("Bytes of a closed Block is not nil")
	}
	if _, err := first.File(); !errors.Is(err, os.ErrClosed) {
		t.Errorf("File of a closed Block: %v, want os.ErrClosed", err)
	}
	if !mapped(t, ino) {
		t.Fatal("the first Block's Close unmapped the block the second still uses")
	}
	if got := second.Bytes()[8]; got != 42 {
		t.Errorf("second Block reads %d, want 42", got)
	}
	second.Close()
	if mapped(t, ino) {
		t.Error("the last Close left the block mapped")
	}
}

// TestWarmAnon hands an anonymous block back to the process that made it.
func TestWarmAnon(t *testing.T) {
	first, err := ndshm.CreateAnon(warmSpec)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	f, err := first.File()
	if err != nil {
		t.Fatal(err)
	}
	ino := fdInode(t, f)
	second, err := ndshm.FromFile(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	if base(second) != base(first) {
		t.Error("FromFile of an anonymous block this process maps made a new mapping")
	}
	checkOutlives(t, first, second, ino)
}

// TestWarmNewFile replaces a block by a new one under the same name: an
// open gets the new file, never the old one's mapping.
func TestWarmNewFile(t *testing.T) {
	old := tBlock(t, warmSpec, ndshm.Persistent())
	name := old.Name()
	removeAtEnd(t, name)
	old.Bytes()[0] = 1
	if err := ndshm.Unlink(name); err != nil {
		t.Fatal(err)
	}
	nb, err := ndshm.Create(name, warmSpec, ndshm.Persistent())
	if err != nil {
		t.Fatal(err)
	}
	nb.Close()
	b, err := ndshm.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if base(b) == base(old) || b.Bytes()[0] != 0 {
		t.Error("Open of a new block under an old block's name got the old block's mapping")
	}
}

// TestWarmFailedOpen opens a mapped block in ways that fail: none of them
// keeps a reference, so the block's Close still unmaps it.
func TestWarmFailedOpen(t *testing.T) {
	b := tBlock(t, warmSpec)
	ino := inode(t, shmFile(b.Name()))
	wrong := ndshm.Spec{DType: ndshm.Int32, Shape: []int{7}}
	if r, err := ndshm.OpenRaw(b.Name(), wrong); !errors.Is(err, ndshm.ErrDType) {
		t.Errorf("OpenRaw with the wrong spec: %v, %v; want ErrDType", r, err)
	}
	f, err := b.File()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if r, err := ndshm.FromFileRaw(f, wrong); !errors.Is(err, ndshm.ErrDType) {
		t.Errorf("FromFileRaw with the wrong spec: %v, %v; want ErrDType", r, err)
	}
	b.Close()
	if mapped(t, ino) {
		t.Error("a failed open kept the block mapped")
	}
}

// TestWarmConcurrent opens and closes one block from many goroutines,
// with and without a Block held open throughout, under -race: every
// Block reads what was written, and the last Close unmaps.
func TestWarmConcurrent(t *testing.T) {
	for _, hold := range []bool{false, true} {
		c := tBlock(t, warmSpec, ndshm.Persistent())
		name := c.Name()
		removeAtEnd(t, name)
		c.Bytes()[1] = 7
		ino := inode(t, shmFile(name))
		c.Close()
		var held *ndshm.Block
		if hold {
			held = mustOpen(t, name)
		}
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for range 50 {
					b, err := ndshm.Open(name)
					if err != nil {
						t.Error(err)
						return
					}
					if b.Bytes()[1] != 7 {
						t.Error("a concurrent Open read the wrong byte")
					}
					b.Close()
				}
			})
		}
		wg.Wait()
		if held != nil {
			held.Close()
		}
		if mapped(t, ino) {
			t.Errorf("hold %v: the block is still mapped after every Close", hold)
		}
	}
}

func mustOpen(t *testing.T, name string) *ndshm.Block {
	t.Helper()
	b, err := ndshm.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

package ndshm_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/shmtest"
)

// Roles of the re-executed test binary used below.
func init() {
	// block-writer NAME BASE: open the named block, fill it with BASE+i.
	roles["block-writer"] = func(args []string) int {
		args = roleArgs(args)
		b, err := ndshm.Open(args[0])
		if err != nil {
			fmt.Fprintln(os.Stderr, "block-writer:", err)
			return 1
		}
		return fillAndClose(b, args[1])
	}
	// fd-writer BASE: open the block passed as descriptor 3, fill it.
	roles["fd-writer"] = func(args []string) int {
		args = roleArgs(args)
		f := os.NewFile(3, "block")
		b, err := ndshm.FromFile(f)
		if err != nil {
			fmt.Fprintln(os.Stderr, "fd-writer:", err)
			return 1
		}
		f.Close()
		return fillAndClose(b, args[0])
	}
	// block-owner NAME: create an owned block, say "ready", then wait
	// for standard input to close (or to be killed).
	roles["block-owner"] = func(args []string) int {
		args = roleArgs(args)
		b, err := ndshm.Create(args[0], ndshm.Spec{DType: ndshm.Float64, Shape: []int{8}})
		if err != nil {
			fmt.Fprintln(os.Stderr, "block-owner:", err)
			return 1
		}
		fmt.Println("ready")
		io.Copy(io.Discard, os.Stdin)
		if err := b.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "block-owner:", err)
			return 1
		}
		return 0
	}
}

// roleArgs drops the test flags shmtest.Command puts before a role's
// arguments.
func roleArgs(args []string) []string {
	for len(args) > 0 && strings.HasPrefix(args[0], "-test.") {
		args = args[1:]
	}
	return args
}

func fillAndClose(b *ndshm.Block, base string) int {
	v, err := strconv.ParseFloat(base, 64)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	a, err := ndshm.View[float64](b)
	if err != nil {
		fmt.Fprintln(os.Stderr, "view:", err)
		return 1
	}
	flat, _ := a.Flat()
	for i := range flat {
		flat[i] = v + float64(i)
	}
	if err := b.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "close:", err)
		return 1
	}
	return 0
}

// exists reports whether name is in /dev/shm, without following links.
func exists(t testing.TB, name string) bool {
	t.Helper()
	_, err := os.Lstat(shmFile(name))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return err == nil
}

func floats(t testing.TB, b *ndshm.Block) []float64 {
	t.Helper()
	a, err := ndshm.View[float64](b)
	if err != nil {
		t.Fatal(err)
	}
	f, ok := a.Flat()
	if !ok {
		t.Fatal("not contiguous")
	}
	return f
}

var spec34 = ndshm.Spec{DType: ndshm.Float64, Shape: []int{3, 4}}

func TestCreateExisting(t *testing.T) {
	for _, c := range []struct {
		what  string
		setup func(name string)
	}{
		{"block", func(name string) {
			b, err := ndshm.Create(name, spec34)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { b.Close() })
		}},
		{"persistent block", func(name string) {
			b, err := ndshm.Create(name, spec34, ndshm.Persistent())
			if err != nil {
				t.Fatal(err)
			}
			b.Close()
		}},
		{"plain file", func(name string) { os.WriteFile(shmFile(name), []byte("x"), 0o600) }},
		{"empty file", func(name string) { os.WriteFile(shmFile(name), nil, 0o600) }},
		{"dangling symlink", func(name string) { os.Symlink("/nonexistent", shmFile(name)) }},
		{"directory", func(name string) { os.Mkdir(shmFile(name), 0o700) }},
	} {
		t.Run(c.what, func(t *testing.T) {
			name := shmtest.Name()
			removeAtEnd(t, name)
			c.setup(name)
			var before syscall.Stat_t
			if err := syscall.Lstat(shmFile(name), &before); err != nil {
				t.Fatal(err)
			}
			// A taken name fails before any memory is reserved: even a
			// block larger than /dev/shm gets fs.ErrExist, not ENOSPC.
			var st syscall.Statfs_t
			if err := syscall.Statfs(shmDir, &st); err != nil {
				t.Fatal(err)
			}
			huge := min(int64(st.Blocks)*st.Bsize+1<<30, 1<<45)
			for _, n := range []string{name, "/" + name} {
				b, err := ndshm.Create(n, ndshm.Spec{DType: ndshm.Uint8, Shape: []int{int(huge)}})
				if b != nil {
					b.Close()
					t.Fatalf("Create(%q) of %d bytes over a %s succeeded", n, huge, c.what)
				}
				assertPathErr(t, err, "create", name, fs.ErrExist)
				b, err = ndshm.Create(n, ndshm.Spec{DType: ndshm.Uint8, Shape: []int{10}})
				if b != nil {
					b.Close()
					t.Fatalf("Create(%q) over a %s succeeded", n, c.what)
				}
				assertPathErr(t, err, "create", name, fs.ErrExist)
				if !errors.Is(err, syscall.EEXIST) && !errors.Is(err, fs.ErrExist) {
					t.Errorf("Create: %v", err)
				}
			}
			var after syscall.Stat_t
			if err := syscall.Lstat(shmFile(name), &after); err != nil {
				t.Fatalf("the %s is gone: %v", c.what, err)
			}
			if after.Ino != before.Ino || after.Size != before.Size || after.Mode != before.Mode {
				t.Errorf("the %s changed: %+v, was %+v", c.what, after, before)
			}
		})
	}
}

// Two creators racing for one name: exactly one wins, the other gets
// fs.ErrExist, and the winner's block is intact.
func TestCreateRace(t *testing.T) {
	name := shmtest.Name()
	const n = 8
	var wg sync.WaitGroup
	blocks := make([]*ndshm.Block, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			blocks[i], errs[i] = ndshm.Create(name, ndshm.Spec{DType: ndshm.Int64, Shape: []int{i + 1}})
		})
	}
	wg.Wait()
	won := -1
	for i := range n {
		if errs[i] == nil {
			if won >= 0 {
				t.Errorf("both creators %d and %d won", won, i)
			}
			won = i
			defer blocks[i].Close()
			continue
		}
		assertPathErr(t, errs[i], "create", name, fs.ErrExist)
	}
	if won < 0 {
		t.Fatal("no creator won")
	}
	info, err := ndshm.Stat(name)
	if err != nil || !slices.Equal(info.Spec.Shape, []int{won + 1}) {
		t.Errorf("Stat = %+v, %v; want the winner's shape [%d]", info.Spec, err, won+1)
	}
}

func TestOpenMissing(t *testing.T) {
	name := shmtest.Name()
	b, err := ndshm.Open(name)
	if b != nil {
		t.Fatal("Open of a missing name returned a block")
	}
	assertPathErr(t, err, "open", name, fs.ErrNotExist)
	_, err = ndshm.Stat(name)
	assertPathErr(t, err, "stat", name, fs.ErrNotExist)
	assertPathErr(t, ndshm.Unlink(name), "unlink", name, fs.ErrNotExist)
	_, err = ndshm.OpenRaw(name, spec34)
	assertPathErr(t, err, "open", name, fs.ErrNotExist)
}

func TestCloseLifecycle(t *testing.T) {
	name := shmtest.Name()
	b, err := ndshm.Create(name, spec34)
	if err != nil {
		t.Fatal(err)
	}
	if b.Name() != name {
		t.Errorf("Name() = %q, want %q", b.Name(), name)
	}
	if !exists(t, name) {
		t.Fatal("Create made no file")
	}
	ino := inode(t, shmFile(name))
	if !mapped(t, ino) {
		t.Errorf("block not in /proc/self/maps")
	}
	o, err := ndshm.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Close(); err != nil {
		t.Errorf("Close of an opened block: %v", err)
	}
	if !exists(t, name) {
		t.Fatal("closing a block that was only opened removed its name")
	}
	for i := range 2 {
		if err := b.Close(); err != nil {
			t.Errorf("Close #%d: %v", i+1, err)
		}
		if err := o.Close(); err != nil {
			t.Errorf("second Close of the opened block #%d: %v", i+1, err)
		}
	}
	if exists(t, name) {
		t.Error("Close of an owned block left its name")
		ndshm.Unlink(name)
	}
	if mapped(t, ino) {
		t.Errorf("block still mapped after Close")
	}
	_, err = ndshm.Stat(name)
	assertPathErr(t, err, "stat", name, fs.ErrNotExist)

	// Use after Close.
	if _, err := ndshm.View[float64](b); !errors.Is(err, os.ErrClosed) {
		t.Errorf("View after Close: %v, want os.ErrClosed", err)
	}
	if _, err := ndshm.View[float64](o); !errors.Is(err, os.ErrClosed) {
		t.Errorf("View of an opened block after Close: %v, want os.ErrClosed", err)
	}
	if f, err := b.File(); !errors.Is(err, os.ErrClosed) {
		t.Errorf("File after Close: %v, want os.ErrClosed", err)
		f.Close()
	}
	if _, err := b.WriteTo(io.Discard); !errors.Is(err, os.ErrClosed) {
		t.Errorf("WriteTo after Close: %v, want os.ErrClosed", err)
	}
	// What does not touch the data still answers.
	if b.Name() != name || !sameSpec(b.Spec(), spec34) || !b.DType().Equal(ndshm.Float64) {
		t.Errorf("after Close: Name %q Spec %v", b.Name(), b.Spec())
	}
}

func TestPersistent(t *testing.T) {
	name := shmtest.Name()
	b, err := ndshm.Create(name, spec34, ndshm.Persistent())
	if err != nil {
		t.Fatal(err)
	}
	removeAtEnd(t, name)
	bf := floats(t, b)
	for i := range bf {
		bf[i] = float64(i) * 2
	}
	if !b.Info().Persistent {
		t.Error("Info().Persistent is false")
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if !exists(t, name) {
		t.Fatal("Close removed a persistent block")
	}
	info, err := ndshm.Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	// Its creator, this process, still runs: a persistent block's creator
	// is known by its pid and start time.
	if !info.Persistent || !info.CreatorAlive || info.Kind != ndshm.KindArray {
		t.Errorf("Stat after Close = %+v", info)
	}
	o, err := ndshm.Open("/" + name)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range floats(t, o) {
		if v != float64(i)*2 {
			t.Errorf("reopened element %d = %v, want %v", i, v, float64(i)*2)
		}
	}
	o.Close()
	if !exists(t, name) {
		t.Fatal("closing the reopened block removed it")
	}
	if err := ndshm.Unlink("/" + name); err != nil {
		t.Fatal(err)
	}
	if exists(t, name) {
		t.Fatal("Unlink left the name")
	}
	assertPathErr(t, ndshm.Unlink(name), "unlink", name, fs.ErrNotExist)
}

// Closing an owned block whose name was unlinked and taken by another
// block must not remove the newcomer.
func TestCloseSparesSuccessor(t *testing.T) {
	name := shmtest.Name()
	a, err := ndshm.Create(name, spec34)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if err := ndshm.Unlink(name); err != nil {
		t.Fatal(err)
	}
	b, err := ndshm.Create(name, ndshm.Spec{DType: ndshm.Int8, Shape: []int{5}}, ndshm.Persistent())
	if err != nil {
		t.Fatal(err)
	}
	removeAtEnd(t, name)
	b.Close()
	if err := a.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	info, err := ndshm.Stat(name)
	if err != nil {
		t.Fatalf("the successor block is gone: %v", err)
	}
	if !info.Spec.DType.Equal(ndshm.Int8) {
		t.Errorf("Stat = %v, want the successor's int8 block", info.Spec)
	}
}

// The block outlives its name while mapped: the owner's Close unlinks it,
// and another Block that opened it still reads and writes the memory.
func TestMappingOutlivesName(t *testing.T) {
	name := shmtest.Name()
	a, err := ndshm.Create(name, spec34)
	if err != nil {
		t.Fatal(err)
	}
	o, err := ndshm.Open(name)
	if err != nil {
		a.Close()
		t.Fatal(err)
	}
	defer o.Close()
	floats(t, a)[5] = 42
	a.Close()
	if exists(t, name) {
		t.Fatal("owned block's name survived Close")
	}
	f := floats(t, o)
	if f[5] != 42 {
		t.Errorf("after the owner closed: element 5 = %v, want 42", f[5])
	}
	f[6] = 43
	if f[6] != 43 {
		t.Error("cannot write after the owner closed")
	}
}

func TestOpenSharesMemory(t *testing.T) {
	for _, opts := range [][]ndshm.Option{nil, {ndshm.Persistent()}} {
		name := shmtest.Name()
		c, err := ndshm.Create(name, spec34, opts...)
		if err != nil {
			t.Fatal(err)
		}
		removeAtEnd(t, name)
		o, err := ndshm.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		if !sameSpec(o.Spec(), spec34) || o.Name() != name {
			t.Errorf("Open: name %q spec %v", o.Name(), o.Spec())
		}
		cf, of := floats(t, c), floats(t, o)
		for i := range cf {
			cf[i] = float64(i) + 0.25
		}
		for i := range of {
			if of[i] != float64(i)+0.25 {
				t.Errorf("opener sees element %d = %v, want %v", i, of[i], float64(i)+0.25)
			}
			of[i] = -float64(i)
		}
		for i := range cf {
			if cf[i] != -float64(i) {
				t.Errorf("creator sees element %d = %v, want %v", i, cf[i], -float64(i))
			}
		}
		if !bytes.Equal(c.Bytes(), o.Bytes()) {
			t.Error("Bytes differ")
		}
		o.Close()
		c.Close()
	}
}

func TestPerm(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	cases := []struct {
		umask      int
		perm       fs.FileMode // 0: no Perm option
		persistent bool
		want       fs.FileMode
	}{
		{0, 0o640, false, 0o640},
		{0, 0o604, false, 0o604},
		{0, 0o666, false, 0o666},
		{0, 0o755 | fs.ModeSetuid | fs.ModeSticky, false, 0o755},
		{0, 0, false, 0o600},
		{0o022, 0, false, 0o600},
		{0o022, 0o666, false, 0o644},
		{0o077, 0o640, false, 0o600},
		{0o022, 0o640, true, 0o640},
		{0, 0o640, true, 0o640},
	}
	for _, c := range cases {
		var opts []ndshm.Option
		if c.perm != 0 {
			opts = append(opts, ndshm.Perm(c.perm))
		}
		if c.persistent {
			opts = append(opts, ndshm.Persistent())
		}
		syscall.Umask(c.umask)
		b := tBlock(t, spec34, opts...)
		syscall.Umask(0)
		if c.persistent {
			removeAtEnd(t, b.Name())
		}
		st, err := os.Stat(shmFile(b.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if got := st.Mode(); got != c.want {
			t.Errorf("umask %#o, Perm(%v), persistent %v: mode %v, want %v", c.umask, c.perm, c.persistent, got, c.want)
		}
		if !st.Mode().IsRegular() {
			t.Errorf("mode %v is not a regular file", st.Mode())
		}
	}
}

func TestNameRules(t *testing.T) {
	base := shmtest.Name()
	long := func(n int) string { return base + strings.Repeat("x", n-len(base)) }
	good := []struct{ name, file string }{
		{base, base},
		{"/" + base + "-slash", base + "-slash"},
		{long(255), long(255)},
		{"/" + long(255), long(255)},
		{"." + base, "." + base},
		{".." + base, ".." + base},
		{base + " with spaces\tand\ttabs", base + " with spaces\tand\ttabs"},
		{base + "-ü\xff", base + "-ü\xff"},
	}
	for _, c := range good {
		t.Run(fmt.Sprintf("ok/%.20q", c.name), func(t *testing.T) {
			b, err := ndshm.Create(c.name, spec34)
			if err != nil {
				t.Fatalf("Create(%q): %v", c.name, err)
			}
			defer b.Close()
			removeAtEnd(t, c.file)
			if b.Name() != c.file {
				t.Errorf("Name() = %q, want %q", b.Name(), c.file)
			}
			if !exists(t, c.file) {
				t.Fatalf("no file %q", c.file)
			}
			info, err := ndshm.Stat(c.name)
			if err != nil || info.Name != c.file {
				t.Errorf("Stat(%q) = %q, %v", c.name, info.Name, err)
			}
			o, err := ndshm.Open(c.name)
			if err != nil {
				t.Fatalf("Open(%q): %v", c.name, err)
			}
			if o.Name() != c.file {
				t.Errorf("opened Name() = %q, want %q", o.Name(), c.file)
			}
			o.Close()
			if err := ndshm.Unlink(c.name); err != nil {
				t.Errorf("Unlink(%q): %v", c.name, err)
			}
			if exists(t, c.file) {
				t.Errorf("Unlink(%q) left %q", c.name, c.file)
			}
		})
	}

	bad := []string{
		"", "/", ".", "..", "/.", "/..", "//", "//" + base, "a/b", base + "/", "/" + base + "/x",
		"a\x00b", "\x00", base + "\x00", long(256), "/" + long(256), strings.Repeat("y", 4096),
	}
	// Every bad name fails with the same sentinel, before touching the
	// file system (so never ENOENT, EISDIR or ENAMETOOLONG).
	_, ref := ndshm.Stat("")
	var refPE *fs.PathError
	if !errors.As(ref, &refPE) {
		t.Fatalf("Stat(\"\"): %v", ref)
	}
	var errno syscall.Errno
	if errors.As(ref, &errno) || errors.Is(ref, ndshm.ErrFormat) || errors.Is(ref, fs.ErrNotExist) {
		t.Fatalf("Stat(\"\") = %v, not a name error", ref)
	}
	before, _ := os.ReadDir(shmDir)
	for _, name := range bad {
		t.Run(fmt.Sprintf("bad/%.20q", name), func(t *testing.T) {
			check := func(op string, err error) {
				t.Helper()
				assertPathErr(t, err, op, name, nil)
				var pe *fs.PathError
				if errors.As(err, &pe) && pe.Err != refPE.Err {
					t.Errorf("%s(%q): %v, want the name error %v", op, name, err, refPE.Err)
				}
			}
			b, err := ndshm.Create(name, spec34)
			if b != nil {
				b.Close()
				t.Fatalf("Create(%q) succeeded", name)
			}
			check("create", err)
			b, err = ndshm.Open(name)
			if b != nil {
				b.Close()
				t.Fatalf("Open(%q) succeeded", name)
			}
			check("open", err)
			b, err = ndshm.OpenRaw(name, spec34)
			if b != nil {
				b.Close()
				t.Fatalf("OpenRaw(%q) succeeded", name)
			}
			check("open", err)
			_, err = ndshm.Stat(name)
			check("stat", err)
			check("unlink", ndshm.Unlink(name))
			p := writeNPY(t, npyDict("'<f8'", false, []int{2}), make([]byte, 16))
			b, err = ndshm.Load(p, name)
			if b != nil {
				b.Close()
				t.Fatalf("Load(%q) succeeded", name)
			}
			check("create", err)
		})
	}
	after, _ := os.ReadDir(shmDir)
	for _, e := range after {
		if !slices.ContainsFunc(before, func(d os.DirEntry) bool { return d.Name() == e.Name() }) && strings.HasPrefix(e.Name(), base) {
			t.Errorf("bad names left %q in /dev/shm", e.Name())
		}
	}
}

func TestStatAndList(t *testing.T) {
	for _, c := range []struct {
		what string
		spec ndshm.Spec
		opts []ndshm.Option
	}{
		{"owned", ndshm.Spec{DType: ndshm.Float32, Shape: []int{5, 3}}, nil},
		{"persistent", ndshm.Spec{DType: ndshm.Int16, Shape: []int{2, 3, 4}, Fortran: true}, []ndshm.Option{ndshm.Persistent()}},
		{"0-d", ndshm.Spec{DType: ndshm.Complex128}, nil},
		{"empty", ndshm.Spec{DType: ndshm.Uint8, Shape: []int{0, 9}}, nil},
		{"big", ndshm.Spec{DType: ndshm.Float64, Shape: []int{1000, 100}}, nil},
	} {
		t.Run(c.what, func(t *testing.T) {
			persistent := len(c.opts) > 0
			t0 := time.Now()
			b := tBlock(t, c.spec, c.opts...)
			t1 := time.Now()
			if persistent {
				removeAtEnd(t, b.Name())
			}
			st, err := os.Stat(shmFile(b.Name()))
			if err != nil {
				t.Fatal(err)
			}
			n := int64(c.spec.DType.Size() * shapeLen(c.spec.Shape))
			check := func(what string, info ndshm.Info, alive bool) {
				t.Helper()
				if info.Name != b.Name() || info.Kind != ndshm.KindArray || !sameSpec(info.Spec, c.spec) ||
					info.Persistent != persistent || info.Anonymous ||
					info.CreatorPID != os.Getpid() || info.CreatorStart != startTime(t, os.Getpid()) ||
					info.CreatorAlive != alive {
					t.Errorf("%s = %+v; want name %q, spec %v, persistent %v, pid %d, start %d, alive %v",
						what, info, b.Name(), c.spec, persistent, os.Getpid(), startTime(t, os.Getpid()), alive)
				}
				if info.FileSize != st.Size() {
					t.Errorf("%s: FileSize %d, file has %d bytes", what, info.FileSize, st.Size())
				}
				if info.DataOffset <= 0 || info.DataOffset%4096 != 0 ||
					info.FileSize != (info.DataOffset+n+4095)/4096*4096+4096 {
					t.Errorf("%s: DataOffset %d, FileSize %d for %d data bytes", what, info.DataOffset, info.FileSize, n)
				}
				if info.Created.Before(t0.Truncate(time.Nanosecond)) || info.Created.After(t1) {
					t.Errorf("%s: Created %v, not within [%v, %v]", what, info.Created, t0, t1)
				}
			}
			check("Info()", b.Info(), true)
			info, err := ndshm.Stat(b.Name())
			if err != nil {
				t.Fatal(err)
			}
			check("Stat", info, true)
			if !slices.Contains(info.Users, os.Getpid()) {
				t.Errorf("Stat: Users %v lacks this process, which maps the block", info.Users)
			}
			list, err := ndshm.List()
			if err != nil {
				t.Fatalf("List: %v", err)
			}
			if !slices.IsSortedFunc(list, func(a, b ndshm.Info) int { return strings.Compare(a.Name, b.Name) }) {
				t.Error("List is not sorted by name")
			}
			i := slices.IndexFunc(list, func(i ndshm.Info) bool { return i.Name == b.Name() })
			if i < 0 {
				t.Fatalf("List has no %q", b.Name())
			}
			check("List", list[i], true)

			// The data sits where DataOffset says.
			for k := range b.Bytes() {
				b.Bytes()[k] = byte(k*7 + 1)
			}
			file, err := os.ReadFile(shmFile(b.Name()))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(file[info.DataOffset:info.DataOffset+n], b.Bytes()) {
				t.Error("the file's bytes at DataOffset are not the block's data")
			}
			if persistent {
				b.Close()
				info, err := ndshm.Stat(b.Name())
				if err != nil {
					t.Fatal(err)
				}
				check("Stat after Close", info, true) // the creator, this process, runs
			}
		})
	}
}

func TestCreateAnon(t *testing.T) {
	a, err := ndshm.CreateAnon(spec34)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if a.Name() != "" {
		t.Errorf("Name() = %q", a.Name())
	}
	info := a.Info()
	if !info.Anonymous || !info.Persistent || info.Name != "" || info.Kind != ndshm.KindArray || !info.CreatorAlive ||
		!sameSpec(info.Spec, spec34) || info.CreatorPID != os.Getpid() {
		t.Errorf("Info() = %+v", info)
	}
	f, err := a.File()
	if err != nil {
		t.Fatal(err)
	}
	ino := fdInode(t, f)
	o, err := ndshm.FromFile(f)
	if err != nil {
		t.Fatal(err)
	}
	f.Close() // FromFile keeps its own descriptor
	defer o.Close()
	if o.Name() != "" || !sameSpec(o.Spec(), spec34) || !o.Info().Anonymous {
		t.Errorf("FromFile: name %q, info %+v", o.Name(), o.Info())
	}
	af, of := floats(t, a), floats(t, o)
	for i := range af {
		af[i] = float64(i) * 3
	}
	for i := range of {
		if of[i] != float64(i)*3 {
			t.Errorf("opened anon block element %d = %v, want %v", i, of[i], float64(i)*3)
		}
		of[i] = 1 / float64(i+1)
	}
	for i := range af {
		if af[i] != 1/float64(i+1) {
			t.Errorf("creator sees element %d = %v, want %v", i, af[i], 1/float64(i+1))
		}
	}

	// The memfd is sealed: nobody can shrink it under a mapping or grow it.
	g, err := a.File()
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	st, err := g.Stat()
	if err != nil {
		t.Fatal(err)
	}
	size := st.Size()
	if size != info.FileSize {
		t.Errorf("memfd has %d bytes, Info says %d", size, info.FileSize)
	}
	for _, n := range []int64{0, size - 4096, size + 4096, 1 << 30} {
		if err := g.Truncate(n); !errors.Is(err, syscall.EPERM) {
			t.Errorf("ftruncate(%d) of an anonymous block: %v, want EPERM", n, err)
		}
	}
	if _, err := g.WriteAt([]byte{1}, size); !errors.Is(err, syscall.EPERM) {
		t.Errorf("write past the end of an anonymous block: %v, want EPERM", err)
	}
	const fGetSeals, sealSeal, sealShrink, sealGrow = 1034, 1, 2, 4
	seals, _, errno := syscall.Syscall(syscall.SYS_FCNTL, g.Fd(), fGetSeals, 0)
	if errno != 0 {
		t.Fatal(errno)
	}
	if want := uintptr(sealSeal | sealShrink | sealGrow); seals&want != want {
		t.Errorf("seals = %#x, want %#x", seals, want)
	}

	a.Close()
	if !mapped(t, ino) {
		t.Error("the opened block's mapping went with the creator's Close")
	}
	if of[3] != 0.25 {
		t.Errorf("after the creator closed: element 3 = %v", of[3])
	}
	o.Close()
	if mapped(t, ino) {
		t.Error("anonymous block still mapped after both closed")
	}
}

func TestFromFile(t *testing.T) {
	b := tBlock(t, spec34)
	floats(t, b)[7] = 7.5
	f, err := os.OpenFile(shmFile(b.Name()), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	o, err := ndshm.FromFile(f)
	f.Close()
	if err != nil {
		t.Fatalf("FromFile of a named block: %v", err)
	}
	defer o.Close()
	if got := floats(t, o)[7]; got != 7.5 {
		t.Errorf("element 7 = %v", got)
	}
	// File of a named block is a new descriptor for the same file.
	g, err := b.File()
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if fdInode(t, g) != inode(t, shmFile(b.Name())) {
		t.Error("File() is another file")
	}

	// Not a block.
	p := t.TempDir() + "/x"
	os.WriteFile(p, bytes.Repeat([]byte("not a block "), 2000), 0o600)
	h, _ := os.Open(p)
	defer h.Close()
	o2, err := ndshm.FromFile(h)
	if o2 != nil {
		o2.Close()
	}
	assertPathErr(t, err, "open", p, ndshm.ErrFormat)
}

func TestChildOpensByName(t *testing.T) {
	for _, opts := range [][]ndshm.Option{nil, {ndshm.Persistent()}} {
		b := tBlock(t, ndshm.Spec{DType: ndshm.Float64, Shape: []int{4, 5}, Fortran: true}, opts...)
		if len(opts) > 0 {
			removeAtEnd(t, b.Name())
		}
		cmd := shmtest.Command("block-writer", "/"+b.Name(), "100")
		if out, err := cmd.Output(); err != nil {
			t.Fatalf("child: %v %s", err, out)
		}
		for i, v := range floats(t, b) {
			if v != 100+float64(i) {
				t.Errorf("element %d = %v, want %v", i, v, 100+float64(i))
			}
		}
		if !exists(t, b.Name()) {
			t.Error("the child's Close removed the block")
		}
	}
}

func TestChildOpensDescriptor(t *testing.T) {
	for _, anon := range []bool{true, false} {
		var b *ndshm.Block
		if anon {
			var err error
			if b, err = ndshm.CreateAnon(spec34); err != nil {
				t.Fatal(err)
			}
			defer b.Close()
		} else {
			b = tBlock(t, spec34)
		}
		f, err := b.File()
		if err != nil {
			t.Fatal(err)
		}
		cmd := shmtest.Command("fd-writer", "-7")
		cmd.ExtraFiles = []*os.File{f}
		out, err := cmd.Output()
		f.Close()
		if err != nil {
			t.Fatalf("child: %v %s", err, out)
		}
		for i, v := range floats(t, b) {
			if v != -7+float64(i) {
				t.Errorf("anon %v: element %d = %v, want %v", anon, i, v, -7+float64(i))
			}
		}
	}
}

// An owned block's creator holds the liveness lock until it dies, however
// it dies.
func TestCreatorKilled(t *testing.T) {
	name := shmtest.Name()
	cmd := shmtest.Command("block-owner", name)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	removeAtEnd(t, name)
	defer func() {
		stdin.Close()
		cmd.Process.Kill()
		cmd.Wait()
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if line != "ready\n" {
		t.Fatalf("child said %q, %v", line, err)
	}
	pid := cmd.Process.Pid
	info, err := ndshm.Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	if !info.CreatorAlive || info.CreatorPID != pid || info.Persistent || info.CreatorStart != startTime(t, pid) ||
		!slices.Equal(info.Users, []int{pid}) {
		t.Errorf("while the creator lives: %+v (pid %d)", info, pid)
	}
	// Opening it here takes no lock: the creator's death still shows.
	o, err := ndshm.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child ended with %v", err)
	}
	info, err = ndshm.Stat(name)
	if err != nil {
		t.Fatalf("the killed creator's block: %v", err)
	}
	if info.CreatorAlive || info.CreatorPID != pid || !info.Orphan() || !slices.Equal(info.Users, []int{os.Getpid()}) {
		t.Errorf("after SIGKILL: CreatorAlive %v, CreatorPID %d (child %d), users %v", info.CreatorAlive, info.CreatorPID, pid, info.Users)
	}
	list, err := ndshm.List()
	if err != nil {
		t.Fatal(err)
	}
	if i := slices.IndexFunc(list, func(i ndshm.Info) bool { return i.Name == name }); i < 0 || list[i].CreatorAlive {
		t.Errorf("List does not show %q with its creator dead", name)
	}
	if err := ndshm.Unlink(name); err != nil {
		t.Fatal(err)
	}
}

// A creator that exits normally closes (and so unlinks) its block.
func TestCreatorExits(t *testing.T) {
	name := shmtest.Name()
	cmd := shmtest.Command("block-owner", name)
	cmd.Stdin = strings.NewReader("")
	removeAtEnd(t, name)
	out, err := cmd.Output()
	if err != nil || string(out) != "ready\n" {
		t.Fatalf("child: %q, %v", out, err)
	}
	if exists(t, name) {
		t.Errorf("the child's owned block outlived its Close")
	}
}

// Create must copy the caller's shape: the Block is the only owner of its
// Spec, and views are sized from it.
func TestCreateCopiesShape(t *testing.T) {
	makers := map[string]func(t *testing.T, s ndshm.Spec) *ndshm.Block{
		"Create": func(t *testing.T, s ndshm.Spec) *ndshm.Block { return tBlock(t, s) },
		"CreateAnon": func(t *testing.T, s ndshm.Spec) *ndshm.Block {
			b, err := ndshm.CreateAnon(s)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { b.Close() })
			return b
		},
		"OpenRaw": func(t *testing.T, s ndshm.Spec) *ndshm.Block {
			name := shmtest.Name()
			removeAtEnd(t, name)
			if err := os.WriteFile(shmFile(name), make([]byte, 3*4*8), 0o600); err != nil {
				t.Fatal(err)
			}
			b, err := ndshm.OpenRaw(name, s)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { b.Close() })
			return b
		},
	}
	for what, mk := range makers {
		t.Run(what, func(t *testing.T) {
			shape := []int{3, 4}
			b := mk(t, ndshm.Spec{DType: ndshm.Float64, Shape: shape})
			shape[0], shape[1] = 1000, 1000
			if got := b.Spec().Shape; !slices.Equal(got, []int{3, 4}) {
				t.Errorf("after the caller reused its shape slice: Spec().Shape = %v, want [3 4]", got)
			}
			a, err := ndshm.View[float64](b)
			if err != nil {
				t.Fatal(err)
			}
			if got := a.Shape(); !slices.Equal(got, []int{3, 4}) {
				t.Errorf("View shape = %v, want [3 4]", got)
			}
			if got := b.Info().Spec.Shape; !slices.Equal(got, []int{3, 4}) {
				t.Errorf("Info().Spec.Shape = %v, want [3 4]", got)
			}
			var out bytes.Buffer
			if _, err := b.WriteTo(&out); err != nil || !bytes.Contains(out.Bytes(), []byte("(3, 4)")) {
				t.Errorf("WriteTo wrote header %.80q, %v", out.Bytes(), err)
			}
		})
	}
	// Spec() hands out copies too.
	b := tBlock(t, spec34)
	b.Spec().Shape[0] = 99
	if got := b.Spec().Shape; !slices.Equal(got, []int{3, 4}) {
		t.Errorf("writing to Spec().Shape changed the block: %v", got)
	}
}

// Block methods are documented safe for concurrent use, Close included.
func TestConcurrentClose(t *testing.T) {
	for range 20 {
		b, err := ndshm.Create(shmtest.Name(), spec34)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		for range 4 {
			wg.Go(func() {
				<-start
				for range 50 {
					_ = b.Info()
					_ = b.Spec()
					_ = b.DType()
					_ = b.Name()
					if _, err := ndshm.View[float64](b); err != nil && !errors.Is(err, os.ErrClosed) {
						t.Error(err)
					}
					if f, err := b.File(); err == nil {
						f.Close()
					}
					b.WriteTo(io.Discard)
				}
			})
		}
		wg.Go(func() {
			<-start
			if err := b.Close(); err != nil {
				t.Error(err)
			}
		})
		close(start)
		wg.Wait()
	}
}

// Info after Close still describes the block as it was, and no longer
// claims a live creator: the lock went with the descriptor.
func TestInfoAfterClose(t *testing.T) {
	b, err := ndshm.Create(shmtest.Name(), spec34)
	if err != nil {
		t.Fatal(err)
	}
	before := b.Info()
	b.Close()
	after := b.Info()
	if after.FileSize != before.FileSize {
		t.Errorf("Info().FileSize after Close = %d, was %d", after.FileSize, before.FileSize)
	}
	if after.CreatorAlive {
		t.Error("Info().CreatorAlive after the creator closed the block")
	}
}

func TestLoadWriteTo(t *testing.T) {
	// Headers past 64 and 128 bytes, and one long enough for
	// several 64-byte blocks, check the 64-byte alignment.
	long := append(slices.Clone(arrLayouts),
		arrLayout{"12d", append(slices.Repeat([]int{1}, 11), 3), false},
		arrLayout{"20d-F", append(slices.Repeat([]int{1}, 19), 2), true},
		arrLayout{"32d", append(slices.Repeat([]int{1}, 31), 2), false},
		arrLayout{"big dims", []int{1 << 20, 0, 12345}, false})
	for _, l := range long {
		t.Run(l.name, func(t *testing.T) {
			s := ndshm.Spec{DType: ndshm.Int32, Shape: l.shape, Fortran: l.fortran}
			b := tBlock(t, s)
			for i := range b.Bytes() {
				b.Bytes()[i] = byte(i*13 + 5)
			}
			var buf bytes.Buffer
			n, err := b.WriteTo(&buf)
			if err != nil || n != int64(buf.Len()) {
				t.Fatalf("WriteTo = %d, %v; wrote %d", n, err, buf.Len())
			}
			shape := l.shape
			if shape == nil {
				shape = []int{}
			}
			want := append(npyAligned(t, npyDict("'<i4'", l.fortran, shape), 64), b.Bytes()...)
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("WriteTo wrote\n%q\nwant\n%q", buf.Bytes(), want)
			}
			p := t.TempDir() + "/x.npy"
			os.WriteFile(p, buf.Bytes(), 0o600)
			c, err := ndshm.Load(p, shmtest.Name())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if !sameSpec(c.Spec(), s) || !bytes.Equal(c.Bytes(), b.Bytes()) {
				t.Errorf("Load(WriteTo) = %v % x, want %v % x", c.Spec(), c.Bytes(), s, b.Bytes())
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	good := npyAligned(t, npyDict("'<f8'", false, []int{4}), 64)
	cases := []struct {
		what   string
		file   []byte
		target error
	}{
		{"short data", append(slices.Clone(good), make([]byte, 31)...), ndshm.ErrFormat},
		{"no data", good, ndshm.ErrFormat},
		{"empty", nil, ndshm.ErrFormat},
		{"bad magic", append([]byte("\x93NUMPX"), good[6:]...), ndshm.ErrFormat},
		{"unsupported dtype", append(npyAligned(t, npyDict("'<U4'", false, []int{4}), 64), make([]byte, 64)...), ndshm.ErrDType},
		{"object dtype", append(npyAligned(t, npyDict("'|O'", false, []int{4}), 64), make([]byte, 64)...), ndshm.ErrDType},
		{"negative dim", append(npyAligned(t, npyDict("'<f8'", false, []int{-4}), 64), make([]byte, 64)...), ndshm.ErrFormat},
	}
	for _, c := range cases {
		t.Run(c.what, func(t *testing.T) {
			p := t.TempDir() + "/x.npy"
			os.WriteFile(p, c.file, 0o600)
			for _, opts := range [][]ndshm.Option{nil, {ndshm.Persistent()}} {
				name := shmtest.Name()
				b, err := ndshm.Load(p, name, opts...)
				if b != nil {
					b.Close()
					ndshm.Unlink(name)
					t.Fatal("Load succeeded")
				}
				if !errors.Is(err, c.target) {
					t.Errorf("Load: %v, want %v", err, c.target)
				}
				if exists(t, name) {
					t.Errorf("failed Load left %q", name)
					ndshm.Unlink(name)
				}
			}
		})
	}
	// Loading over an existing name leaves it alone.
	b := tBlock(t, spec34)
	p := t.TempDir() + "/x.npy"
	os.WriteFile(p, append(good, make([]byte, 32)...), 0o600)
	if c, err := ndshm.Load(p, b.Name()); !errors.Is(err, fs.ErrExist) {
		if c != nil {
			c.Close()
		}
		t.Errorf("Load over an existing block: %v", err)
	}
	if !exists(t, b.Name()) {
		t.Error("Load over an existing block removed it")
	}
	if _, err := ndshm.Load(t.TempDir()+"/missing.npy", shmtest.Name()); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load of a missing file: %v", err)
	}
}

func TestRawBlock(t *testing.T) {
	name := shmtest.Name()
	removeAtEnd(t, name)
	data := make([]byte, 100)
	for i := range 12 {
		lendian.PutUint64(data[8*i:], math.Float64bits(float64(i)/2))
	}
	if err := os.WriteFile(shmFile(name), data, 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := ndshm.OpenRaw("/"+name, spec34)
	if err != nil {
		t.Fatal(err)
	}
	info := b.Info()
	if info.Kind != ndshm.KindRaw || !info.Persistent || info.DataOffset != 0 || info.Name != name {
		t.Errorf("raw Info() = %+v", info)
	}
	if len(b.Bytes()) != 96 {
		t.Errorf("raw Bytes() has %d bytes, want 96", len(b.Bytes()))
	}
	a, err := ndshm.View[float64](b)
	if err != nil {
		t.Fatal(err)
	}
	for i, idx := range allIndices([]int{3, 4}, false) {
		if got := a.At(idx...); got != float64(i)/2 {
			t.Errorf("At(%v) = %v, want %v", idx, got, float64(i)/2)
		}
	}
	a.Set(-1, 2, 3)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(shmFile(name))
	if v := math.Float64frombits(lendian.Uint64(got[88:])); v != -1 || len(got) != 100 {
		t.Errorf("raw file after Set and Close: %d bytes, element 11 = %v", len(got), v)
	}
	// A raw file is no ndshm block.
	_, err = ndshm.Stat(name)
	assertPathErr(t, err, "stat", name, ndshm.ErrFormat)

	// Too small for the spec; an empty file; a 0-size spec on an empty file.
	for _, c := range []struct {
		size int
		spec ndshm.Spec
		ok   bool
	}{
		{95, spec34, false},
		{0, spec34, false},
		{7, ndshm.Spec{DType: ndshm.Float64}, false},
		{8, ndshm.Spec{DType: ndshm.Float64}, true},
		{0, ndshm.Spec{DType: ndshm.Float64, Shape: []int{0}}, true},
		{0, ndshm.Spec{DType: ndshm.Float64, Shape: []int{5, 0}, Fortran: true}, true},
	} {
		os.WriteFile(shmFile(name), make([]byte, c.size), 0o600)
		b, err := ndshm.OpenRaw(name, c.spec)
		if c.ok {
			if err != nil {
				t.Errorf("OpenRaw of %d bytes as %v: %v", c.size, c.spec, err)
				continue
			}
			a, err := ndshm.View[float64](b)
			if err != nil || a.Len() != shapeLen(c.spec.Shape) {
				t.Errorf("View of a raw %v: %v", c.spec, err)
			}
			if err := b.Close(); err != nil {
				t.Errorf("Close of a raw %v: %v", c.spec, err)
			}
			continue
		}
		if b != nil {
			b.Close()
		}
		assertPathErr(t, err, "open", name, ndshm.ErrFormat)
	}
}

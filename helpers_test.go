package ndshm_test

// Helpers shared by views_test.go, block_test.go, corrupt_test.go and the
// other tests of the root package. Everything here is computed from
// docs/FORMAT.md and NumPy's rules, independently of the library.

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/shmtest"
)

const shmDir = "/dev/shm"

// shmFile is the file behind a block name, by the shm_open rule: one
// leading '/' is dropped.
func shmFile(name string) string { return shmDir + "/" + strings.TrimPrefix(name, "/") }

// tBlock creates an owned block under a fresh name and closes it (so
// unlinking it) when the test ends.
func tBlock(t testing.TB, s ndshm.Spec, opts ...ndshm.Option) *ndshm.Block {
	t.Helper()
	b, err := ndshm.Create(shmtest.Name(), s, opts...)
	if err != nil {
		t.Fatalf("Create(%v): %v", s, err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// removeAtEnd removes the file behind name when the test ends, whatever
// it is, ignoring its absence.
func removeAtEnd(t testing.TB, name string) {
	t.Helper()
	t.Cleanup(func() {
		if err := os.Remove(shmFile(name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("cleanup: %v", err)
		}
	})
}

// mustPanic reports whether f panics, failing the test if it does not.
func mustPanic(t testing.TB, what string, f func()) {
	t.Helper()
	if !panics(f) {
		t.Errorf("%s did not panic", what)
	}
}

func panics(f func()) (p bool) {
	defer func() {
		if recover() != nil {
			p = true
		}
	}()
	f()
	return false
}

// shapeLen is the number of elements of shape: 1 for a 0-d array.
func shapeLen(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// refOffset is the element offset of idx in a contiguous array of shape:
// the row-major formula for C order, the column-major one for Fortran.
func refOffset(idx, shape []int, fortran bool) int {
	off := 0
	if fortran {
		for k := len(shape) - 1; k >= 0; k-- {
			off = off*shape[k] + idx[k]
		}
		return off
	}
	for k := range shape {
		off = off*shape[k] + idx[k]
	}
	return off
}

// refStrides are NumPy's element strides of a contiguous array, where an
// axis of extent 0 counts as 1 (numpy: np.zeros((3, 0)).strides == (8, 8)).
func refStrides(shape []int, fortran bool) []int {
	st := make([]int, len(shape))
	n := 1
	if fortran {
		for k := range shape {
			st[k] = n
			n *= max(shape[k], 1)
		}
		return st
	}
	for k := len(shape) - 1; k >= 0; k-- {
		st[k] = n
		n *= max(shape[k], 1)
	}
	return st
}

// allIndices returns every index tuple of shape, in row-major order, or in
// column-major order if colMajor.
func allIndices(shape []int, colMajor bool) [][]int {
	n := shapeLen(shape)
	out := make([][]int, 0, n)
	if n == 0 {
		return out
	}
	idx := make([]int, len(shape))
	for range n {
		out = append(out, slices.Clone(idx))
		if colMajor {
			for k := 0; k < len(shape); k++ {
				if idx[k]++; idx[k] < shape[k] {
					break
				}
				idx[k] = 0
			}
		} else {
			for k := len(shape) - 1; k >= 0; k-- {
				if idx[k]++; idx[k] < shape[k] {
					break
				}
				idx[k] = 0
			}
		}
	}
	return out
}

// pyTuple is Python's repr of a tuple of ints.
func pyTuple(dims []int) string {
	s := make([]string, len(dims))
	for i, d := range dims {
		s[i] = strconv.Itoa(d)
	}
	if len(dims) == 1 {
		return "(" + s[0] + ",)"
	}
	return "(" + strings.Join(s, ", ") + ")"
}

// npyDict is the header dict NumPy writes for descr (a Python literal),
// order and shape.
func npyDict(descr string, fortran bool, shape []int) string {
	order := "False"
	if fortran {
		order = "True"
	}
	return fmt.Sprintf("{'descr': %s, 'fortran_order': %s, 'shape': %s, }", descr, order, pyTuple(shape))
}

// npyHeader is a version 1.0 .npy header holding dict, space-padded and
// '\n'-terminated to exactly total bytes.
func npyHeader(t testing.TB, dict string, total int) []byte {
	t.Helper()
	if 10+len(dict)+1 > total || total-10 > 0xffff {
		t.Fatalf("dict of %d bytes does not fit a %d-byte v1 header", len(dict), total)
	}
	h := make([]byte, total)
	copy(h, "\x93NUMPY\x01\x00")
	binary.LittleEndian.PutUint16(h[8:], uint16(total-10))
	n := copy(h[10:], dict)
	for i := 10 + n; i < total-1; i++ {
		h[i] = ' '
	}
	h[total-1] = '\n'
	return h
}

// npyAligned pads a header for dict to the next multiple of align.
func npyAligned(t testing.TB, dict string, align int) []byte {
	t.Helper()
	n := (10 + len(dict) + 1 + align - 1) / align * align
	return npyHeader(t, dict, n)
}

// writeNPY writes a .npy file of header dict and data in a temporary
// directory of the test, returning its path.
func writeNPY(t testing.TB, dict string, data []byte) string {
	t.Helper()
	p := t.TempDir() + "/a.npy"
	if err := os.WriteFile(p, append(npyAligned(t, dict, 64), data...), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// loadDType returns the dtype a .npy header with descr (a Python literal)
// gives, by loading a one-element file into a block.
func loadDType(t testing.TB, descr string, itemsize int) ndshm.DType {
	t.Helper()
	p := writeNPY(t, npyDict(descr, false, []int{1}), make([]byte, itemsize))
	b, err := ndshm.Load(p, shmtest.Name())
	if err != nil {
		t.Fatalf("Load of descr %s: %v", descr, err)
	}
	defer b.Close()
	return b.DType()
}

// mustDType parses s or fails the test.
func mustDType(t testing.TB, s string) ndshm.DType {
	t.Helper()
	d, err := ndshm.ParseDType(s)
	if err != nil {
		t.Fatalf("ParseDType(%q): %v", s, err)
	}
	return d
}

// sameSpec compares specs by value.
func sameSpec(a, b ndshm.Spec) bool {
	return a.DType.Equal(b.DType) && a.Fortran == b.Fortran && slices.Equal(a.Shape, b.Shape)
}

// assertPathErr checks that err is an *fs.PathError for op on path that
// wraps target (if non-nil).
func assertPathErr(t testing.TB, err error, op, path string, target error) {
	t.Helper()
	if err == nil {
		t.Errorf("%s %q: no error, want one wrapping %v", op, path, target)
		return
	}
	var pe *fs.PathError
	if !errors.As(err, &pe) {
		t.Errorf("%s %q: error %v (%T) is not an *fs.PathError", op, path, err, err)
	} else if pe.Op != op || pe.Path != path {
		t.Errorf("%s %q: PathError{Op: %q, Path: %q}, want Op %q Path %q", op, path, pe.Op, pe.Path, op, path)
	}
	if target != nil && !errors.Is(err, target) {
		t.Errorf("%s %q: error %v does not wrap %v", op, path, err, target)
	}
}

// startTime is field 22 of /proc/PID/stat, read here independently of
// the library.
func startTime(t testing.TB, pid int) uint64 {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	v, err := strconv.ParseUint(f[22-3], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// openFDs counts this process's open descriptors.
func openFDs(t testing.TB) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// mapped reports whether /proc/self/maps holds a mapping of the file
// with inode ino.
func mapped(t testing.TB, ino uint64) bool {
	t.Helper()
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	want := strconv.FormatUint(ino, 10)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) >= 6 && fs[4] == want && (strings.HasPrefix(fs[5], shmDir) || strings.HasPrefix(fs[5], "/memfd:")) {
			return true
		}
	}
	return false
}

// inode returns the inode of the file behind name.
func inode(t testing.TB, path string) uint64 {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

// fdInode returns the inode of an open file.
func fdInode(t testing.TB, f *os.File) uint64 {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

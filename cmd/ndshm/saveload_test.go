package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/describe"
	"github.com/ndshm/ndshm/internal/progress"
)

// npyOf returns the .npy file of the named block, as the library writes it.
func npyOf(t *testing.T, name string) []byte {
	t.Helper()
	b, err := ndshm.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var buf bytes.Buffer
	if _, err := b.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestSaveLoad(t *testing.T) {
	name, copyName := newName(t), newName(t)
	makeBlock(t, name, ndshm.Spec{DType: ndshm.Int16, Shape: []int{3, 5}, Fortran: true}, func(i int) int16 { return int16(i * i) })
	want := npyOf(t, name)
	path := filepath.Join(t.TempDir(), "a.npy")

	mustRun(t, "save", name, path)
	if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("save wrote %d bytes (%v), want the %d of WriteTo", len(got), err, len(want))
	}
	if got := mustRun(t, "save", name, "-"); got != string(want) {
		t.Errorf("save to - wrote %d bytes, want %d", len(got), len(want))
	}

	mustRun(t, "load", path, copyName)
	if got := npyOf(t, copyName); !bytes.Equal(got, want) {
		t.Errorf("load made a block saving as %q, want %q", got, want)
	}
	if info, err := ndshm.Stat(copyName); err != nil || !info.Persistent {
		t.Errorf("loaded block: persistent %v, %v", info.Persistent, err)
	}
	if _, _, err := ndshmRun(t, "load", path, copyName); !errors.Is(err, fs.ErrExist) {
		t.Errorf("load over an existing block: %v", err)
	}
	j := decodeJSON[describe.Block](t, mustRun(t, "load", "--json", path, "/dev/shm/"+newName(t)))
	if j.DType != "<i2" || j.Order != "F" || j.SizeBytes != 30 {
		t.Errorf("load --json: %+v", j)
	}
}

func TestSaveExisting(t *testing.T) {
	name := newName(t)
	mustRun(t, "create", name, "--dtype", "u1", "--shape", "4", "--fill", "7")
	path := filepath.Join(t.TempDir(), "old.npy")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err := ndshmRun(t, "save", name, path)
	if got, _ := os.ReadFile(path); err == nil || !strings.Contains(err.Error(), "--force") || string(got) != "old" {
		t.Errorf("save over an existing file: %v, file now %q", err, got)
	}
	mustRun(t, "save", "--force", name, path)
	if got, _ := os.ReadFile(path); !bytes.Equal(got, npyOf(t, name)) {
		t.Errorf("save --force wrote %q", got)
	}
	// The block's own file is never a target.
	if _, _, err := ndshmRun(t, "save", name, "/dev/shm/"+name, "--force"); err == nil {
		t.Error("save of a block onto itself: no error")
	}
	if _, _, err := ndshmRun(t, "save", newName(t), filepath.Join(t.TempDir(), "x.npy")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("save of a missing block: %v", err)
	}
}

// TestSaveInterrupted checks that a save that fails part way leaves no
// file behind.
func TestSaveInterrupted(t *testing.T) {
	name := newName(t)
	mustRun(t, "create", name, "--dtype", "f8", "--shape", "1000")
	b, err := ndshm.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	path := filepath.Join(t.TempDir(), "x.npy")
	if _, err := saveFile(ctx, b, path, false, progress.New(io.Discard, "saving")); !errors.Is(err, context.Canceled) {
		t.Errorf("interrupted save: %v", err)
	}
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("interrupted save left %s: %v", path, err)
	}
}

func TestLoadBad(t *testing.T) {
	src := newName(t)
	makeBlock(t, src, ndshm.Spec{DType: ndshm.Float32, Shape: []int{100}}, func(i int) float32 { return float32(i) })
	good := npyOf(t, src)
	dir := t.TempDir()
	for _, tc := range []struct {
		what    string
		content []byte
	}{
		{"empty", nil},
		{"garbage", []byte("this is not a .npy file at all, just text\n")},
		{"header only, cut", good[:20]},
		{"data cut short", good[:len(good)-10]},
		{"corrupt header", append([]byte("\x93NUMPY\x01\x00\x10\x00{'descr': 'x"), good[26:]...)},
	} {
		path := filepath.Join(dir, strings.ReplaceAll(tc.what, " ", "_")+".npy")
		if err := os.WriteFile(path, tc.content, 0o644); err != nil {
			t.Fatal(err)
		}
		name := newName(t)
		_, _, err := ndshmRun(t, "load", path, name)
		if err == nil || isUsage(err) {
			t.Errorf("load of %s .npy: %v", tc.what, err)
		}
		if exists(name) {
			t.Errorf("load of %s .npy left block %s behind", tc.what, name)
		}
	}
	if _, _, err := ndshmRun(t, "load", filepath.Join(dir, "missing.npy"), newName(t)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("load of a missing file: %v", err)
	}
}

// TestSaveSymlink: save never writes through a symbolic link at FILE,
// even with --force: the link's target stays as it was.
func TestSaveSymlink(t *testing.T) {
	name := newName(t)
	mustRun(t, "create", name, "--dtype", "u1", "--shape", "4")
	dir := t.TempDir()
	target, link := filepath.Join(dir, "victim"), filepath.Join(dir, "x.npy")
	if err := os.WriteFile(target, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"save", name, link}, {"save", "--force", name, link}} {
		_, _, err := ndshmRun(t, args...)
		if got, _ := os.ReadFile(target); err == nil || string(got) != "precious" {
			t.Errorf("ndshm %q: %v; the link's target now holds %q", args, err, got)
		}
		if fi, err := os.Lstat(link); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			t.Errorf("ndshm %q removed or replaced the link: %v", args, err)
		}
	}
	if _, _, err := ndshmRun(t, "save", "--force", name, link); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("save --force onto a link: %v, want it to say it is a symbolic link", err)
	}
}

// TestLoadHugeClaim: a tiny file whose header claims 1 TiB is refused as
// cut short before anything is reserved, not with "no space" after, by
// load and by serve --load alike.
func TestLoadHugeClaim(t *testing.T) {
	header := "{'descr': '<f8', 'fortran_order': False, 'shape': (137438953472,), }"
	header += strings.Repeat(" ", 127-(10+len(header))%128) + "\n"
	content := append([]byte("\x93NUMPY\x01\x00"), byte(len(header)), byte(len(header)>>8))
	content = append(append(content, header...), make([]byte, 64)...)
	dir := t.TempDir()
	path := filepath.Join(dir, "claim.npy")
	if err := os.WriteFile(path, content, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"load", path},
		{"serve", "--socket", filepath.Join(dir, "s.sock"), "--gc-interval", "0", "--load"},
	} {
		name := newName(t)
		if args[0] == "load" {
			args = append(args, name)
		} else {
			args = append(args, name+"="+path)
		}
		_, _, err := ndshmRun(t, args...)
		if err == nil || !strings.Contains(err.Error(), "cut short") || !errors.Is(err, ndshm.ErrFormat) {
			t.Errorf("%s of a 1 TiB claim in a tiny file: %v, want a cut-short format error", args[0], err)
		}
		if exists(name) {
			t.Errorf("%s left block %s behind", args[0], name)
		}
	}
}

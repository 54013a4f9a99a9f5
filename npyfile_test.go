package ndshm_test

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/shmtest"
)

// TestLoadChecksSizeFirst: a .npy file whose header claims far more data
// than the file holds fails with an error that says so, before anything
// is reserved (100 GiB would not fit /dev/shm: reserving first fails
// with ENOSPC, or worse, succeeds), and leaves no block; from a stream
// that can tell its length too.
func TestLoadChecksSizeFirst(t *testing.T) {
	file := npyAligned(t, npyDict("'<f8'", false, []int{100 << 27}), 64) // 100 GiB
	file = append(file, make([]byte, 200-len(file)%200)...)
	p := t.TempDir() + "/huge.npy"
	if err := os.WriteFile(p, file, 0o600); err != nil {
		t.Fatal(err)
	}
	name := shmtest.Name()
	b, err := ndshm.Load(p, name, ndshm.Persistent())
	if b != nil {
		b.Close()
		ndshm.Unlink(name)
	}
	if !errors.Is(err, ndshm.ErrFormat) || !strings.Contains(err.Error(), "cut short") || !strings.Contains(err.Error(), p) {
		t.Errorf("Load of a 100 GiB claim in %d bytes: %v, want a cut-short ErrFormat naming the file", len(file), err)
	}
	b, err = ndshm.LoadReader(bytes.NewReader(file), name)
	if b != nil {
		b.Close()
	}
	if !errors.Is(err, ndshm.ErrFormat) || !strings.Contains(err.Error(), "cut short") {
		t.Errorf("LoadReader of a 100 GiB claim in %d bytes: %v, want a cut-short ErrFormat", len(file), err)
	}
	if _, err := os.Lstat("/dev/shm/" + name); err == nil {
		t.Errorf("failed Load left %s", name)
	}
}

// TestLoadNotNpy: a file that is not a .npy file is called that, not "a
// block".
func TestLoadNotNpy(t *testing.T) {
	p := t.TempDir() + "/passwd"
	if err := os.WriteFile(p, []byte("root:x:0:0:root:/root:/bin/bash\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := ndshm.Load(p, shmtest.Name())
	want := "load " + p + `: not a .npy file (no \x93NUMPY magic at its start)`
	if !errors.Is(err, ndshm.ErrFormat) || err.Error() != want {
		t.Errorf("Load of a text file: %v, want %q", err, want)
	}
}

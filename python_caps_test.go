package ndshm_test

import (
	"encoding/binary"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/shmtest"
)

// forge writes a sparse block file: a valid .npy header for 8 bytes of
// '|u1' padded to 4096 bytes at 0, a footer claiming data [h, +n) at
// size-l, and a trailer claiming l at the end.
func forge(t *testing.T, name string, size, l, h, n int64) {
	t.Helper()
	f, err := os.OpenFile("/dev/shm/"+name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	t.Cleanup(func() { os.Remove("/dev/shm/" + name) })
	text := "{'descr': '|u1', 'fortran_order': False, 'shape': (8,), }"
	hdr := make([]byte, 4096)
	copy(hdr, "\x93NUMPY\x01\x00")
	binary.LittleEndian.PutUint16(hdr[8:], 4096-10)
	for i := 10; i < 4095; i++ {
		hdr[i] = ' '
	}
	copy(hdr[10:], text)
	hdr[4095] = '\n'
	foot := make([]byte, 64)
	copy(foot, "NDSHMFTR")
	le := binary.LittleEndian
	le.PutUint32(foot[8:], 1)
	le.PutUint32(foot[12:], 1)
	le.PutUint64(foot[16:], 1) // persistent
	le.PutUint64(foot[48:], uint64(h))
	le.PutUint64(foot[56:], uint64(n))
	trailer := make([]byte, 16)
	le.PutUint64(trailer, uint64(l))
	copy(trailer[8:], "NDSHMEND")
	for _, w := range []struct {
		b   []byte
		off int64
	}{{hdr, 0}, {foot, size - l}, {trailer, size - 16}} {
		if _, err := f.WriteAt(w.b, w.off); err != nil {
			t.Fatal(err)
		}
	}
}

// Python caps what a footer may claim exactly as Go does: a header over
// 1 MiB (never read, never allocated), a footer over maxFooter, data
// that does not end where the footer begins. Both refuse each.
func TestPythonFooterCaps(t *testing.T) {
	const mib = 1 << 20
	for _, tc := range []struct {
		what          string
		size, l, h, n int64
	}{
		{"256 MiB header", 256*mib + 4096, 4096, 256 * mib, 0},
		{"32 MiB footer", 8192 + 32*mib, 32 * mib, 4096, 8},
		{"slack before the footer", 4 * 4096, 4096, 4096, 8},
	} {
		t.Run(tc.what, func(t *testing.T) {
			name := shmtest.Name()
			forge(t, name, tc.size, tc.l, tc.h, tc.n)
			if _, err := ndshm.Stat(name); !errors.Is(err, ndshm.ErrFormat) {
				t.Errorf("Go Stat: %v, want ErrFormat", err)
			}
			var got struct {
				Error  string
				MaxRSS int
			}
			python(t, &got, `import resource
try:
    ndshm.info(sys.argv[1])
    e = 'no error'
except ValueError as x:
    e = str(x)
print(json.dumps({'Error': e, 'MaxRSS': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))`, name)
			if got.Error == "no error" {
				t.Errorf("python info accepted it")
			}
			if got.MaxRSS > 128<<10 { // KiB: NumPy alone is ~30 MiB
				t.Errorf("python info peaked at %d KiB (%s)", got.MaxRSS, got.Error)
			}
			t.Logf("python: %s; max RSS %d KiB", got.Error, got.MaxRSS)
		})
	}
}

// Python refuses the shapes Go refuses: over 32 dimensions, or over 2^46
// bytes counting the non-zero dimensions (even when a zero makes it empty).
func TestPythonShapeCaps(t *testing.T) {
	var got []string
	python(t, &got, `out = []
for shape in [(1,) * 33, (1 << 40, 1 << 10, 0)]:
    try:
        ndshm.create(sys.argv[1], shape, 'f8')
        out.append('no error')
    except ValueError as e:
        out.append(str(e))
print(json.dumps(out))`, shmtest.Name())
	if len(got) != 2 || got[0] != "33 dimensions, at most 32 allowed" || !strings.Contains(got[1], "negative or too large") {
		t.Fatalf("python create: %q", got)
	}
}

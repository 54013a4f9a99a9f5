package ndshm_test

import (
	"bytes"
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/shmtest"
)

// The layout of docs/FORMAT.md, version 1.
const (
	pageSize   = 4096
	footerLen  = 4096
	offVersion = 8
	offKind    = 12
	offFlags   = 16
	offPID     = 24
	offDataOff = 48
	offDataLen = 56
)

// goodBlockFile returns the bytes of a valid persistent block of spec,
// its data filled with a pattern, and removes the block.
func goodBlockFile(t *testing.T, s ndshm.Spec) []byte {
	t.Helper()
	name := shmtest.Name()
	b, err := ndshm.Create(name, s, ndshm.Persistent())
	if err != nil {
		t.Fatal(err)
	}
	for i := range b.Bytes() {
		b.Bytes()[i] = byte(i*31 + 7)
	}
	file, rerr := os.ReadFile(shmFile(name))
	b.Close()
	if err := ndshm.Unlink(name); err != nil {
		t.Fatal(err)
	}
	if rerr != nil {
		t.Fatal(rerr)
	}
	return file
}

// The block file layout follows docs/FORMAT.md to the byte.
func TestBlockFileLayout(t *testing.T) {
	for _, c := range []struct {
		spec  ndshm.Spec
		descr string
	}{
		{ndshm.Spec{DType: ndshm.Float64, Shape: []int{5, 3}}, "'<f8'"},
		{ndshm.Spec{DType: ndshm.Int16, Shape: []int{2, 3, 4}, Fortran: true}, "'<i2'"},
		{ndshm.Spec{DType: ndshm.Uint8, Shape: []int{4096}}, "'|u1'"},
		{ndshm.Spec{DType: ndshm.Uint8, Shape: []int{0}}, "'|u1'"},
		{ndshm.Spec{DType: ndshm.Complex64}, "'<c8'"},
		{ndshm.Spec{DType: mustDType(t, ">M8[ms]"), Shape: []int{1, 1}}, "'>M8[ms]'"},
	} {
		for _, persistent := range []bool{false, true} {
			var opts []ndshm.Option
			if persistent {
				opts = append(opts, ndshm.Persistent())
			}
			t0 := time.Now()
			b := tBlock(t, c.spec, opts...)
			if persistent {
				removeAtEnd(t, b.Name())
			}
			for i := range b.Bytes() {
				b.Bytes()[i] = byte(i + 1)
			}
			f, err := os.ReadFile(shmFile(b.Name()))
			if err != nil {
				t.Fatal(err)
			}
			shape := c.spec.Shape
			if shape == nil {
				shape = []int{}
			}
			hdr := npyAligned(t, npyDict(c.descr, c.spec.Fortran, shape), pageSize)
			n := c.spec.DType.Size() * shapeLen(shape)
			fo := (len(hdr) + n + pageSize - 1) / pageSize * pageSize
			if len(f) != fo+footerLen {
				t.Fatalf("%v: file has %d bytes, want %d", c.spec, len(f), fo+footerLen)
			}
			if !bytes.Equal(f[:len(hdr)], hdr) {
				t.Errorf("%v: header\n%q\nwant\n%q", c.spec, f[:len(hdr)], hdr)
			}
			if !bytes.Equal(f[len(hdr):len(hdr)+n], b.Bytes()) {
				t.Errorf("%v: data is not at %d", c.spec, len(hdr))
			}
			if slices.ContainsFunc(f[len(hdr)+n:fo], func(c byte) bool { return c != 0 }) {
				t.Errorf("%v: padding is not zero", c.spec)
			}
			foot := f[fo:]
			var flags uint64
			if persistent {
				flags = 1
			}
			created := time.Unix(0, int64(lendian.Uint64(foot[40:])))
			if string(foot[:8]) != "NDSHMFTR" || lendian.Uint32(foot[offVersion:]) != 1 ||
				lendian.Uint32(foot[offKind:]) != 1 || lendian.Uint64(foot[offFlags:]) != flags ||
				int(lendian.Uint64(foot[offPID:])) != os.Getpid() ||
				lendian.Uint64(foot[32:]) != startTime(t, os.Getpid()) ||
				created.Before(t0.Add(-time.Second)) || created.After(time.Now()) ||
				lendian.Uint64(foot[offDataOff:]) != uint64(len(hdr)) || lendian.Uint64(foot[offDataLen:]) != uint64(n) ||
				lendian.Uint64(foot[footerLen-16:]) != footerLen || string(foot[footerLen-8:]) != "NDSHMEND" {
				t.Errorf("%v: footer %q", c.spec, foot[:64])
			}
			if slices.ContainsFunc(foot[64:footerLen-16], func(c byte) bool { return c != 0 }) {
				t.Errorf("%v: footer has bytes set between its fields and its trailer", c.spec)
			}
		}
	}
}

type corruption struct {
	what   string
	mutate func(f []byte) []byte // f is a fresh copy of a good block
	target error
}

func put64(off int, v uint64) func([]byte) []byte {
	return func(f []byte) []byte {
		lendian.PutUint64(f[off:], v)
		return f
	}
}

func TestCorruptBlocks(t *testing.T) {
	spec := ndshm.Spec{DType: ndshm.Float64, Shape: []int{5, 3}} // 120 bytes: data do not fill their page
	good := goodBlockFile(t, spec)
	const H, N = pageSize, 120
	F := len(good) - footerLen // the footer's offset
	if F != 2*pageSize {
		t.Fatalf("good block is %d bytes", len(good))
	}
	foot := func(off int) int { return F + off }
	rng := rand.New(rand.NewPCG(1, 2))
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	// header re-encodes the .npy header with dict, keeping its length H.
	header := func(dict string) func([]byte) []byte {
		return func(f []byte) []byte {
			copy(f, npyHeader(t, dict, H))
			return f
		}
	}
	cases := []corruption{
		{"empty file", func([]byte) []byte { return nil }, ndshm.ErrFormat},
		{"one byte", func([]byte) []byte { return []byte{0x93} }, ndshm.ErrFormat},
		{"random bytes", func([]byte) []byte { return random(3 * pageSize) }, ndshm.ErrFormat},
		{"random bytes, odd size", func([]byte) []byte { return random(3*pageSize + 17) }, ndshm.ErrFormat},
		{"random bytes with a trailer", func([]byte) []byte {
			f := random(3 * pageSize)
			copy(f[len(f)-16:], "\x00\x10\x00\x00\x00\x00\x00\x00NDSHMEND")
			return f
		}, ndshm.ErrFormat},
		{"random bytes with a footer", func(g []byte) []byte {
			f := random(len(g))
			copy(f[F:], g[F:])
			return f
		}, ndshm.ErrFormat},
		{"a .npy file", func(g []byte) []byte {
			return append(npyAligned(t, npyDict("'<f8'", false, []int{5, 3}), 64), g[H:H+N]...)
		}, ndshm.ErrFormat},
		{"zeros", func(g []byte) []byte { return make([]byte, len(g)) }, ndshm.ErrFormat},

		{"trailer magic broken", func(f []byte) []byte { f[len(f)-1] ^= 0x20; return f }, ndshm.ErrFormat},
		{"trailer magic lower case", func(f []byte) []byte { copy(f[len(f)-8:], "ndshmend"); return f }, ndshm.ErrFormat},
		{"footer length 0", put64(len(good)-16, 0), ndshm.ErrFormat},
		{"footer length 4095", put64(len(good)-16, 4095), ndshm.ErrFormat},
		{"footer length 4097", put64(len(good)-16, 4097), ndshm.ErrFormat},
		{"footer length 6144", put64(len(good)-16, 6144), ndshm.ErrFormat},
		{"footer length 8192", put64(len(good)-16, 8192), ndshm.ErrFormat},
		{"footer length the file's", put64(len(good)-16, uint64(len(good))), ndshm.ErrFormat},
		{"footer length past the file", put64(len(good)-16, uint64(len(good)+pageSize)), ndshm.ErrFormat},
		{"footer length huge", put64(len(good)-16, 1<<63), ndshm.ErrFormat},
		{"footer length -4096", put64(len(good)-16, ^uint64(4095)), ndshm.ErrFormat},
		{"footer magic broken", func(f []byte) []byte { f[F] ^= 1; return f }, ndshm.ErrFormat},
		{"footer magic zero", func(f []byte) []byte { copy(f[F:], make([]byte, 8)); return f }, ndshm.ErrFormat},
		{"footer magic last byte", func(f []byte) []byte { f[F+7] = 'X'; return f }, ndshm.ErrFormat},
		{"footer length 4160, consistent otherwise", func(f []byte) []byte {
			// The footer grows by 64 bytes, the trailer moves to the new
			// end and says so: only L's page alignment is wrong.
			g := slices.Concat(f[:len(f)-16], make([]byte, 64), f[len(f)-16:])
			lendian.PutUint64(g[len(g)-16:], footerLen+64)
			return g
		}, ndshm.ErrFormat},
		{"version 0", func(f []byte) []byte { lendian.PutUint32(f[foot(offVersion):], 0); return f }, ndshm.ErrFormat},
		{"version 2", func(f []byte) []byte { lendian.PutUint32(f[foot(offVersion):], 2); return f }, ndshm.ErrFormat},
		{"version 1<<32-1", func(f []byte) []byte { lendian.PutUint32(f[foot(offVersion):], 1<<32-1); return f }, ndshm.ErrFormat},
		{"data offset 0", put64(foot(offDataOff), 0), ndshm.ErrFormat},
		{"data offset not page aligned", put64(foot(offDataOff), H+8), ndshm.ErrFormat},
		{"data offset 64", put64(foot(offDataOff), 64), ndshm.ErrFormat},
		{"data offset past the header", func(f []byte) []byte {
			// Consistent with the file size, but the header is shorter.
			lendian.PutUint64(f[foot(offDataOff):], 2*pageSize)
			lendian.PutUint64(f[foot(offDataLen):], 0)
			return f
		}, ndshm.ErrFormat},
		{"data offset huge", put64(foot(offDataOff), 1<<62), ndshm.ErrFormat},
		{"data offset 128, consistent otherwise", func(f []byte) []byte {
			// A 128-byte header, the data right after it, the footer on
			// the next page: only H's page alignment is wrong.
			g := make([]byte, pageSize+footerLen)
			n := copy(g, npyAligned(t, npyDict("'<f8'", false, []int{5, 3}), 128))
			copy(g[n:], f[H:H+N])
			copy(g[pageSize:], f[F:])
			lendian.PutUint64(g[pageSize+offDataOff:], uint64(n))
			return g
		}, ndshm.ErrFormat},
		{"data offset wraps", put64(foot(offDataOff), ^uint64(4095)), ndshm.ErrFormat},
		{"data length +8", put64(foot(offDataLen), N+8), ndshm.ErrFormat},
		{"data length -8", put64(foot(offDataLen), N-8), ndshm.ErrFormat},
		{"data length 0", put64(foot(offDataLen), 0), ndshm.ErrFormat},
		{"data length +1 page", put64(foot(offDataLen), N+pageSize), ndshm.ErrFormat},
		{"data length huge", put64(foot(offDataLen), 1<<62), ndshm.ErrFormat},
		{"data length wraps", put64(foot(offDataLen), ^uint64(0)-H+1), ndshm.ErrFormat},

		{"header shape bigger", header(npyDict("'<f8'", false, []int{5, 4})), ndshm.ErrFormat},
		{"header shape smaller", header(npyDict("'<f8'", false, []int{5, 2})), ndshm.ErrFormat},
		{"header shape 0-d", header(npyDict("'<f8'", false, []int{})), ndshm.ErrFormat},
		{"header shape huge", header(npyDict("'<f8'", false, []int{1 << 40, 1 << 40})), ndshm.ErrFormat},
		{"header shape negative", header(npyDict("'<f8'", false, []int{-5, -3})), ndshm.ErrFormat},
		{"header shape 33 dims", header(npyDict("'|u1'", false, append(slices.Repeat([]int{1}, 32), 120))), ndshm.ErrFormat},
		{"header dtype smaller", header(npyDict("'<f4'", false, []int{5, 3})), ndshm.ErrFormat},
		{"header descr <U4", header(npyDict("'<U4'", false, []int{5, 3})), ndshm.ErrDType},
		{"header descr |O", header(npyDict("'|O'", false, []int{5, 3})), ndshm.ErrDType},
		{"header descr |O8", header(npyDict("'|O8'", false, []int{15})), ndshm.ErrDType},
		{"header descr <f16", header(npyDict("'<f16'", false, []int{5, 3})), ndshm.ErrDType},
		{"header descr empty record", header(npyDict("[]", false, []int{5, 3})), ndshm.ErrDType},
		{"header not a dict", header("['descr', '<f8']"), ndshm.ErrFormat},
		{"header missing shape", header("{'descr': '<f8', 'fortran_order': False, }"), ndshm.ErrFormat},
		{"header unknown key", header("{'descr': '<f8', 'fortran_order': False, 'shape': (5, 3), 'x': 1, }"), ndshm.ErrFormat},
		{"header magic broken", func(f []byte) []byte { f[1] = 'n'; return f }, ndshm.ErrFormat},
		{"header version 9", func(f []byte) []byte { f[6] = 9; return f }, ndshm.ErrFormat},
		{"header length past the data", func(f []byte) []byte { lendian.PutUint16(f[8:], H); return f }, ndshm.ErrFormat},
		{"header length 0xffff", func(f []byte) []byte { lendian.PutUint16(f[8:], 0xffff); return f }, ndshm.ErrFormat},
		{"header shorter than the data offset", func(f []byte) []byte {
			copy(f, npyAligned(t, npyDict("'<f8'", false, []int{5, 3}), 64))
			return f
		}, ndshm.ErrFormat},
		{"header v2 length huge", func(f []byte) []byte {
			f[6] = 2
			lendian.PutUint32(f[8:], 1<<31)
			return f
		}, ndshm.ErrFormat},

		{"truncated in the header", func(f []byte) []byte { return f[:H/2] }, ndshm.ErrFormat},
		{"truncated after the header", func(f []byte) []byte { return f[:H] }, ndshm.ErrFormat},
		{"truncated in the data", func(f []byte) []byte { return f[:H+N/2] }, ndshm.ErrFormat},
		{"truncated in the padding", func(f []byte) []byte { return f[:F-8] }, ndshm.ErrFormat},
		{"truncated before the footer", func(f []byte) []byte { return f[:F] }, ndshm.ErrFormat},
		{"truncated in the footer", func(f []byte) []byte { return f[:F+100] }, ndshm.ErrFormat},
		{"last byte cut", func(f []byte) []byte { return f[:len(f)-1] }, ndshm.ErrFormat},
		{"first page cut", func(f []byte) []byte { return f[pageSize:] }, ndshm.ErrFormat},
		{"data page cut", func(f []byte) []byte { return append(f[:H:H], f[F:]...) }, ndshm.ErrFormat},
		{"grown by a byte", func(f []byte) []byte { return append(f, 0) }, ndshm.ErrFormat},
		{"grown by 100 bytes", func(f []byte) []byte { return append(f, random(100)...) }, ndshm.ErrFormat},
		{"grown by a zero page", func(f []byte) []byte { return append(f, make([]byte, pageSize)...) }, ndshm.ErrFormat},
		{"grown by a copy of the footer", func(f []byte) []byte { return append(f, f[F:]...) }, ndshm.ErrFormat},
		{"a zero page inserted before the footer", func(f []byte) []byte {
			return slices.Concat(f[:F], make([]byte, pageSize), f[F:])
		}, ndshm.ErrFormat},
	}

	// The good block itself opens: the mutations are what fails.
	ctl := shmtest.Name()
	removeAtEnd(t, ctl)
	if err := os.WriteFile(shmFile(ctl), good, 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := ndshm.Open(ctl); err != nil {
		t.Fatalf("a copy of a good block: %v", err)
	} else {
		if !sameSpec(b.Spec(), spec) || !bytes.Equal(b.Bytes(), good[H:H+N]) {
			t.Errorf("a copy of a good block opens as %v", b.Spec())
		}
		b.Close()
	}

	fds := openFDs(t)
	names := make([]string, len(cases))
	for i, c := range cases {
		t.Run(c.what, func(t *testing.T) {
			name := shmtest.Name()
			names[i] = name
			removeAtEnd(t, name)
			file := c.mutate(slices.Clone(good))
			if err := os.WriteFile(shmFile(name), file, 0o600); err != nil {
				t.Fatal(err)
			}
			checkRefused(t, name, c.target)
			// The file is left as it was.
			if got, err := os.ReadFile(shmFile(name)); err != nil || !bytes.Equal(got, file) {
				t.Errorf("the corrupt file changed: %v", err)
			}
			if exists(t, name) {
				if err := ndshm.Unlink(name); err != nil {
					t.Errorf("Unlink of a corrupt block: %v", err)
				}
			}
		})
	}
	if n := openFDs(t); n != fds {
		t.Errorf("%d descriptors open after the corrupt blocks, %d before", n, fds)
	}
}

// checkRefused checks that every way of opening the block name fails
// with target, and that List skips it. It may run on any goroutine.
func checkRefused(t *testing.T, name string, target error) {
	t.Helper()
	b, err := ndshm.Open(name)
	if b != nil {
		b.Close()
		t.Error("Open succeeded")
	}
	assertPathErr(t, err, "open", name, target)
	if err != nil && len(err.Error()) > 500 {
		t.Errorf("Open: %d-byte error message", len(err.Error()))
	}
	_, err = ndshm.Stat(name)
	assertPathErr(t, err, "stat", name, target)
	if f, err := os.OpenFile(shmFile(name), os.O_RDWR|syscall.O_NONBLOCK, 0); err == nil {
		b, err := ndshm.FromFile(f)
		f.Close()
		if b != nil {
			b.Close()
			t.Error("FromFile succeeded")
		}
		assertPathErr(t, err, "open", f.Name(), target)
	}
	list, err := ndshm.List()
	if err != nil {
		t.Errorf("List: %v", err)
	}
	if slices.ContainsFunc(list, func(i ndshm.Info) bool { return i.Name == name }) {
		t.Errorf("List has the corrupt block %q", name)
	}
}

// List skips what is not an ndshm block and still lists the blocks.
func TestListSkipsOthers(t *testing.T) {
	good := tBlock(t, ndshm.Spec{DType: ndshm.Int32, Shape: []int{7}})
	junk := map[string]func(path string) error{
		"empty":  func(p string) error { return os.WriteFile(p, nil, 0o600) },
		"random": func(p string) error { return os.WriteFile(p, bytes.Repeat([]byte{0xa5, 0x17}, 10000), 0o600) },
		"raw":    func(p string) error { return os.WriteFile(p, make([]byte, 3*pageSize), 0o600) },
		"fifo":   func(p string) error { return syscall.Mkfifo(p, 0o600) },
		"dir":    func(p string) error { return os.Mkdir(p, 0o700) },
		"link":   func(p string) error { return os.Symlink(shmFile(good.Name()), p) },
		"dangling link": func(p string) error {
			return os.Symlink("/nonexistent", p)
		},
		"unreadable": func(p string) error { return os.WriteFile(p, nil, 0) },
		"bad dtype": func(p string) error {
			f := goodBlockFile(t, ndshm.Spec{DType: ndshm.Uint8, Shape: []int{4}})
			copy(f, npyHeader(t, npyDict("'<U1'", false, []int{1}), pageSize))
			return os.WriteFile(p, f, 0o600)
		},
	}
	var names []string
	for what, mk := range junk {
		name := shmtest.Name() + "-" + strings.ReplaceAll(what, " ", "-")
		names = append(names, name)
		removeAtEnd(t, name)
		if err := mk(shmFile(name)); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	list, err := ndshm.List()
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	var found bool
	for _, info := range list {
		if slices.Contains(names, info.Name) {
			t.Errorf("List has %q", info.Name)
		}
		found = found || info.Name == good.Name()
	}
	if !found {
		t.Errorf("List lacks the good block %q", good.Name())
	}
}

// A FIFO planted under a block's name fails at once, never hangs.
func TestFIFO(t *testing.T) {
	name := shmtest.Name()
	removeAtEnd(t, name)
	if err := syscall.Mkfifo(shmFile(name), 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		checkRefused(t, name, ndshm.ErrFormat)
		b, err := ndshm.OpenRaw(name, ndshm.Spec{DType: ndshm.Uint8, Shape: []int{0}})
		if b != nil {
			b.Close()
			t.Error("OpenRaw of a FIFO succeeded")
		}
		assertPathErr(t, err, "open", name, ndshm.ErrFormat)
		b, err = ndshm.Create(name, ndshm.Spec{DType: ndshm.Uint8, Shape: []int{4}})
		if b != nil {
			b.Close()
			t.Error("Create over a FIFO succeeded")
		}
		assertPathErr(t, err, "create", name, fs.ErrExist)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Error("opening a FIFO hangs")
		// Open the other end until the checks get through, so that
		// they end before the test does.
		for {
			if f, err := os.OpenFile(shmFile(name), os.O_RDWR, 0); err == nil {
				f.Close()
			}
			select {
			case <-done:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
	if err := ndshm.Unlink(name); err != nil {
		t.Errorf("Unlink of a FIFO: %v", err)
	}
}

// A symlink under a block's name is refused, even to a good block:
// names are never followed.
func TestSymlink(t *testing.T) {
	target := tBlock(t, ndshm.Spec{DType: ndshm.Float64, Shape: []int{4}})
	for _, to := range []string{shmFile(target.Name()), target.Name(), "/nonexistent", "/etc/passwd"} {
		name := shmtest.Name()
		removeAtEnd(t, name)
		if err := os.Symlink(to, shmFile(name)); err != nil {
			t.Fatal(err)
		}
		b, err := ndshm.Open(name)
		if b != nil {
			b.Close()
			t.Fatalf("Open of a symlink to %s succeeded", to)
		}
		assertPathErr(t, err, "open", name, nil)
		if !errors.Is(err, syscall.ELOOP) && !errors.Is(err, ndshm.ErrFormat) {
			t.Errorf("Open of a symlink to %s: %v", to, err)
		}
		_, err = ndshm.Stat(name)
		assertPathErr(t, err, "stat", name, nil)
		b, err = ndshm.OpenRaw(name, ndshm.Spec{DType: ndshm.Uint8, Shape: []int{1}})
		if b != nil {
			b.Close()
			t.Fatalf("OpenRaw of a symlink to %s succeeded", to)
		}
		assertPathErr(t, err, "open", name, nil)
		b, err = ndshm.Create(name, ndshm.Spec{DType: ndshm.Uint8, Shape: []int{1}})
		if b != nil {
			b.Close()
			t.Fatalf("Create over a symlink to %s succeeded", to)
		}
		assertPathErr(t, err, "create", name, fs.ErrExist)
		// Unlink removes the link, not its target.
		if err := ndshm.Unlink(name); err != nil {
			t.Errorf("Unlink of a symlink: %v", err)
		}
	}
	if !exists(t, target.Name()) {
		t.Error("the symlinks' target is gone")
	}
	if _, err := ndshm.Stat(target.Name()); err != nil {
		t.Errorf("the symlinks' target: %v", err)
	}
}

// Specs that cannot be blocks fail in Create and CreateAnon, leaving
// nothing behind.
func TestBadSpecs(t *testing.T) {
	cases := []struct {
		what   string
		spec   ndshm.Spec
		target error
	}{
		{"zero dtype", ndshm.Spec{Shape: []int{3}}, ndshm.ErrDType},
		{"zero dtype 0-d", ndshm.Spec{}, ndshm.ErrDType},
		{"shape overflow", ndshm.Spec{DType: ndshm.Float64, Shape: []int{1 << 40, 1 << 40}}, nil},
		{"shape overflow of int", ndshm.Spec{DType: ndshm.Uint8, Shape: []int{1 << 32, 1 << 32}}, nil},
		{"shape overflow through itemsize", ndshm.Spec{DType: ndshm.Complex128, Shape: []int{1 << 60}}, nil},
		// NumPy refuses these whatever the position of the zero ("array is
		// too big"): the product of the nonzero dims must not overflow.
		{"nonzero dims overflow, zero last", ndshm.Spec{DType: ndshm.Float64, Shape: []int{1 << 62, 1 << 62, 0}}, nil},
		{"nonzero dims overflow, zero first", ndshm.Spec{DType: ndshm.Float64, Shape: []int{0, 1 << 62, 1 << 62}}, nil},
		{"nonzero dims overflow, zero first, F", ndshm.Spec{DType: ndshm.Uint8, Shape: []int{0, 1 << 40, 1 << 40}, Fortran: true}, nil},
		{"shape past 64 TiB", ndshm.Spec{DType: ndshm.Uint8, Shape: []int{1<<46 + 1}}, nil},
		{"negative dim", ndshm.Spec{DType: ndshm.Float64, Shape: []int{-1}}, nil},
		{"negative dims", ndshm.Spec{DType: ndshm.Float64, Shape: []int{-2, -3}}, nil},
		{"negative dim after a zero", ndshm.Spec{DType: ndshm.Float64, Shape: []int{0, -3}}, nil},
		{"negative dim min int", ndshm.Spec{DType: ndshm.Uint8, Shape: []int{-1 << 63}}, nil},
		{"33 dims", ndshm.Spec{DType: ndshm.Uint8, Shape: slices.Repeat([]int{1}, 33)}, nil},
		{"1000 dims", ndshm.Spec{DType: ndshm.Uint8, Shape: make([]int, 1000)}, nil},
	}
	for _, c := range cases {
		t.Run(c.what, func(t *testing.T) {
			name := shmtest.Name()
			b, err := ndshm.Create(name, c.spec)
			if b != nil {
				b.Close()
				t.Fatalf("Create(%v) succeeded", c.spec)
			}
			assertPathErr(t, err, "create", name, c.target)
			if exists(t, name) {
				t.Errorf("failed Create left %q", name)
				ndshm.Unlink(name)
			}
			b, err = ndshm.OpenRaw(name, c.spec)
			if b != nil {
				b.Close()
				t.Fatalf("OpenRaw(%v) succeeded", c.spec)
			}
			assertPathErr(t, err, "open", name, c.target)
			// The size as a naive, wrapping multiplication gives it: were
			// the check to regress, an unlimited memfd would really try to
			// reserve that much, which a shared machine must not suffer.
			if c.spec.DType.Size()*shapeLen(c.spec.Shape) > 1<<40 {
				return
			}
			b, err = ndshm.CreateAnon(c.spec)
			if b != nil {
				b.Close()
				t.Fatalf("CreateAnon(%v) succeeded", c.spec)
			}
			if err == nil || c.target != nil && !errors.Is(err, c.target) {
				t.Errorf("CreateAnon(%v): %v, want %v", c.spec, err, c.target)
			}
		})
	}
	// The largest legal shapes are still fine to describe.
	ok := ndshm.Spec{DType: ndshm.Uint8, Shape: slices.Repeat([]int{1}, 32)}
	b := tBlock(t, ok)
	if got := b.Spec(); !sameSpec(got, ok) {
		t.Errorf("32-d block: %v", got)
	}
}

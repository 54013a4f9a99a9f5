package ndshm_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ndshm/ndshm"
)

func FuzzParseDType(f *testing.F) {
	for _, s := range []string{
		"<f8", "f8", "=f8", ">f8", "|f8", "float64", "bool", "?", "|b1", "uint8", "<c16",
		"<M8[ns]", "datetime64[ms]", "timedelta64", ">m8[generic]", "|S5", "V16", "<U4", "|O",
		"", "<", "f+8", "f08", "M8[ns", "S1073741824", "V-1", "datetime64datetime64",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ndshm.ParseDType(s)
		if err != nil {
			if !errors.Is(err, ndshm.ErrDType) {
				t.Errorf("ParseDType(%q): %v, not ErrDType", s, err)
			}
			if !d.IsZero() {
				t.Errorf("ParseDType(%q) failed but returned %v", s, d)
			}
			if len(err.Error()) > 200+4*len(s) { // %q of s is at most 4 bytes a byte
				t.Errorf("ParseDType(%q): error of %d bytes", s, len(err.Error()))
			}
			return
		}
		str := d.String()
		if d.IsZero() || d.Size() <= 0 || str == "" || !strings.ContainsRune("<>|", rune(str[0])) ||
			!strings.ContainsRune("biufcmMSV", rune(d.Kind())) || d.Fields() != nil {
			t.Fatalf("ParseDType(%q) = %q: size %d, kind %q", s, str, d.Size(), d.Kind())
		}
		e, err := ndshm.ParseDType(str)
		if err != nil {
			t.Fatalf("ParseDType(%q) = %q, which does not parse: %v", s, str, err)
		}
		if !e.Equal(d) || !d.Equal(e) || e.String() != str || e.Size() != d.Size() || e.Kind() != d.Kind() || e.Native() != d.Native() {
			t.Fatalf("ParseDType(%q) = %q (size %d), which parses to %q (size %d)", s, str, d.Size(), e, e.Size())
		}
		if d.Native() != (str[0] != '>') {
			t.Errorf("%q: Native() = %v", str, d.Native())
		}
	})
}

// cleanNameRef is the shm_open naming rule, written independently: one
// leading '/' goes, and the rest must be one non-empty path element of
// at most NAME_MAX bytes.
func cleanNameRef(name string) (string, bool) {
	n := strings.TrimPrefix(name, "/")
	if n == "" || n == "." || n == ".." || len(n) > 255 || strings.ContainsAny(n, "/\x00") {
		return "", false
	}
	return n, true
}

func FuzzName(f *testing.F) {
	for _, s := range []string{
		"", "/", "//", ".", "..", "/.", "/..", "...", "a", "/a", "//a", "a/", "a/b", "a\x00",
		strings.Repeat("n", 255), "/" + strings.Repeat("n", 255), strings.Repeat("n", 256),
		"\xff\xfe", "ü", " ", "\n", "-", "*", "ndshm-test-nonexistent",
	} {
		f.Add(s)
	}
	_, nameErr := ndshm.Stat("")
	var npe *fs.PathError
	if !errors.As(nameErr, &npe) {
		f.Fatalf("Stat(\"\") = %v", nameErr)
	}
	sentinel := npe.Err
	f.Fuzz(func(t *testing.T, name string) {
		clean, ok := cleanNameRef(name)
		if ok && filepath.Base(clean) != clean {
			t.Fatalf("reference accepts %q as %q, not a single path element", name, clean)
		}
		_, lerr := os.Lstat(shmFile(clean))
		present := ok && lerr == nil

		check := func(op string, err error) {
			t.Helper()
			if err == nil {
				if !present {
					t.Errorf("%s(%q) succeeded on a name with no file", op, name)
				}
				return
			}
			var pe *fs.PathError
			if !errors.As(err, &pe) {
				t.Fatalf("%s(%q): %v (%T) is not an *fs.PathError", op, name, err, err)
			}
			if pe.Op != op {
				t.Errorf("%s(%q): PathError.Op %q", op, name, pe.Op)
			}
			libOK := pe.Err != sentinel
			if libOK != ok {
				t.Fatalf("%s(%q): library accepts it: %v, the shm_open rule: %v (%v)", op, name, libOK, ok, err)
			}
			if !ok {
				if pe.Path != name {
					t.Errorf("%s(%q): PathError.Path %q, want the name given", op, name, pe.Path)
				}
				return
			}
			// Accepted: the name used is a single path element under /dev/shm.
			if pe.Path != clean || filepath.Base(pe.Path) != pe.Path || pe.Path == "." || pe.Path == ".." ||
				len(pe.Path) == 0 || len(pe.Path) > 255 || strings.ContainsAny(pe.Path, "/\x00") ||
				filepath.Join(shmDir, pe.Path) != shmDir+"/"+pe.Path {
				t.Errorf("%s(%q): used the name %q, want %q", op, name, pe.Path, clean)
			}
			if !present && !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("%s(%q) of a missing name: %v, want fs.ErrNotExist", op, name, err)
			}
		}

		_, err := ndshm.Stat(name)
		check("stat", err)
		b, err := ndshm.Open(name)
		if b != nil {
			b.Close()
		}
		check("open", err)
		b, err = ndshm.OpenRaw(name, ndshm.Spec{DType: ndshm.Uint8, Shape: []int{1}})
		if b != nil {
			b.Close()
		}
		check("open", err)
		if !ok {
			// Names the rule refuses never reach the file system, so these
			// are safe to try with anything.
			b, err = ndshm.Create(name, ndshm.Spec{DType: ndshm.Uint8, Shape: []int{1}})
			if b != nil {
				b.Close()
				t.Fatalf("Create(%q) succeeded", name)
			}
			check("create", err)
			check("unlink", ndshm.Unlink(name))
		}
	})
}

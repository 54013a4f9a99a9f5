package ndshm_test

import (
	"io/fs"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/ndshm/ndshm/internal/shmtest"
)

// Python's create(mode=...) and `python3 -m ndshm create --mode` set a
// block's permission bits as Go's Perm does: less the umask, setuid,
// setgid and sticky dropped, 0600 by default; owned or persistent alike.
// Anything but a file mode is refused.
func TestPythonCreateMode(t *testing.T) {
	cases := []struct {
		mode       string // a Python expression; "" passes no mode
		umask      int
		persistent bool
		want       fs.FileMode
		err        string // for a refused mode: the exception's type
	}{
		{"0o640", 0, true, 0o640, ""},
		{"0o604", 0, false, 0o604, ""},
		{"0o666", 0, true, 0o666, ""},
		{"0o4755 | 0o1000", 0, true, 0o755, ""},
		{"", 0, true, 0o600, ""},
		{"", 0o022, false, 0o600, ""},
		{"0o666", 0o022, true, 0o644, ""},
		{"0o640", 0o077, false, 0o600, ""},
		{"-1", 0, true, 0, "ValueError"},
		{"0o10000", 0, true, 0, "ValueError"},
		{"'0640'", 0, true, 0, "TypeError"},
	}
	var args []string
	for _, c := range cases {
		name := shmtest.Name()
		if c.persistent {
			removeAtEnd(t, name)
		}
		args = append(args, name, c.mode, strconv.Itoa(c.umask), strconv.FormatBool(c.persistent))
	}
	// Each block's mode as Python sees it before exiting, which unlinks
	// the owned ones; Go looks at the persistent ones after.
	var got []string
	python(t, &got, `import os, stat
out = []
for i in range(1, len(sys.argv), 4):
    name, mode, umask, persistent = sys.argv[i:i + 4]
    kw = {'mode': eval(mode)} if mode else {}
    old = os.umask(int(umask))
    try:
        ndshm.create(name, 3, 'u1', persistent=persistent == 'true', **kw)
        out.append('%o' % stat.S_IMODE(os.stat('/dev/shm/' + name).st_mode))
    except Exception as e:
        out.append(type(e).__name__)
    finally:
        os.umask(old)
print(json.dumps(out))`, args...)
	if len(got) != len(cases) {
		t.Fatalf("python reported %q for %d cases", got, len(cases))
	}
	for i, c := range cases {
		name := args[4*i]
		want := c.err
		if want == "" {
			want = strconv.FormatUint(uint64(c.want), 8)
		}
		if got[i] != want {
			t.Errorf("mode=%s, umask %#o, persistent %v: %s, want %s", c.mode, c.umask, c.persistent, got[i], want)
		}
		if c.persistent && c.err == "" {
			if st, err := os.Stat(shmFile(name)); err != nil || st.Mode() != c.want {
				t.Errorf("mode=%s, umask %#o: Go sees %v, %v; want %v", c.mode, c.umask, st, err, c.want)
			}
		}
	}
}

// The command line's create --mode takes octal, less the umask (which
// the child inherits), and refuses anything else with exit status 2 (a usage error, as Go's).
func TestPythonCLICreateMode(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	for _, c := range []struct {
		mode string
		want fs.FileMode // 0: refused
	}{
		{"0640", 0o640},
		{"604", 0o604},
		{"0666", 0o644},
		{"0o640", 0o640},
		{"8", 0},
		{"rw", 0},
	} {
		name := shmtest.Name()
		cmd := shmtest.PythonCommand(t, "-m", "ndshm", "create", name, "--dtype", "u1", "--shape", "3", "--mode", c.mode)
		out, err := cmd.CombinedOutput()
		st, serr := os.Stat(shmFile(name))
		if serr == nil {
			os.Remove(shmFile(name))
		}
		if c.want == 0 {
			if err == nil || serr == nil || !strings.Contains(string(out), "bad mode") {
				t.Errorf("--mode %s: %v, %s; block made: %v, want a bad mode error and no block", c.mode, err, out, serr == nil)
			}
			continue
		}
		if err != nil || serr != nil || st.Mode() != c.want {
			t.Errorf("--mode %s: %v %s; block %v, %v; want mode %v", c.mode, err, out, st, serr, c.want)
		}
	}
}

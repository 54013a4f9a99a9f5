package ndshm_test

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/shmtest"
)

// The Python package's version is the Go tool's, ndshm.Version, however
// one asks: the attribute, the command line, and the installed
// distribution's metadata (which pyproject.toml reads from the attribute;
// there is none to read without NDSHM_PYTHON, as `make test` sets it).
func TestPythonVersion(t *testing.T) {
	for _, tc := range []struct {
		name, want string
		args       []string
		installed  bool
	}{
		{"__version__", ndshm.Version, []string{"-c", "import ndshm; print(ndshm.__version__)"}, false},
		{"--version", "ndshm version " + ndshm.Version, []string{"-m", "ndshm", "--version"}, false},
		{"metadata", ndshm.Version, []string{"-c", "import importlib.metadata as m; print(m.version('ndshm'))"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.installed && os.Getenv(shmtest.EnvPython) == "" {
				t.Skipf("the package is installed only where %s is set", shmtest.EnvPython)
			}
			cmd := shmtest.PythonCommand(t, tc.args...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("python %q: %v\n%s", tc.args, err, stderr.Bytes())
			}
			// --version goes on to name the interpreter: "(Python, PATH)".
			if got := strings.TrimSpace(string(out)); got != tc.want && !strings.HasPrefix(got, tc.want+" (Python, ") {
				t.Errorf("python %q printed %q, want %q", tc.args, got, tc.want)
			}
		})
	}
}

package shmtest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// PythonCommand imports the package ndshm from the checkout's python/
// directory by default, and where NDSHM_PYTHON is set (as `make test`
// sets it) from where pip installed it, outside the repository, however
// PYTHONPATH and the working directory try to put the checkout's first.
func TestPythonCommandPackage(t *testing.T) {
	installed := os.Getenv(EnvPython)
	if installed == "" && os.Getenv("CI") != "" {
		t.Fatalf("CI runs the tests through make test, which sets %s", EnvPython)
	}
	src := pythonDir(t)
	repo := filepath.Dir(src)
	for _, tc := range []struct {
		name, python string
		fromCheckout bool
	}{
		{"checkout", "", true},
		{"installed", installed, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "installed" && installed == "" {
				t.Skipf("%s is not set (make test sets it)", EnvPython)
			}
			t.Setenv(EnvPython, tc.python)
			t.Setenv("PYTHONPATH", src)
			cmd := PythonCommand(t, "-c", `import json, sys, ndshm
print(json.dumps({'file': ndshm.__file__, 'prefix': sys.prefix}))`)
			cmd.Dir = src // python/ndshm/ is ./ndshm here: the working directory must not win either
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("%v: %v", cmd.Args, err)
			}
			var got struct{ File, Prefix string }
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("python printed %q: %v", out, err)
			}
			inRepo := strings.HasPrefix(got.File, repo+string(filepath.Separator))
			if tc.fromCheckout {
				if want := filepath.Join(src, "ndshm", "__init__.py"); got.File != want {
					t.Errorf("ndshm imported from %s, want %s", got.File, want)
				}
				return
			}
			if inRepo || !strings.HasPrefix(got.File, got.Prefix+string(filepath.Separator)) {
				t.Errorf("ndshm imported from %s, want it installed under %s, outside %s", got.File, got.Prefix, repo)
			}
		})
	}
}

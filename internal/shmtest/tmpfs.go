package shmtest

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// EnvTmpfs is set, to the mount options, in a test binary that
// InPrivateTmpfs runs.
const EnvTmpfs = "NDSHM_TEST_TMPFS"

// Root skips a test that needs root, or fails it when CI is set (CI runs
// as root).
func Root(t testing.TB, why string) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("CI runs as root, to %s", why)
	}
	t.Skipf("%s needs root", why)
}

// InPrivateTmpfs runs the test named test of this test binary again, as
// root, in a private mount namespace where a tmpfs mounted with options
// (such as "huge=always,size=64m") covers a fresh temporary directory,
// which NDSHM_DIR names; EnvTmpfs is set to options there. The tmpfs
// exists only in that namespace and goes with it: nothing outside
// changes. It fails t with the run's output unless the test ran there
// and passed, and returns that output otherwise.
func InPrivateTmpfs(t *testing.T, test, options string) string {
	t.Helper()
	Root(t, "mount a private tmpfs")
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Fatalf("unshare (util-linux) is needed to mount a private tmpfs: %v", err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cmd := exec.Command(unshare, "-m", "--propagation", "private", "sh", "-c",
		`mount -t tmpfs -o "$1" ndshm-test "$2" && shift 2 && exec "$@"`,
		"sh", options, dir, exe, "-test.run=^"+test+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), "NDSHM_DIR="+dir, EnvTmpfs+"="+options)
	if os.Getenv("GORACE") == "" {
		cmd.Env = append(cmd.Env, "GORACE=atexit_sleep_ms=0")
	}
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: "+test+" ") {
		t.Fatalf("%s in a tmpfs mounted %s: %v\n%s", test, options, err, out)
	}
	return string(out)
}

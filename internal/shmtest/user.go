package shmtest

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"testing"
)

// User makes a throw-away user, with no home directory, for a test of
// what another user can do, and deletes it when the test ends. Making
// users needs root: without it the test is skipped, or fails when CI is
// set (CI runs as root).
func User(t testing.TB) (name string, uid, gid int) {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("CI runs as root, to make a throw-away user")
		}
		t.Skip("making a throw-away user needs root")
	}
	name = fmt.Sprintf("ndshmt%d%d", os.Getpid(), seq.Add(1))
	if out, err := exec.Command("useradd", "-M", "-N", "-s", "/usr/sbin/nologin", name).CombinedOutput(); err != nil {
		t.Fatalf("useradd %s: %v\n%s", name, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("userdel", name).CombinedOutput(); err != nil {
			t.Errorf("userdel %s: %v\n%s", name, err, out)
		}
	})
	u, err := user.Lookup(name)
	if err == nil {
		uid, err = strconv.Atoi(u.Uid)
	}
	if err == nil {
		gid, err = strconv.Atoi(u.Gid)
	}
	if err != nil {
		t.Fatalf("the new user %s: %v", name, err)
	}
	return name, uid, gid
}

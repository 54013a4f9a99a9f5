package server_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"
)

// errNoIsolation is a child's exit status when it could not mount its
// own /dev/shm.
const errNoIsolation = 3

// isolate has cmd run with a /dev/shm of its own, as the role does by
// calling privateShm first: a new mount namespace, and a user namespace
// too when not root (the kernel reduces its mounts to slaves, so nothing
// leaks to ours).
func isolate(cmd *exec.Cmd) {
	if os.Getuid() == 0 {
		// Go makes every mount private in the child before it execs.
		cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
		return
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags: syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS,
		// Root inside, so that the capabilities survive exec.
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}},
	}
}

// privateShm mounts a tmpfs of the given size (mount's "1m" syntax) on
// /dev/shm, in a child that isolate started.
func privateShm(size string) error {
	return syscall.Mount("ndshm-test", "/dev/shm", "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, "size="+size)
}

// runIsolated runs cmd under isolate and returns its error, or skips the
// test (giving the reason) when this system does not allow it.
func runIsolated(t *testing.T, cmd *exec.Cmd) error {
	t.Helper()
	isolate(cmd)
	err := cmd.Run()
	if notIsolated(err) {
		t.Skipf("no private /dev/shm here: %v", err)
	}
	return err
}

// notIsolated reports whether a child under isolate failed for want of
// namespaces or of the right to mount.
func notIsolated(err error) bool {
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode() == errNoIsolation
	}
	// Starting it failed (ENOSPC: the user namespace limit).
	return errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOSPC)
}

// noIsolation ends a role that could not mount its /dev/shm.
func noIsolation(err error) int {
	fmt.Fprintln(os.Stderr, "mount tmpfs on /dev/shm:", err)
	if errors.Is(err, syscall.EPERM) {
		return errNoIsolation
	}
	return 1
}

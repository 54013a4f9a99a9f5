package hosts

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
)

// holdShm is the script of the process that holds a host's mount
// namespace: a copy of the root's, private, so that the tmpfs it mounts
// on /dev/shm is seen by the host's processes only. It says when the
// mount is there, then sleeps until teardown kills it.
const holdShm = `mount -t tmpfs -o mode=1777,nosuid,nodev ndshm-host /dev/shm && echo ready && exec sleep infinity`

// mountShm starts the process that holds the host's private /dev/shm,
// in its network namespace, and waits until the tmpfs is mounted. It
// dies with the process that made it (PR_SET_PDEATHSIG), and so does the
// mount namespace, once the host's other processes are gone too.
func (h *Host) mountShm() error {
	cmd := exec.Command("ip", "netns", "exec", h.Name,
		"unshare", "--mount", "--propagation", "private", "sh", "-c", holdShm)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("hosts: %w", err)
	}
	h.shm = cmd
	// ip, unshare and sh each exec the next: the pid is sleep's.
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "ready\n" {
		cmd.Process.Kill()
		cmd.Wait()
		return fmt.Errorf("hosts: private /dev/shm for %s: %s", h.Name, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// teardown removes the set stem's namespaces (each host's and the hub's)
// with every process in them, then reaps the processes holding the
// hosts' /dev/shm.
func teardown(stem string, s Set) error {
	names, err := namespaces(stem + "-")
	for _, name := range names {
		err = errors.Join(err, removeNamespace(name))
	}
	for _, h := range s {
		if h.shm != nil {
			h.shm.Process.Kill() // already dead unless ip netns pids missed it
			h.shm.Wait()
		}
	}
	return err
}

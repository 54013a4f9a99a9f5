package hosts

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"syscall"
)

// Command returns a command that runs name with args in the host: in its
// network namespace, with its private /dev/shm, and otherwise this
// machine's file system, environment and user. It is exec.CommandContext
// passed through Enter; the caller starts and waits for it, as for any
// exec.Cmd. Processes still running in the host when it is removed are
// killed.
func (h *Host) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	return h.Enter(exec.CommandContext(ctx, name, args...))
}

// Enter makes cmd, not yet started, run in the host (see Command) and
// returns it. It runs through nsenter(1), which joins the host's network
// and mount namespaces and then executes cmd's program in its own
// process, so cmd.Process is the program's own and signals reach it.
// The working directory is cmd.Dir, else this process's. A program named
// /proc/self/exe, as reexec.Command names this one, becomes this
// process's /proc/PID/exe, so that nsenter does not start itself. Unless
// cmd has SysProcAttr, the program is killed when the thread that starts
// it exits (PR_SET_PDEATHSIG), so that a crashed run leaves no process
// behind.
func (h *Host) Enter(cmd *exec.Cmd) *exec.Cmd {
	prog := cmd.Path
	if prog == "/proc/self/exe" {
		prog = "/proc/" + strconv.Itoa(os.Getpid()) + "/exe"
	}
	dir := cmd.Dir
	if dir == "" {
		dir, _ = os.Getwd()
	}
	enter := []string{"nsenter", "--target", strconv.Itoa(h.shm.Process.Pid), "--mount", "--net", "--wd=" + dir, "--", prog}
	path, err := exec.LookPath("nsenter")
	if err != nil {
		cmd.Err = err
		return cmd
	}
	cmd.Path = path
	// The program's argv[0] becomes its path: nsenter passes no other.
	cmd.Args = append(enter, cmd.Args[1:]...)
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	}
	return cmd
}

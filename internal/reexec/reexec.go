// Package reexec runs this program again in a role: the one way ndshm's
// binaries start helper processes of their own (the CLI's pool workers,
// demo and benchmark peers, test peers). A role is named in the child's
// environment, so the child is the same binary, whatever it was installed
// as, and a test binary re-executes itself the same way.
//
// A program lists its roles in one table and calls Main first thing in
// main (a test binary in TestMain), before it parses flags: a child must
// play its role, not run the program.
package reexec

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// roleEnv names the role of a re-executed process.
const roleEnv = "NDSHM_ROLE"

// A Func is a role's body. It gets the arguments after the program name,
// as Command was given them, and returns the process's exit status.
type Func func(args []string) int

// Main runs the role this process was started in, if any, from roles and
// exits with its status; a role missing from roles exits with status 2.
// In a process started normally Main returns at once. The role's name is
// taken out of the environment first, so that the role's own children
// start normally unless they are given a role of their own.
func Main(roles map[string]Func) {
	name := Role()
	if name == "" {
		return
	}
	f, ok := roles[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "%s: unknown role %q\n", os.Args[0], name)
		os.Exit(2)
	}
	os.Unsetenv(roleEnv)
	os.Exit(f(os.Args[1:]))
}

// Role returns the role this process was started in, or "" if none (or
// if Main has already taken it).
func Role() string { return os.Getenv(roleEnv) }

// Command returns a command that runs this program again (/proc/self/exe,
// so that a binary replaced on disk still starts itself) in the role name
// with args. Its environment is this process's plus the role; its
// standard error is this process's. The caller may change both.
func Command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command("/proc/self/exe", args...)
	cmd.Args[0] = os.Args[0]
	cmd.Env = append(os.Environ(), roleEnv+"="+name)
	cmd.Stderr = os.Stderr
	return cmd
}

// Exit reports a role's error as a helper does and returns its exit
// status: 0 for nil, otherwise 1 after printing "PROGRAM ROLE: err" to
// standard error. It adapts roles that return an error to a Func.
func Exit(name string, err error) int {
	if err == nil {
		return 0
	}
	fmt.Fprintf(os.Stderr, "%s %s: %v\n", filepath.Base(os.Args[0]), name, err)
	return 1
}

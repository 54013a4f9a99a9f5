package main

import (
	"fmt"
	"os"
	"os/exec"

	"github.com/ndshm/ndshm/internal/handoff"
	"github.com/ndshm/ndshm/pool"
)

// roleEnv names the part a re-executed ndshm plays. main checks it
// before anything else, so helpers are this same binary, whatever it was
// installed as, and tests can re-execute their own binary the same way.
const roleEnv = "NDSHM_ROLE"

var roles = map[string]func() error{
	"handoff-peer": handoff.ServeFd3,
	"demo-worker":  serveDemo,
	"pool-worker":  pool.Serve,
}

// runRole runs the role named in the environment, if any, and reports
// whether it did; its error goes to stderr and the exit status.
func runRole() (ran bool, code int) {
	name := os.Getenv(roleEnv)
	if name == "" {
		return false, 0
	}
	role, ok := roles[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "ndshm: unknown role %q\n", name)
		return true, 2
	}
	if err := role(); err != nil {
		fmt.Fprintf(os.Stderr, "ndshm %s: %v\n", name, err)
		return true, 1
	}
	return true, 0
}

// helper returns a command that re-executes this binary in role.
func helper(role string) *exec.Cmd {
	cmd := exec.Command("/proc/self/exe")
	cmd.Env = append(os.Environ(), roleEnv+"="+role)
	cmd.Stderr = os.Stderr
	return cmd
}

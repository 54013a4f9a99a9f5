package hosts

import (
	"fmt"
	"os/exec"
	"strings"
)

// ip runs ip(8) with args and returns its output; its error holds what
// ip printed.
func ip(args ...string) (string, error) { return run("ip", args...) }

// run runs an iproute2 tool.
func run(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("hosts: %s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

package reexec_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/ndshm/ndshm/internal/reexec"
)

func TestMain(m *testing.M) {
	reexec.Main(map[string]reexec.Func{
		// echo prints its arguments and the role it sees, and exits 3.
		"echo": func(args []string) int {
			os.Stdout.WriteString(strings.Join(args, " ") + "|" + reexec.Role() + "\n")
			return 3
		},
		// child starts echo itself: a role's own children get their own.
		"child": func(args []string) int {
			out, _ := reexec.Command("echo", "grandchild").Output()
			os.Stdout.Write(out)
			return 0
		},
	})
	os.Exit(m.Run())
}

func TestCommand(t *testing.T) {
	for _, tc := range []struct {
		role string
		args []string
		out  string
		code int
	}{
		{"echo", []string{"a", "-b", "--c"}, "a -b --c|\n", 3},
		{"echo", nil, "|\n", 3},
		{"child", nil, "grandchild|\n", 0},
		{"nonesuch", nil, "", 2},
	} {
		cmd := reexec.Command(tc.role, tc.args...)
		cmd.Stderr = nil
		out, err := cmd.Output()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if string(out) != tc.out || code != tc.code {
			t.Errorf("role %s %q: printed %q, exit %d; want %q, exit %d", tc.role, tc.args, out, code, tc.out, tc.code)
		}
	}
}

func TestNoRole(t *testing.T) {
	if r := reexec.Role(); r != "" {
		t.Errorf("the test process has role %q", r)
	}
}
